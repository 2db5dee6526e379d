"""The TUI through Textual's Pilot: what a user types and sees, with the tiny test model."""

from __future__ import annotations

import html
import io
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from gte_search.hits import SearchHit, inert
from gte_search.query import make_filters
from gte_search.tui import SearchApp, make_app
from gte_search.tui.editor import editor_command, user_editor
from gte_search.tui.preview import (
    HitPathError,
    best_sentences,
    hit_preview,
    resolve_hit_path,
)
from gte_search.tui.results import MARKER
from gte_search.tui.screens import EmptyIndexScreen, HelpScreen
from tests.conftest import build_index

if TYPE_CHECKING:
    from gte_search.embed import Embedder

HOSTILE = (
    "def pwned():\n"
    '    """\x1b]0;owned title\x07 \x1b[2J [bold red]markup[/] \x1b]52;c;Y2xpcA==\x07"""\n'
    "    return '\x1b]8;;http://evil.example\x1b\\\\link\x1b]8;;\x1b\\\\'\n"
)
SIZE = (120, 36)


@pytest.fixture
def indexed(tmp_path: Path, small_repo: Path, tiny_model: Path) -> Path:
    (small_repo / "pkg" / "hostile.py").write_text(HOSTILE)
    index_dir = tmp_path / "index"
    build_index(index_dir, [small_repo], tiny_model)
    return index_dir


def new_app(index_dir: Path, **options: object) -> SearchApp:
    return make_app(index_dir, debounce=0, show_latency=False, **options)  # type: ignore[arg-type]


async def settle(pilot: Pilot) -> None:
    """Wait until the debounce, the model load and the search have all finished."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_query(pilot: Pilot, query: str) -> None:
    pilot.app.query_one("#query", Input).value = query
    await settle(pilot)


async def drawn(pilot: Pilot, shows: Callable[[str], bool]) -> str:
    """The screen's text once `shows` holds for it (or after 5 s): widgets such as the table
    draw on a later refresh, which a loaded machine can delay past `settle`."""
    for _ in range(50):
        text = screen_text(pilot.app)
        if shows(text):
            break
        await pilot.pause(0.1)
    return text


def screen_text(app: SearchApp) -> str:
    """The screen as plain text, from Textual's own SVG export."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def rendered(renderable: object, width: int = 100) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, force_terminal=False).print(renderable)
    return out.getvalue()


async def test_typing_produces_results_and_preview(indexed: Path) -> None:
    app = new_app(indexed)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.model_ready.is_set()
        await type_query(pilot, "compute backoff")
        table = app.query_one("#results", DataTable)
        assert table.row_count == len(app.hits) > 0
        paths = {hit.path for hit in app.hits}
        assert {"pkg/retry.py", "docs/guide.md"} <= paths
        assert "tiny-bert on cpu" in screen_text(app)


async def test_moving_selection_updates_preview(indexed: Path) -> None:
    app = new_app(indexed)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, "backoff")
        first = app.selected_hit()
        assert first is not None
        before = rendered(app.query_one("#preview", Static).render())
        await pilot.press("down")
        await settle(pilot)
        second = app.selected_hit()
        assert second is not None and second != first
        after = rendered(app.query_one("#preview", Static).render())
        assert after != before
        assert f"{second.path}:{second.start_line}-{second.end_line}" in screen_text(app)


@pytest.fixture
def two_roots(tmp_path: Path, tiny_model: Path) -> Path:
    """An index of two roots, `alpha` and `beta`, each with its own `retry.py`."""
    for name in ("alpha", "beta"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "retry.py").write_text(
            f"def {name}_backoff(attempt):\n    return 2**attempt\n"
        )
    build_index(tmp_path / "index", [tmp_path / "alpha", tmp_path / "beta"], tiny_model)
    return tmp_path / "index"


