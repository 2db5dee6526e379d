"""Chunk source files along their definitions, using the tree-sitter tables in `languages`.

A file is a scope: its definitions become chunks and the lines between them (imports,
constants, module code) are packed into symbol-less chunks. A container (class, impl,
namespace ...) that does not fit the budget is itself a scope: its non-member lines become
chunks named after it (the first one holds the signature, docstring and fields) and each
member gets a `Container.member` chunk. Anything else that is too big is cut at the
statement boundaries of its body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import tree_sitter

from indexer.chunk import Chunk
from indexer.languages import CODE_LANGUAGES, CodeLanguage, load_language, load_query
from indexer.tokens import LineCounter, text_budget
from indexer.windows import Lines, chunk_lines, pack_chunks

# Deeper than this, a tree is generated or adversarial: line windows serve it better.
MAX_DEPTH = 200
# Containers nested deeper than this are chunked as plain definitions.
MAX_CONTAINER_NESTING = 20

# Lines that only close something (`}`, `});`, Ruby's `end`, `}  // namespace net`) mean
# nothing alone.
_CLOSER = re.compile(
    r"(?:\s|[)\]};,]|\bend\b)*|\s*(?:[)\]};,]|\bend\b)(?:\s|[)\]};,]|\bend\b)*(?://|#|--).*"
)
_TEMPLATE_ARGS = re.compile(r"<[^<>]*>")
_INDEX_ARGS = re.compile(r"\[[^\[\]]*\]")  # Go generics, Rust/C array declarators
_NAME = r"~?[A-Za-z_$][\w$]*[!?]?"  # Ruby and Julia names may end in ! or ?
_QUALIFIED = re.compile(rf"{_NAME}(?:(?:::|\.){_NAME})*")
_OPERATOR = re.compile(rf"(?<![\w$~])(?:{_NAME}::)*operator\s*(?:\(\)|\[\]|[^\w\s(]+|{_NAME})")


@dataclass
class _Def:
    node: tree_sitter.Node  # including wrappers (decorators, export, template <...>)
    inner: tree_sitter.Node  # the definition itself, or its body when that is a sibling
    name: str
    container: bool
    start: int  # first row, including attached comments and attributes
    end: int
    members: list[_Def] = field(default_factory=list)


def chunk_code(
    path: str, text: str, language: str, max_tokens: int, count_lines: LineCounter | None = None
) -> list[Chunk]:
    """Chunks of a source file in a language of `languages.CODE_LANGUAGES`."""
    spec = CODE_LANGUAGES[language]
    try:
        parser = tree_sitter.Parser(load_language(language))
        root = parser.parse(text.encode("utf-8", "surrogatepass")).root_node
        top = _definitions(spec, language, root)
    except (ValueError, RuntimeError, UnicodeError, RecursionError):
        top = None
    if top is None:
        return chunk_lines(path, text, language, max_tokens, "code", count_lines)
    lines = Lines(path, text, language, "code", count_lines)
    return _scope(lines, max_tokens, 0, len(lines.rows) - 1, top, None, _cuts(root), 0)


def _definitions(spec: CodeLanguage, language: str, root: tree_sitter.Node) -> list[_Def] | None:
    """Top-level definitions with their members, or None when the tree is too deep."""
    found: dict[int, _Def] = {}
    for _, captures in tree_sitter.QueryCursor(load_query(language)).matches(root):
        defined = captures.get("def") or captures.get("container")
        if not defined or defined[0].id in found:
            continue
        if "name" in captures:
            name = _clean_name(captures["name"][0])
        elif "label" in captures:  # a free-text name, such as a test's description
            name = " ".join((captures["label"][0].text or b"").decode("utf-8", "replace").split())
        else:
            continue
        if "scope" in captures:
            name = f"{_clean_name(captures['scope'][0])}.{name}"
        node = defined[0]
        while node.parent is not None and node.parent.type in spec.wrappers:
            node = node.parent
        start = _attached_start(spec, node)
        # A body that follows its signature as a sibling (Dart) ends the definition.
        inner = (captures.get("end") or defined)[0]
        last = max(_last_row(node), _last_row(inner))
        found[defined[0].id] = _Def(node, inner, name, "container" in captures, start, last)

    top: list[_Def] = []
    for definition in found.values():
        parent, depth = definition.node.parent, 0
        while parent is not None and parent.id not in found:
            parent, depth = parent.parent, depth + 1
            if depth > MAX_DEPTH:
                return None
        if parent is None:
            top.append(definition)
        elif found[parent.id].container:
            found[parent.id].members.append(definition)
        # Definitions nested in functions stay inside their function's chunk.
    for definition in found.values():
        definition.members = _disjoint(definition.members)
    return _disjoint(top)


def _attached_start(spec: CodeLanguage, node: tree_sitter.Node) -> int:
    """First row of the comments/attributes directly above `node` (no blank line between)."""
    start = node.start_point.row
    sibling = node.prev_named_sibling
    while sibling is not None and sibling.type in spec.attached:
        before = sibling.prev_sibling
        if _last_row(sibling) < start - 1:
            break  # a blank line separates them
        if before is not None and _last_row(before) >= sibling.start_point.row:
            break  # a trailing comment of the code before it
        start = sibling.start_point.row
        sibling = sibling.prev_named_sibling
    return start


def _last_row(node: tree_sitter.Node) -> int:
    """The last row holding text of `node`; some grammars end line comments after the "\\n"."""
    end = node.end_point
    return end.row - 1 if end.column == 0 and end.row > node.start_point.row else end.row


def _disjoint(defs: list[_Def]) -> list[_Def]:
    """Sort by row; a definition sharing a row with the previous one joins its chunk."""
    result: list[_Def] = []
    for definition in sorted(defs, key=lambda d: (d.start, d.end)):
        if result and definition.start <= result[-1].end:
            previous = result[-1]
            if definition.node.start_point.row <= previous.end:
                previous.end = max(previous.end, definition.end)
                continue
            definition.start = previous.end + 1  # drop comments it shares with the previous
        result.append(definition)
    return result


def _scope(
    lines: Lines,
    max_tokens: int,
    start: int,
    end: int,
    members: list[_Def],
    symbol: str | None,
    cuts: set[int],
    nesting: int,
) -> list[Chunk]:
    chunks: list[Chunk] = []
    row = start
    for member in members:
        before = pack_chunks(lines, row, member.start - 1, max_tokens, symbol, cuts)
        qualified = f"{symbol}.{member.name}" if symbol else member.name
        pieces = _definition(lines, max_tokens, member, qualified, nesting)
        if before and pieces and _leads_into(before[-1], pieces[0], symbol is not None, start):
            joined = _joined(lines, max_tokens, before[-1], pieces[0])
            if joined is not None:
                before, pieces = before[:-1], [joined, *pieces[1:]]
        chunks += before + pieces
        row = member.end + 1
    chunks += pack_chunks(lines, row, end, max_tokens, symbol, cuts)
    return _closed(lines, max_tokens, chunks)


def _leads_into(line: Chunk, member: Chunk, in_container: bool, scope_start: int) -> bool:
    """Whether a one-line chunk only opens the definition after it: a container's signature
    with nothing before its first member, or a line that the definition is indented under
    (`else:`, `if __name__ == "__main__":`)."""
    if line.start_line != line.end_line:
        return False
    if in_container and line.start_line == scope_start + 1:
        return True
    return _indent(member.text) > _indent(line.text)


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" \t"))


def _definition(
    lines: Lines, max_tokens: int, definition: _Def, symbol: str, nesting: int
) -> list[Chunk]:
    start, end = definition.start, definition.end
    budget = text_budget(max_tokens, lines.path, symbol)
    if lines.weight(start, end) <= budget:
        return [lines.chunk(start, end, symbol)]
    cuts = _cuts(_body(definition.inner, CODE_LANGUAGES[lines.language].bodies))
    if definition.container and definition.members and nesting < MAX_CONTAINER_NESTING:
        members = definition.members
        return _scope(lines, max_tokens, start, end, members, symbol, cuts, nesting + 1)
    return _closed(lines, max_tokens, pack_chunks(lines, start, end, max_tokens, symbol, cuts))


def _body(node: tree_sitter.Node, bodies: frozenset[str]) -> tree_sitter.Node:
    """The statement block of a definition: its `body` field, or a node of a type in
    `bodies`; for `const f = () => {...}` it sits lower."""
    frontier = [node]
    for _ in range(4):
        below: list[tree_sitter.Node] = []
        for candidate in frontier:
            if candidate is not node and candidate.type in bodies:
                return candidate
            body = candidate.child_by_field_name("body")
            if body is not None:
                return body
            below += candidate.named_children
        if len(below) > 256:  # a huge literal, not a wrapper around a function
            break
        frontier = below
    return node


def _cuts(body: tree_sitter.Node) -> set[int]:
    """Rows where a statement of `body` starts: the preferred places to split it."""
    # Some grammars wrap the statements once more (Go: block > statement_list).
    while body.named_child_count == 1 and body.named_children[0].named_child_count > 1:
        body = body.named_children[0]
    return {child.start_point.row for child in body.named_children}


def _joined(lines: Lines, max_tokens: int, line: Chunk, member: Chunk) -> Chunk | None:
    """`line` and the first piece of `member` as one chunk under the member's symbol."""
    first, last = line.start_line - 1, member.end_line - 1
    if lines.weight(first, last) > text_budget(max_tokens, lines.path, member.symbol):
        return None
    return lines.chunk(first, last, member.symbol)


