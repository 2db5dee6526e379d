"""Source files become one chunk per definition, with qualified names and exact lines."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from tokenizers import Tokenizer

from indexer import Chunk, chunk_file, language_for
from indexer.code import chunk_code
from indexer.windows import chunk_lines
from tests.conftest import SAMPLE_REPOS

PYTHON = '''\
"""Task storage."""

import json
from functools import cache
from pathlib import Path

DEFAULT = Path("tasks.json")


# Load the tasks from disk.
@cache
def load(path: Path = DEFAULT) -> list[dict]:
    return json.loads(path.read_text())


class TaskStore:
    """Keeps tasks in memory."""

    limit = 100

    def __init__(self) -> None:
        self.tasks: list[dict] = []

    @property
    def count(self) -> int:
        return len(self.tasks)

    async def add(self, task: dict) -> None:
        self.tasks.append(task)


if __name__ == "__main__":
    print(load())
'''

JAVASCRIPT = """\
import { readFile } from "node:fs/promises";

const RETRIES = 3;

/** Fetch JSON, retrying on network errors. */
export async function fetchJson(url) {
  const res = await fetch(url);
  return res.json();
}

export const parse = (text) => JSON.parse(text);

class Cache {
  items = new Map();

  get(key) {
    return this.items.get(key);
  }

  set(key, value) {
    this.items.set(key, value);
  }
}

module.exports = { fetchJson, parse, Cache };
"""

TYPESCRIPT = """\
import { Task } from "./types";

export interface NewTask {
  title: string;
  due?: number;
}

export type TaskId = string;

export enum Priority {
  Low,
  High,
}

export class TaskStore {
  private tasks: Task[] = [];

  add(input: NewTask): Task {
    const task = { ...input, id: String(this.tasks.length) };
    this.tasks.push(task);
    return task;
  }

  get(id: TaskId): Task | undefined {
    return this.tasks.find((t) => t.id === id);
  }
}

export const byTitle = (a: Task, b: Task): number => a.title.localeCompare(b.title);
"""

TSX = """\
import { useState } from "react";

interface RowProps {
  title: string;
}

export function Row({ title }: RowProps) {
  return <li className="row">{title}</li>;
}

export const List = ({ items }: { items: string[] }) => {
  const [open, setOpen] = useState(true);
  return <ul onClick={() => setOpen(!open)}>{items.map((t) => <Row title={t} />)}</ul>;
};
"""

GO = """\
package store

import (
    "errors"
    "sync"
)

// ErrMissing is returned for unknown keys.
var ErrMissing = errors.New("missing")

// Store is a concurrency-safe map.
type Store struct {
    mu sync.Mutex
    m  map[string]int
}

// NewStore returns an empty store.
func NewStore() *Store {
    return &Store{m: map[string]int{}}
}

// Get returns the value for key.
func (s *Store) Get(key string) (int, error) {
    s.mu.Lock()
    defer s.mu.Unlock()
    v, ok := s.m[key]
    if !ok {
        return 0, ErrMissing
    }
    return v, nil
}
"""

RUST = """\
use std::fmt;

/// A stack of items.
#[derive(Debug, Default)]
pub struct Stack<T> {
    items: Vec<T>,
}

impl<T> Stack<T> {
    pub fn push(&mut self, item: T) {
        self.items.push(item);
    }

    pub fn pop(&mut self) -> Option<T> {
        self.items.pop()
    }
}

impl<T: fmt::Debug> fmt::Display for Stack<T> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{:?}", self.items)
    }
}

pub trait Shape {
    fn area(&self) -> f64;
}

fn main() {
    let mut s: Stack<i32> = Stack::default();
    s.push(1);
}
"""

JAVA = """\
package com.example.tasks;

import java.util.ArrayList;
import java.util.List;

/** Stores tasks in memory. */
public class TaskRepository {
    private final List<String> tasks = new ArrayList<>();

    public TaskRepository() {
        tasks.add("first");
    }

    /** Adds a task. */
    @Override
    public void add(String task) {
        tasks.add(task);
    }

    public int size() {
        return tasks.size();
    }
}

interface Repository {
    void add(String task);
}

enum Status { OPEN, DONE }

record Pair(String key, int value) {}
"""

C = """\
#include <stdlib.h>
#include <string.h>

#define MAX_NAME 64

struct point {
    int x;
    int y;
};