async def test_two_roots_show_which_root_a_path_is_in(
    two_roots: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 15.6: two roots' retry.py both showed as "retry.py:1-2", told apart by nothing.
    monkeypatch.chdir(tmp_path)
    app = new_app(two_roots)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await type_query(pilot, "backoff attempt")
        assert {(Path(hit.root).name, hit.path) for hit in app.hits} == {
            ("alpha", "retry.py"),
            ("beta", "retry.py"),
        }
        rows = [rf"^ .\s?\d\s+\d\.\d+\s*{root} · retry\.py:1-2" for root in ("alpha", "beta")]
        # A row each: rank, score, then root and path.
        text = await drawn(pilot, lambda text: all(re.search(row, text, re.M) for row in rows))
        assert all(re.search(row, text, re.M) for row in rows), text
        hit = app.selected_hit()
        assert hit is not None
        root = Path(hit.root).name
        assert f"{root} · retry.py:1-2  code · python" in screen_text(app)  # the preview title
        await pilot.press("ctrl+y")  # copies what the CLI prints, relative to here
        assert f"copied {root}/retry.py:1" in screen_text(app)
        await type_query(pilot, f"root:{root} path:retry.py backoff")  # the filter form
        assert [Path(hit.root).name for hit in app.hits] == [root]


def test_root_labels_tell_same_named_roots_apart() -> None:
    from gte_search.tui.results import root_labels

    assert root_labels(["/w/click"]) == {}  # one root: paths stay short
    assert root_labels(["/w/click", "/w/flask"]) == {"/w/click": "click", "/w/flask": "flask"}
    assert root_labels(["/a/src", "/b/src", "/c"]) == {
        "/a/src": "a/src",
        "/b/src": "b/src",
        "/c": "c",
    }
    assert root_labels(["/src", "/a/src"]) == {"/src": "src", "/a/src": "a/src"}


def background_at_line(svg: str, start: str) -> str:
    """The background colour drawn at the left edge of the screen line that starts with
    `start`, in a screenshot (one with the screen's own background draws no rectangle)."""
    text = html.unescape(svg).replace("\xa0", " ")
    found = re.search(r'<text [^>]*x="0" y="([\d.]+)"[^>]*>' + re.escape(start), text)
    assert found, f"no line starts with {start!r}"
    y = float(found.group(1))
    rects = re.findall(r'<rect fill="(#[0-9a-f]{6})" x="0" y="([\d.]+)"', text)
    return next((fill for fill, top in rects if y - 24 < float(top) < y), "the screen's own")


async def test_selected_row_is_marked_and_highlighted_while_typing(indexed: Path) -> None:
    # Issue 15.4: focus stays in the search box, so that is where the selection must show.
    app = new_app(indexed)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, "lang:py backoff")
        assert app.focused is app.query_one("#query", Input)
        assert len(app.hits) >= 3
        await drawn(pilot, lambda text: f" {MARKER} 1 " in text)
        svg = app.export_screenshot()
        assert background_at_line(svg, f" {MARKER} 1 ") != background_at_line(svg, "   2 ")
        await pilot.press("down")
        await settle(pilot)
        text = await drawn(pilot, lambda text: f" {MARKER} 2 " in text)
        assert f" {MARKER} 2 " in text and f" {MARKER} 1 " not in text
        svg = app.export_screenshot()
        assert background_at_line(svg, f" {MARKER} 2 ") != background_at_line(svg, "   3 ")


async def test_emacs_and_page_keys_move_the_selection_from_the_search_box(
    many_hits_index: Path,
) -> None:
    # Issue 15.13: ctrl+n, ctrl+p, PageDown and PageUp did nothing in the search box.
    app = new_app(many_hits_index)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_query(pilot, "lang:py retry attempt")
        table = app.query_one("#results", DataTable)
        assert app.focused is app.query_one("#query", Input) and len(app.hits) > 12
        await pilot.press("ctrl+n", "ctrl+n")
        assert table.cursor_row == 2
        await pilot.press("ctrl+p")
        assert table.cursor_row == 1
        await pilot.press("pagedown")
        assert table.cursor_row >= 8
        await pilot.press("pageup")
        assert table.cursor_row == 1
        assert app.focused is app.query_one("#query", Input)