def _closed(lines: Lines, max_tokens: int, chunks: list[Chunk]) -> list[Chunk]:
    """Fold chunks that only close a block (`}`, `end`) into the chunk before them."""
    result: list[Chunk] = []
    for chunk in chunks:
        if result and _CLOSER.fullmatch(chunk.text):
            previous = result[-1]
            budget = text_budget(max_tokens, lines.path, previous.symbol)
            first, last = previous.start_line - 1, chunk.end_line - 1
            if lines.weight(first, last) <= budget:
                result[-1] = lines.chunk(first, last, previous.symbol)
                continue
        result.append(chunk)
    return result


def _clean_name(node: tree_sitter.Node) -> str:
    """`Client::send(int x) const` -> `Client.send`, `*Store[K]` -> `Store`, `Vec<T>` -> `Vec`."""
    raw = (node.text or b"").decode("utf-8", "replace")
    text = _unwrap(_TEMPLATE_ARGS, raw)
    match = _OPERATOR.search(text)  # before `[]` and `()` are taken for brackets below
    if match is None:
        text = _unwrap(_INDEX_ARGS, text)
        match = _QUALIFIED.search(text.split("(", 1)[0]) or _QUALIFIED.search(raw)
    if match is None:
        return " ".join(raw.split()) or "?"
    return " ".join(match.group(0).split()).replace("::", ".")


def _unwrap(brackets: re.Pattern[str], text: str) -> str:
    """Drop bracketed arguments, innermost first so that nested ones unwind."""
    previous = None
    while previous != text:
        previous, text = text, brackets.sub("", text)
    return text