typedef struct {
    char name[MAX_NAME];
    struct point pos;
} Player;

/* Allocate a player at the origin. */
static Player *player_new(const char *name) {
    Player *p = calloc(1, sizeof(Player));
    strncpy(p->name, name, MAX_NAME - 1);
    return p;
}

int player_distance(const Player *a, const Player *b) {
    return abs(a->pos.x - b->pos.x) + abs(a->pos.y - b->pos.y);
}
"""

CPP = """\
#include <string>
#include <vector>

namespace net {

class Client {
 public:
  explicit Client(std::string host) : host_(std::move(host)) {}

  int send(const std::string& body);

 private:
  std::string host_;
};

int Client::send(const std::string& body) {
  return static_cast<int>(body.size());
}

template <typename T>
T clamp(T v, T lo, T hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

}  // namespace net
"""

RUBY = """\
require "json"

module Shop
  # A shopping cart.
  class Cart
    attr_reader :items

    def initialize
      @items = []
    end

    def add(item)
      @items << item
      self
    end

    def self.load(path)
      new.tap { |c| JSON.parse(File.read(path)).each { |i| c.add(i) } }
    end
  end
end
"""

SNIPPETS = {
    "src/store.py": PYTHON,
    "web/fetch.js": JAVASCRIPT,
    "src/store.ts": TYPESCRIPT,
    "src/List.tsx": TSX,
    "store/store.go": GO,
    "src/stack.rs": RUST,
    "src/TaskRepository.java": JAVA,
    "src/player.c": C,
    "src/net.cpp": CPP,
    "lib/cart.rb": RUBY,
}

# At the full budget every definition here fits: one chunk each, comments/decorators and
# attributes included, the code between definitions in symbol-less chunks.
WHOLE_DEFINITIONS = {
    "src/store.py": [(None, 1, 7), ("load", 10, 13), ("TaskStore", 16, 29), (None, 32, 33)],
    "web/fetch.js": [
        (None, 1, 3),
        ("fetchJson", 5, 9),
        ("parse", 11, 11),
        ("Cache", 13, 23),
        (None, 25, 25),
    ],
    "src/store.ts": [
        (None, 1, 1),
        ("NewTask", 3, 6),
        ("TaskId", 8, 8),
        ("Priority", 10, 13),
        ("TaskStore", 15, 27),
        ("byTitle", 29, 29),
    ],
    "src/List.tsx": [(None, 1, 1), ("RowProps", 3, 5), ("Row", 7, 9), ("List", 11, 14)],
    "store/store.go": [
        (None, 1, 9),
        ("Store", 11, 15),
        ("NewStore", 17, 20),
        ("Store.Get", 22, 31),
    ],
    "src/stack.rs": [
        (None, 1, 1),
        ("Stack", 3, 7),
        ("Stack", 9, 17),
        ("Stack", 19, 23),
        ("Shape", 25, 27),
        ("main", 29, 32),
    ],
    "src/TaskRepository.java": [
        (None, 1, 4),
        ("TaskRepository", 6, 23),
        ("Repository", 25, 27),
        ("Status", 29, 29),
        ("Pair", 31, 31),
    ],
    "src/player.c": [
        (None, 1, 4),
        ("point", 6, 9),
        ("Player", 11, 14),
        ("player_new", 16, 21),
        ("player_distance", 23, 25),
    ],
    "src/net.cpp": [(None, 1, 2), ("net", 4, 25)],
    "lib/cart.rb": [(None, 1, 1), ("Shop", 3, 21)],
}

# With a budget too small for any container, members get `Container.member` chunks.
# First and last line of each symbol's chunks (a member may be cut into pieces).
MEMBERS = {
    "src/store.py": {
        "load": (10, 13),
        "TaskStore": (16, 19),
        "TaskStore.__init__": (21, 22),
        "TaskStore.count": (24, 26),
        "TaskStore.add": (28, 29),
    },
    "web/fetch.js": {
        "fetchJson": (5, 9),
        "parse": (11, 11),
        "Cache": (13, 14),
        "Cache.get": (16, 18),
        "Cache.set": (20, 23),
    },
    "src/store.ts": {
        "NewTask": (3, 6),
        "TaskId": (8, 8),
        "Priority": (10, 13),
        "TaskStore": (15, 16),
        "TaskStore.add": (18, 22),
        "TaskStore.get": (24, 27),
        "byTitle": (29, 29),
    },
    "src/List.tsx": {"RowProps": (3, 5), "Row": (7, 9), "List": (11, 14)},
    "store/store.go": {"Store": (11, 15), "NewStore": (17, 20), "Store.Get": (22, 31)},
    "src/stack.rs": {
        "Stack": (3, 19),
        "Stack.push": (9, 12),  # `impl<T> Stack<T> {` alone opens its first method's chunk
        "Stack.pop": (14, 17),
        "Stack.fmt": (20, 23),
        "Shape": (25, 27),
        "main": (29, 32),
    },
    "src/TaskRepository.java": {
        "TaskRepository": (6, 8),
        "TaskRepository.TaskRepository": (10, 12),
        "TaskRepository.add": (14, 18),
        "TaskRepository.size": (20, 23),
        "Repository": (25, 27),
        "Status": (29, 29),
        "Pair": (31, 31),
    },
    "src/player.c": {
        "point": (6, 9),
        "Player": (11, 14),
        "player_new": (16, 21),
        "player_distance": (23, 25),
    },
    "src/net.cpp": {
        "net": (25, 25),
        "net.Client": (4, 14),  # `namespace net {` alone opens its first member's chunk
        "net.Client.Client": (8, 8),
        "net.Client.send": (16, 18),
        "net.clamp": (20, 23),
    },
    "lib/cart.rb": {
        "Shop": (3, 4),
        "Shop.Cart": (5, 6),
        "Shop.Cart.initialize": (8, 10),
        "Shop.Cart.add": (12, 15),
        "Shop.Cart.load": (17, 21),
    },
}


@pytest.fixture(scope="module")
def real_tokens(wordpiece: Tokenizer) -> Callable[[str], int]:
    """Token count of the real tokenizer, [CLS] and [SEP] included."""
    return lambda text: len(wordpiece.encode(text).ids)


def spans(chunks: list[Chunk]) -> list[tuple[str | None, int, int]]:
    return [(c.symbol, c.start_line, c.end_line) for c in chunks]


def symbol_extents(chunks: list[Chunk]) -> dict[str, tuple[int, int]]:
    extents: dict[str, tuple[int, int]] = {}
    for chunk in chunks:
        if chunk.symbol is None:
            continue
        first, last = extents.get(chunk.symbol, (chunk.start_line, chunk.end_line))
        extents[chunk.symbol] = (min(first, chunk.start_line), max(last, chunk.end_line))
    return extents


def assert_faithful(chunks: list[Chunk], text: str) -> None:
    """Chunks are in order, do not overlap, quote the file exactly and miss no code line."""
    rows = text.split("\n")
    for chunk in chunks:
        assert chunk.text == "\n".join(rows[chunk.start_line - 1 : chunk.end_line])
        assert chunk.text.strip()
    for before, after in itertools.pairwise(chunks):
        assert before.end_line < after.start_line
    covered = {n for c in chunks for n in range(c.start_line, c.end_line + 1)}
    assert [n for n, row in enumerate(rows, 1) if row.strip() and n not in covered] == []


@pytest.mark.parametrize("path", SNIPPETS)
def test_each_definition_is_one_chunk_with_exact_lines(path: str) -> None:
    chunks = chunk_file(path, SNIPPETS[path])

    assert spans(chunks) == WHOLE_DEFINITIONS[path]
    assert {(c.kind, c.language) for c in chunks} == {("code", language_for(path))}
    assert_faithful(chunks, SNIPPETS[path])


@pytest.mark.parametrize("path", SNIPPETS)
def test_members_of_containers_too_big_for_the_budget_get_qualified_names(path: str) -> None:
    chunks = chunk_file(path, SNIPPETS[path], max_tokens=80)

    assert symbol_extents(chunks) == MEMBERS[path]
    assert_faithful(chunks, SNIPPETS[path])


@pytest.mark.parametrize("max_tokens", [512, 128, 80])
@pytest.mark.parametrize("path", SNIPPETS)
def test_every_chunk_fits_the_real_tokenizer(
    path: str, max_tokens: int, real_tokens: Callable[[str], int]
) -> None:
    chunks = chunk_file(path, SNIPPETS[path], max_tokens=max_tokens)

    assert [c.start_line for c in chunks if real_tokens(c.embedding_text) > max_tokens] == []


@pytest.mark.parametrize(
    ("path", "text", "symbol"),
    [
        (
            "box.cpp",
            "bool operator==(const Box<int>& a, const Box<int>& b) { return true; }",
            "operator==",
        ),
        ("box.cpp", "template <typename T>\nT Box<T>::get() const {\n  return v;\n}", "Box.get"),
        ("box.cpp", "Box::~Box() {}", "Box.~Box"),
        ("set.go", "package set\n\nfunc (s *Set[K]) Add(k K) {\n}", "Set.Add"),
        ("cb.h", "typedef int (*callback_t)(int);", "callback_t"),
        # A function-like macro is asked for by name like a function (cJSON_ArrayForEach).
        (
            "cJSON.h",
            "#define cJSON_ArrayForEach(e, a) for (e = a; e; e = e->next)",
            "cJSON_ArrayForEach",
        ),
        ("compile.h", "#define FMT_COMPILE(s) FMT_STRING_IMPL(s, explicit)", "FMT_COMPILE"),
        ("bar.rb", "class Foo::Bar\n  X = 1\nend", "Foo.Bar"),
        ("lib.rs", "impl<T: Clone> From<Vec<T>> for Stack<T> {\n}", "Stack"),
    ],
)
def test_names_drop_generics_pointers_and_scope_operators(
    path: str, text: str, symbol: str
) -> None:
    assert symbol in {c.symbol for c in chunk_file(path, text)}


def big_class(methods: int) -> str:
    header = [
        "class Inventory:",
        '    """Counts items per warehouse and reorders them when they run low."""',
        "",
        "    reorder_level = 10",
        "    warehouses: dict[str, dict[str, int]]",
        "",
    ]
    body = []
    for i in range(methods):
        body += [
            f"    def restock_{i}(self, warehouse: str, item: str, amount: int) -> int:",
            f'        """Add `amount` of `item` to `warehouse` (variant {i})."""',
            "        stock = self.warehouses.setdefault(warehouse, {})",
            "        stock[item] = stock.get(item, 0) + amount",
            "        if stock[item] < self.reorder_level:",
            "            self.reorder(warehouse, item)",
            "        return stock[item]",
            "",
        ]
    return "\n".join(["import logging", "", "", *header, *body])


def test_a_big_class_is_a_header_chunk_plus_one_chunk_per_method(
    real_tokens: Callable[[str], int],
) -> None:
    text = big_class(30)
    chunks = chunk_file("inventory.py", text)

    assert spans(chunks)[:4] == [
        (None, 1, 1),
        ("Inventory", 4, 8),  # signature, docstring, class attributes
        ("Inventory.restock_0", 10, 16),
        ("Inventory.restock_1", 18, 24),
    ]
    assert "reorder_level = 10" in chunks[1].text
    assert [c.symbol for c in chunks[2:]] == [f"Inventory.restock_{i}" for i in range(30)]
    assert all(real_tokens(c.embedding_text) <= 512 for c in chunks)
    assert_faithful(chunks, text)


def test_a_class_that_fits_the_budget_stays_whole() -> None:
    text = big_class(2)
    assert spans(chunk_file("inventory.py", text)) == [(None, 1, 1), ("Inventory", 4, 24)]


def long_function() -> str:
    lines = ["def build_report(rows, totals):", '    """Summarise every metric."""']
    for i in range(120):
        lines += [
            f'    totals["metric_{i}"] = sum(row.get("metric_{i}", 0) for row in rows)',
            f"    if totals['metric_{i}'] > {i * 10}:",
            f'        log.warning("metric_{i} is high: %s", totals["metric_{i}"])',
        ]
    lines.append("    return totals")
    return "\n".join(["import logging", "", "log = logging.getLogger(__name__)", "", *lines])


def test_an_oversized_function_is_cut_at_statements_into_pieces_under_budget(
    real_tokens: Callable[[str], int],
) -> None:
    text = long_function()
    rows = text.split("\n")
    pieces = [c for c in chunk_file("report.py", text) if c.symbol == "build_report"]

    assert len(pieces) > 3
    assert all(real_tokens(p.embedding_text) <= 512 for p in pieces)
    assert pieces[0].start_line == 5
    assert pieces[-1].end_line == len(rows)
    for before, after in itertools.pairwise(pieces):
        assert after.start_line == before.end_line + 1
        # Each piece starts a statement of the body, never inside an `if` block.
        first = rows[after.start_line - 1]
        assert first.startswith("    ")
        assert not first.startswith("     ")


def test_one_giant_statement_is_cut_by_lines(real_tokens: Callable[[str], int]) -> None:
    entries = [
        f'        "setting_{i}": os.environ.get("APP_SETTING_{i}", "{i}"),' for i in range(300)
    ]
    text = "\n".join(["def defaults():", "    return {", *entries, "    }"])
    chunks = chunk_file("settings.py", text)

    assert len(chunks) > 3
    assert {c.symbol for c in chunks} == {"defaults"}
    assert all(real_tokens(c.embedding_text) <= 512 for c in chunks)
    assert_faithful(chunks, text)


def test_top_level_code_is_grouped_under_budget_and_never_lost(
    real_tokens: Callable[[str], int],
) -> None:
    constants = [f'TIMEOUT_{i} = float(os.environ.get("TIMEOUT_{i}", "{i}.5"))' for i in range(200)]
    text = "\n".join(["import os", "", *constants, "", "def main():", "    pass", "", "main()"])
    chunks = chunk_file("config.py", text)

    top_level = [c for c in chunks if c.symbol is None]
    assert len(top_level) > 2
    assert top_level[0].start_line == 1
    assert spans(chunks)[-2:] == [("main", 204, 205), (None, 207, 207)]
    assert all(real_tokens(c.embedding_text) <= 512 for c in chunks)
    assert_faithful(chunks, text)


def test_a_long_path_leaves_less_room_for_text(real_tokens: Callable[[str], int]) -> None:
    path = "/".join(["very_long_directory_name_for_testing"] * 12) + "/report.py"
    chunks = chunk_file(path, long_function())
    assert all(real_tokens(c.embedding_text) <= 512 for c in chunks)


def test_a_pathologically_deep_tree_falls_back_to_line_windows() -> None:
    nested = "".join(" " * depth + "if ready:\n" for depth in range(250))
    text = "ready = True\n" + nested + " " * 250 + "def deep():\n" + " " * 251 + "return 1\n"

    chunks = chunk_code("deep.py", text, "python", 512)

    assert chunks == chunk_lines("deep.py", text, "python", 512, "code")
    assert {c.symbol for c in chunks} == {None}
    assert_faithful(chunks, text)


def test_broken_source_still_covers_every_line() -> None:
    text = "def ok():\n    return 1\n\n}}} def (((\n  class :\n\ndef later():\n    pass\n"
    chunks = chunk_file("broken.py", text)

    assert ("ok", 1, 2) in spans(chunks)
    assert_faithful(chunks, text)


@pytest.mark.parametrize("text", ["", "\n\n   \n", "\t\n"])
def test_empty_files_have_no_chunks(text: str) -> None:
    assert chunk_file("empty.py", text) == []


def test_files_without_a_grammar_become_line_windows() -> None:
    script = "\n".join(f"Write-Host step {i}" for i in range(150))
    chunks = chunk_file("deploy.ps1", script)

    assert {(c.kind, c.language, c.symbol) for c in chunks} == {("code", "ps1", None)}
    assert max(c.end_line - c.start_line + 1 for c in chunks) <= 60
    assert_faithful(chunks, script)
    assert chunk_file("notes.unknownext", "hello\n")[0].kind == "doc"
    # A template is part of the program, not documentation for a question to lift.
    page = "<h1><%= @title %></h1>\n<%= for frame <- @frames do %>\n<li><%= frame %></li>\n"
    for name in ("debugger.html.eex", "show.html.erb", "index.hbs", "Info.plist"):
        assert chunk_file(name, page)[0].kind == "code", name


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("a/b.py", "python"),
        ("x.mjs", "javascript"),
        ("x.ts", "typescript"),
        ("x.tsx", "tsx"),
        ("main.go", "go"),
        ("lib.rs", "rust"),
        ("A.java", "java"),
        ("x.h", "c"),
        ("x.hpp", "cpp"),
        ("Rakefile", "ruby"),
        ("build.gradle.kts", "kotlin"),
        ("App.cs", "csharp"),
        ("index.php", "php"),
        ("deploy.sh", "bash"),
        ("Main.hs", "haskell"),
        ("lib.ml", "ocaml"),
        ("cart.jl", "julia"),
        (".github/workflows/ci.yml", "yaml"),
        ("Cargo.toml", "toml"),
        ("package.json", "json"),
        ("README.md", "markdown"),
        ("docs/index.rst", "rst"),
        ("LICENSE", "text"),
        ("CMakeLists.txt", None),
        ("data.bin", None),
    ],
)
def test_language_for(path: str, language: str | None) -> None:
    assert language_for(path) == language


def test_exact_line_counts_keep_a_definition_whole_that_the_estimate_splits(
    wordpiece: Tokenizer, real_tokens: Callable[[str], int]
) -> None:
    text = (SAMPLE_REPOS / "pyfetch/pyfetch/retry.py").read_text()

    def count_lines(rows: list[str]) -> list[float]:
        return [float(len(wordpiece.encode(row, add_special_tokens=False).ids)) for row in rows]

    estimated = [c for c in chunk_file("retry.py", text, 256) if c.symbol == "schedule_retry"]
    exact = chunk_file("retry.py", text, 256, count_lines)
    assert len(estimated) > 1
    assert [(c.start_line, c.end_line) for c in exact if c.symbol == "schedule_retry"] == [
        (85, 102)
    ]
    assert all(real_tokens(c.embedding_text) <= 256 for c in exact)


def documented_class(docstring_lines: int, methods: int) -> str:
    """A class with a long docstring and a class attribute before its methods."""
    doc = [f"    Option {i} changes how the context resolves its parameters." for i in range(30)]
    paragraphs = [line if i % 6 else "" for i, line in enumerate(doc[:docstring_lines])]
    body = []
    for i in range(methods):
        body += [
            f"    def invoke_{i}(self, callback, *args, **kwargs):",
            f'        """Run `callback` as step {i} of the command."""',
            "        with self.scope():",
            "            return callback(*args, **kwargs)",
            "",
        ]
    return "\n".join(
        [
            "class Context:",
            '    """The context keeps state for one command invocation.',
            *paragraphs,
            '    """',
            "",
            "    formatter_class = HelpFormatter",
            "",
            *body,
        ]
    )