async def test_empty_screens_offer_example_queries(indexed: Path) -> None:
    # Issue 15.13: nothing typed yet, or nothing found: say what to try.
    app = new_app(indexed)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "For example" in text and "how are retries handled" in text
        await type_query(pilot, "path:nowhere/** backoff")
        assert not app.hits
        text = screen_text(app)
        assert "path:nowhere/** matches no indexed file" in text  # the library's reason
        assert "No results." in text and "the filters path:nowhere/**" in text
        assert "how are retries handled" in text
        await type_query(pilot, "backoff")
        assert app.hits


async def test_filters_and_kind_toggle_narrow_results(indexed: Path) -> None:
    app = new_app(indexed)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, "install package")
        kinds = {hit.kind for hit in app.hits}
        assert kinds == {"code", "doc"}
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert app.hits and {hit.kind for hit in app.hits} == {"code"}
        assert "showing code" in screen_text(app)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert app.hits and {hit.kind for hit in app.hits} == {"doc"}
        await pilot.press("ctrl+t")
        await type_query(pilot, "lang:py path:pkg/retry.py install")
        assert app.hits and {hit.path for hit in app.hits} == {"pkg/retry.py"}
        text = screen_text(app)
        assert "filters lang:python path:pkg/retry.py" in text
        assert "showing all" in text


def fake_editor(tmp_path: Path, name: str, body: str = "#!/bin/sh\nexit 0\n") -> Path:
    """An executable called `name` on a folder of its own, to put on PATH."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(body)
    (folder / name).chmod(0o755)
    return folder


class RecordingSuspend:
    """Stands in for `App.suspend` (headless drivers cannot suspend) and behaves like
    Textual's: an exception inside the block leaves the app suspended for good."""

    def __init__(self) -> None:
        self.suspended = False
        self.times = 0

    @contextmanager
    def __call__(self) -> Iterator[None]:
        self.suspended = True
        self.times += 1
        yield
        self.suspended = False


async def test_enter_opens_editor_at_line(
    indexed: Path, small_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    monkeypatch.setenv("PATH", str(fake_editor(tmp_path, "code")), prepend=os.pathsep)
    monkeypatch.setenv("VISUAL", "code --wait")
    monkeypatch.setattr(
        "gte_search.tui.editor.subprocess.run", lambda command, **_: calls.append(command)
    )
    app = new_app(indexed)
    async with app.run_test(size=SIZE) as pilot:
        monkeypatch.setattr(app, "suspend", RecordingSuspend())
        await type_query(pilot, "lang:py backoff")
        hit = app.selected_hit()
        assert hit is not None
        await pilot.press("enter")
        await pilot.pause()
    expected = f"{(small_repo / hit.path).resolve()}:{hit.start_line}"
    assert calls == [["code", "--wait", "-g", expected]]


async def test_editor_that_cannot_start_leaves_a_working_tui(
    indexed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 15.1: a missing editor, or one the system cannot execute, hung the TUI for good.
    bad = fake_editor(tmp_path, "badedit", "not a program\n")
    monkeypatch.setenv("PATH", str(bad), prepend=os.pathsep)
    monkeypatch.delenv("VISUAL", raising=False)
    app = new_app(indexed)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        suspend = RecordingSuspend()
        monkeypatch.setattr(app, "suspend", suspend)
        await type_query(pilot, "lang:py backoff")
        for editor, notice in (
            ("vimm", "cannot run vimm: not found"),
            ("badedit", "cannot run badedit: Exec format error"),
        ):
            monkeypatch.setenv("EDITOR", editor)
            await pilot.press("enter")
            await pilot.pause()
            assert not suspend.suspended
            assert notice in screen_text(app)
        assert suspend.times == 1  # "vimm" was found missing before the terminal was handed over
        await type_query(pilot, "install package")  # still searching
        assert {hit.kind for hit in app.hits} == {"code", "doc"}


async def test_enter_on_a_deleted_file_says_so(
    indexed: Path, small_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    monkeypatch.setenv("PATH", str(fake_editor(tmp_path, "vi")), prepend=os.pathsep)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.setattr(
        "gte_search.tui.editor.subprocess.run", lambda command, **_: calls.append(command)
    )
    app = new_app(indexed)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        monkeypatch.setattr(app, "suspend", RecordingSuspend())
        await type_query(pilot, "path:pkg/retry.py backoff")
        (small_repo / "pkg" / "retry.py").unlink()
        await pilot.press("enter")
        await pilot.pause()
        assert "no longer exists" in screen_text(app)
    assert calls == []


def test_editor_command_lines() -> None:
    path = Path("/src/a b.py")
    assert editor_command(["vim"], path, 7) == ["vim", "+7", "/src/a b.py"]
    assert editor_command(["/usr/bin/nvim"], path, 7) == ["/usr/bin/nvim", "+7", "/src/a b.py"]
    assert editor_command(["emacsclient", "-t"], path, 3) == ["emacsclient", "-t", "+3", str(path)]
    assert editor_command(["nano"], path, 1) == ["nano", "+1", str(path)]
    assert editor_command(["micro"], path, 2) == ["micro", "+2", str(path)]
    assert editor_command(["hx"], path, 9) == ["hx", "/src/a b.py:9"]
    assert editor_command(["subl"], path, 9) == ["subl", "/src/a b.py:9"]
    assert editor_command(["code"], path, 9) == ["code", "-g", "/src/a b.py:9"]
    assert editor_command(["mystery-editor"], path, 9) == ["mystery-editor", "/src/a b.py"]
    assert user_editor({"VISUAL": "code --wait", "EDITOR": "vim"}) == ["code", "--wait"]
    assert user_editor({"EDITOR": "nano"}) == ["nano"]
    assert user_editor({}) == ["vi"]


def test_editor_paths_must_stay_inside_their_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("x")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")

    def hit(path: str) -> SearchHit:
        return SearchHit(path, str(root), 1, 1, 0.5, "code", "text", None, "x")

    assert resolve_hit_path(hit("a.txt")) == (root / "a.txt").resolve()
    for outside in ("../secret.txt", "link.txt", "/etc/passwd"):
        with pytest.raises(HitPathError):
            resolve_hit_path(hit(outside))


async def test_empty_index_screen_and_index_now(
    tmp_path: Path, small_repo: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = new_app(tmp_path / "no-index", model=str(tiny_model))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, EmptyIndexScreen)
        text = screen_text(app)
        assert "gte-search index PATH" in text and "Nothing indexed yet" in text
        app.screen.query_one("#index-path", Input).value = "nowhere"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EmptyIndexScreen)
        assert "is not a folder" in screen_text(app)
        app.screen.query_one("#index-path", Input).value = str(small_repo)
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, EmptyIndexScreen)
        assert app.model_ready.is_set()
        await type_query(pilot, "backoff")
        assert app.hits


async def test_hostile_content_is_inert(indexed: Path) -> None:
    app = new_app(indexed)
    async with app.run_test(size=(200, 30)) as pilot:
        await type_query(pilot, "path:pkg/hostile.py pwned")
        hit = app.selected_hit()
        assert hit is not None and hit.path == "pkg/hostile.py"
        text = screen_text(app)
        assert "[bold red]markup[/]" in text
        assert "\\x1b]0;owned title\\x07" in text
        assert "\x1b" not in text and "\x07" not in text
        preview = rendered(hit_preview(hit, "pwned").body)
        assert "\x1b" not in preview and "[bold red]markup[/]" in preview


def test_inert_text_and_best_sentences() -> None:
    assert inert("a\x1b[2Jb\tc\nd\u202e", multiline=True) == "a\\x1b[2Jb\tc\nd\\u202e"
    assert inert("a\nb") == "a\\x0ab"
    paragraph = (
        "The package lives on PyPI. Run pip install pkg to install it. Nothing else is needed."
    )
    assert best_sentences(paragraph, "how do I install the package")[0] == (
        "Run pip install pkg to install it."
    )
    assert best_sentences(paragraph, "zebra") == []


def test_answer_lines_show_text_not_markup() -> None:
    # Issue 15.13: the answer lines showed raw reStructuredText (``Name``, * bullets).
    paragraph = (
        "Contexts\n========\n\n"
        "* Use ``Context.invoke`` to call a command from another command.\n"
        "* The :class:`Context` holds the state; see `the docs <https://x.example>`_.\n"
        "1. A *nested* command gets its own **child** context.\n"
    )
    hit = SearchHit("docs/api.rst", "/nowhere", 1, 6, 0.5, "doc", "rst", "Contexts", paragraph)
    shown = rendered(hit_preview(hit, "invoke a command context nested child docs").body)
    answers = [line for line in shown.splitlines() if line.startswith("▌")]
    assert answers, shown
    for line in answers:
        assert not re.search(r"``|:class:|<https|\*|`_", line), line
        assert not line.startswith(("▌ *", "▌ 1."))
    assert "▌ Use Context.invoke to call a command from another command." in answers


async def test_question_mark_shows_keys(indexed: Path) -> None:
    app = new_app(indexed)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.query_one("#results", DataTable).focus()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "ctrl+t" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


def test_tui_help_imports_neither_torch_nor_textual() -> None:
    probe = (
        "import sys\nfrom gte_search.cli import main\n"
        "try:\n    main(['tui', '--help'])\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules, 'textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "--index" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "False False"


async def test_reindex_picks_up_new_files_while_search_works(
    indexed: Path, small_repo: Path
) -> None:
    app = new_app(indexed)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, "backoff")
        before = app.status_info
        assert before is not None
        (small_repo / "pkg" / "cookies.py").write_text("def parse_cookie(header):\n    pass\n")
        await pilot.press("ctrl+r")
        await type_query(pilot, "parse cookie")  # searching goes on meanwhile
        await settle(pilot)
        assert not app.indexing
        assert app.status_info is not None and app.status_info.files == before.files + 1
        await type_query(pilot, "parse cookie header")
        assert "pkg/cookies.py" in {hit.path for hit in app.hits}


async def test_status_follows_an_indexer_in_a_shell_and_ctrl_r_waits_for_it(
    indexed: Path, small_repo: Path, tiny_model: Path
) -> None:
    # Issue 15.13: the status line kept the old counts after `gte-search index` in another
    # shell finished, and ctrl+r meanwhile told a TUI user to "rerun with --wait".
    import asyncio

    from gte_search.lock import IndexLock

    app = new_app(indexed, watch_seconds=0.1)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await type_query(pilot, "backoff")
        before = app.status_info
        assert before is not None
        lock = IndexLock(indexed)
        lock.acquire()  # as `gte-search index` does
        try:
            await pilot.press("ctrl+r")
            await settle(pilot)
            text = screen_text(app)
            assert "another gte-search is indexing" in text and "--wait" not in text
        finally:
            lock.release()
        (small_repo / "pkg" / "cookies.py").write_text("def parse_cookie(header):\n    pass\n")
        await asyncio.to_thread(build_index, indexed, [small_repo], tiny_model)
        for _ in range(50):
            await pilot.pause(0.1)
            if f"{before.files + 1} files" in screen_text(app):
                break
        assert f"{before.files + 1} files" in screen_text(app)
        await type_query(pilot, "parse cookie header")
        assert "pkg/cookies.py" in {hit.path for hit in app.hits}


async def test_an_idle_tui_keeps_the_selection_where_the_user_moved_it(indexed: Path) -> None:
    # The index watcher compared the index folder's files, which the TUI's own reads change
    # (SQLite's -wal and -shm): it reopened the index and searched again at every tick, and
    # each new search put the selection back on the first row.
    import asyncio

    app = new_app(indexed, watch_seconds=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, "compute backoff")
        assert len(app.hits) >= 3
        table = app.query_one("#results", DataTable)
        await pilot.press("down", "down")
        assert table.cursor_row == 2
        await asyncio.sleep(1.0)  # ten ticks of the watcher
        await settle(pilot)
        assert table.cursor_row == 2


async def test_the_index_changing_behind_the_help_screen_keeps_the_tui_working(
    indexed: Path, small_repo: Path, tiny_model: Path
) -> None:
    # The watcher reopens the index and searches again while the help screen is on top:
    # that work must reach the main screen's widgets, not look for them on the help screen.
    import asyncio

    app = new_app(indexed, watch_seconds=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, "parse cookie header")
        before = app.status_info
        assert before is not None
        app.query_one("#results", DataTable).focus()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        (small_repo / "pkg" / "cookies.py").write_text("def parse_cookie(header):\n    pass\n")
        await asyncio.to_thread(build_index, indexed, [small_repo], tiny_model)
        for _ in range(50):
            await pilot.pause(0.1)
            if app.status_info is not None and app.status_info.files == before.files + 1:
                break
        await settle(pilot)
        assert app.status_info is not None and app.status_info.files == before.files + 1
        assert isinstance(app.screen, HelpScreen) and app.is_running
        assert "pkg/cookies.py" in {hit.path for hit in app.hits}  # searched again meanwhile
        await pilot.press("escape")
        assert f"{before.files + 1} files" in await drawn(pilot, lambda t: "cookies.py" in t)


# Appearance. Snapshots live in tests/__snapshots__/test_tui/; after an intended change of
# look, review and refresh them with: python -m pytest tests/test_tui.py --snapshot-update


def snapshot_app(index_dir: Path) -> SearchApp:
    # Latency varies from run to run, so snapshots leave it out (new_app: show_latency=False).
    return new_app(index_dir)


@pytest.fixture
def plain_index(tmp_path: Path, small_repo: Path, tiny_model: Path) -> Path:
    build_index(tmp_path / "index", [small_repo], tiny_model)
    return tmp_path / "index"


def test_snapshot_main_screen_with_results(plain_index: Path, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await type_query(pilot, "lang:py compute backoff")
        app = pilot.app
        assert isinstance(app, SearchApp)
        symbols = [hit.symbol for hit in app.hits]
        await pilot.press(*["down"] * symbols.index("compute_backoff"))
        await settle(pilot)

    assert snap_compare(snapshot_app(plain_index), terminal_size=SIZE, run_before=run_before)


def test_snapshot_doc_hit(plain_index: Path, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await type_query(pilot, "kind:doc how do I install the package")

    assert snap_compare(snapshot_app(plain_index), terminal_size=SIZE, run_before=run_before)


def test_snapshot_no_color(
    plain_index: Path, monkeypatch: pytest.MonkeyPatch, snap_compare
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")

    async def run_before(pilot: Pilot) -> None:
        await type_query(pilot, "compute backoff")
        await pilot.press("down")
        await settle(pilot)

    assert snap_compare(snapshot_app(plain_index), terminal_size=SIZE, run_before=run_before)


@pytest.fixture
def many_hits_index(tmp_path: Path, small_repo: Path, tiny_model: Path) -> Path:
    """small_repo with 16 more retry helpers, one with a long name: many hits for "retry"."""
    for number in range(16):
        name = f"retry_helper_{number}" if number else "retry_with_a_name_far_too_long_to_fit"
        (small_repo / "pkg" / f"helper_{number:02}.py").write_text(
            f"def {name}(attempt):\n    return attempt * {number}\n"
        )
    build_index(tmp_path / "index", [small_repo], tiny_model)
    return tmp_path / "index"


def result_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"^ .\s?\d+  \S+:\d+-\d+", line)]


async def test_small_terminals_keep_results_columns_and_status(many_hits_index: Path) -> None:
    # Issue 15.5: at 80x24 only 4 result rows showed, the kind column was off-screen and the
    # status lost the model; at 50x12 no result row showed and the help box was clipped.
    app = new_app(many_hits_index)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_query(pilot, "lang:py retry attempt")
        text = await drawn(pilot, lambda t: len(result_rows(t)) >= 9 and "◆ python" in t)
        assert len(result_rows(text)) >= 9, text
        assert "◆ python" in text and "tiny-bert on cpu" in text
        await type_query(pilot, "retry_with_a_name_far_too_long_to_fit")
        text = await drawn(pilot, lambda t: "retry_with_a_name_far_to…" in t)
        assert "retry_with_a_name_far_to…" in text  # cut, and says so
        await type_query(pilot, "lang:py retry attempt")
        await pilot.resize_terminal(50, 12)
        await settle(pilot)
        text = await drawn(pilot, lambda t: len(result_rows(t)) >= 5)
        assert len(result_rows(text)) >= 5, text
        assert "tiny-bert on cpu" in text
        app.query_one("#results", DataTable).focus()
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(app)
        assert "lang:go" in text and "path:internal/* kind:doc" in text  # wrapped, not cut


def test_snapshot_80x24(many_hits_index: Path, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await type_query(pilot, "lang:py retry attempt")

    app = snapshot_app(many_hits_index)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_snapshot_50x12(many_hits_index: Path, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await type_query(pilot, "lang:py retry attempt")

    app = snapshot_app(many_hits_index)
    assert snap_compare(app, terminal_size=(50, 12), run_before=run_before)


def test_snapshot_empty_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare
) -> None:
    monkeypatch.chdir(tmp_path)  # the screen names the index folder as given: "no-index"

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)

    app = snapshot_app(Path("no-index"))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def test_no_color_draws_in_the_terminal_default_colours(
    indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 15.2: NO_COLOR drew every text black on a black background.
    monkeypatch.setenv("NO_COLOR", "1")
    app = new_app(indexed)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, "backoff")
        assert app.hits
        svg = app.export_screenshot()
    # The text colours drawn: the terminal's default foreground (#c5c8c6) and background
    # (#292929, for reverse video), and dim blends of the two; never black nor any colour.
    fills = set(re.findall(r"\.terminal-\d+-r\d+ \{ fill: (#[0-9a-f]{6})", svg))
    assert "#c5c8c6" in fills and fills <= {"#c5c8c6", "#292929", "#868887", "#676867"}


def test_no_arguments_outside_a_terminal_prints_help() -> None:
    from click.testing import CliRunner

    from gte_search.cli import main

    result = CliRunner().invoke(main, [])
    assert result.exit_code == 0
    assert "tui" in result.output and "Search interactively" in result.output


async def test_searches_go_to_a_running_service_and_fall_back_when_it_dies(
    indexed: Path, tmp_path: Path, embedder: Embedder
) -> None:
    # Issue 14: the TUI, like `search`, uses the index's service when one runs: no model is
    # loaded in the TUI; when the service dies the TUI loads it and searches on, unchanged.
    from gte_search.index import SearchIndex
    from gte_search.tui.app import RESULTS
    from gte_search.tui.backend import load_embedder
    from tests.conftest import start_service, stop

    def expected(query: str) -> list[SearchHit]:
        with SearchIndex.open(indexed) as index:
            return index.search(query, embedder, RESULTS, make_filters())

    loaded: list[str] = []

    def loader(model_id: str, named_by_user: bool) -> Embedder:
        loaded.append(model_id)
        return load_embedder(model_id, named_by_user)

    service = start_service(indexed, "--no-watch", log=tmp_path / "serve.log", watch=False)
    try:
        app = new_app(indexed, loader=loader)
        async with app.run_test(size=SIZE) as pilot:
            await type_query(pilot, "compute backoff")
            assert app.hits == expected("compute backoff")
            assert loaded == [] and app.searcher.embedder is None
            assert "tiny-bert in gte-search serve" in screen_text(app)
            await type_query(pilot, "path:nowhere/** backoff")  # the service's reason shows
            assert not app.hits and "path:nowhere/** matches no indexed file" in screen_text(app)
            stop(service, signal.SIGKILL)  # leaves its socket behind
            await type_query(pilot, "install package")
            assert app.hits == expected("install package")
            assert len(loaded) == 1 and app.searcher.embedder is not None
            assert "tiny-bert on cpu" in screen_text(app)
    finally:
        stop(service, signal.SIGKILL)