def test_a_split_class_header_keeps_its_signature_with_its_docstring() -> None:
    text = documented_class(docstring_lines=30, methods=12)
    chunks = chunk_file("core.py", text, max_tokens=256)

    header = [c for c in chunks if c.symbol == "Context"]
    assert len(header) > 1  # the docstring alone is over budget
    assert header[0].start_line == 1
    assert header[0].text.startswith('class Context:\n    """The context keeps state')
    assert all(c.end_line - c.start_line + 1 >= 5 for c in header)
    assert "formatter_class = HelpFormatter" in header[-1].text
    assert_faithful(chunks, text)


def test_a_class_line_alone_opens_the_chunk_of_its_first_method() -> None:
    text = big_class(30).replace(
        '    """Counts items per warehouse and reorders them when they run low."""\n\n'
        "    reorder_level = 10\n    warehouses: dict[str, dict[str, int]]\n\n",
        "",
    )
    chunks = chunk_file("inventory.py", text)

    assert spans(chunks)[:2] == [(None, 1, 1), ("Inventory.restock_0", 4, 11)]
    assert chunks[1].text.startswith("class Inventory:\n    def restock_0(")
    assert [c.symbol for c in chunks[1:]] == [f"Inventory.restock_{i}" for i in range(30)]
    assert_faithful(chunks, text)


def test_a_line_opening_a_block_joins_the_definition_indented_under_it() -> None:
    functions = "\n".join(
        f"    def helper_{i}(value):\n        return value * {i} + offset_{i}(value)\n"
        for i in range(40)
    )
    text = f"import sys\n\nif sys.platform == 'win32':\n\n{functions}\nelse:\n\n{functions}"
    chunks = chunk_file("compat.py", text)

    assert [c for c in chunks if c.start_line == c.end_line] == []
    opener = next(c for c in chunks if c.text.startswith("else:"))
    assert opener.symbol == "helper_0"
    assert_faithful(chunks, text)


def test_no_piece_of_a_split_definition_is_a_lone_line() -> None:
    rows = ["def render(table):", '    """Draw every row of the table.', ""]
    rows += [f"    Column {i} is drawn with the style named in its header." for i in range(24)]
    rows += ['    """', "    return draw(table)"]
    text = "\n".join(rows)
    pieces = chunk_file("render.py", text, max_tokens=256)

    assert len(pieces) > 1
    assert {c.symbol for c in pieces} == {"render"}
    assert min(c.end_line - c.start_line + 1 for c in pieces) >= 5
    assert_faithful(pieces, text)
