"""Which files are which language, and what counts as a definition in each grammar.

Everything language-specific lives here and in the queries shipped in `indexer/queries/`
(one `.scm` file per grammar); the chunkers only read them. The captures of a query mean:

- ``@def``: a definition that becomes one chunk (split at statements when too big);
- ``@container``: a definition whose member definitions get their own chunks when the
  whole does not fit (classes, impls, traits, modules, namespaces);
- ``@name``: the node naming it; ``@scope`` optionally qualifies the name (Go receivers);
  ``@label`` instead of ``@name`` is a free-text name taken as written (Zig test names);
- ``@end``: optionally, a sibling after ``@def`` where the definition ends (Dart bodies).

Names are normalised by the chunker (generics, pointers and ``::`` dropped or dotted), so a
query may capture a whole declarator or type and let the normaliser find the name in it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import PurePosixPath

import tree_sitter

from indexer.chunk import ChunkKind


@dataclass(frozen=True)
class CodeLanguage:
    grammar: str  # module of the grammar wheel, imported on first use
    query: str  # file stem in indexer/queries/
    loader: str = "language"  # function in `grammar` returning the language pointer
    # Nodes wrapping a definition that belong to its chunk (decorators, `export`, templates).
    wrappers: frozenset[str] = frozenset()
    # Siblings directly above a definition that belong to its chunk (comments, attributes).
    attached: frozenset[str] = frozenset({"comment"})
    # Node types holding a definition's statements, for grammars without a `body` field.
    bodies: frozenset[str] = frozenset()


_JS_WRAPPERS = frozenset({"export_statement"})
_TS_WRAPPERS = frozenset({"export_statement", "ambient_declaration"})
_JS_ATTACHED = frozenset({"comment", "decorator"})
_JAVA_ATTACHED = frozenset({"line_comment", "block_comment"})
_RUST_ATTACHED = frozenset({"line_comment", "block_comment", "attribute_item"})
_KOTLIN_ATTACHED = frozenset({"line_comment", "block_comment", "annotation"})
_SWIFT_ATTACHED = frozenset({"comment", "multiline_comment"})
_PHP_ATTACHED = frozenset({"comment", "attribute_list"})
_OCAML_ATTACHED = frozenset({"comment", "attribute", "item_attribute"})
# Julia docstrings are string literals directly above what they document.
_JULIA_ATTACHED = frozenset({"line_comment", "block_comment", "string_literal"})

CODE_LANGUAGES: dict[str, CodeLanguage] = {
    "python": CodeLanguage(
        "tree_sitter_python", "python", wrappers=frozenset({"decorated_definition"})
    ),
    "javascript": CodeLanguage(
        "tree_sitter_javascript", "javascript", wrappers=_JS_WRAPPERS, attached=_JS_ATTACHED
    ),
    "typescript": CodeLanguage(
        "tree_sitter_typescript",
        "typescript",
        loader="language_typescript",
        wrappers=_TS_WRAPPERS,
        attached=_JS_ATTACHED,
    ),
    "tsx": CodeLanguage(
        "tree_sitter_typescript",
        "typescript",
        loader="language_tsx",
        wrappers=_TS_WRAPPERS,
        attached=_JS_ATTACHED,
    ),
    "go": CodeLanguage("tree_sitter_go", "go"),
    "rust": CodeLanguage("tree_sitter_rust", "rust", attached=_RUST_ATTACHED),
    "java": CodeLanguage("tree_sitter_java", "java", attached=_JAVA_ATTACHED),
    "c": CodeLanguage("tree_sitter_c", "c"),
    "cpp": CodeLanguage("tree_sitter_cpp", "cpp", wrappers=frozenset({"template_declaration"})),
    "ruby": CodeLanguage("tree_sitter_ruby", "ruby"),
    "kotlin": CodeLanguage(
        "tree_sitter_kotlin",
        "kotlin",
        attached=_KOTLIN_ATTACHED,
        bodies=frozenset({"function_body", "class_body"}),
    ),
    "swift": CodeLanguage("tree_sitter_swift", "swift", attached=_SWIFT_ATTACHED),
    "scala": CodeLanguage("tree_sitter_scala", "scala", attached=_JAVA_ATTACHED | {"comment"}),
    "elixir": CodeLanguage(
        "tree_sitter_elixir", "elixir", attached=frozenset({"comment", "unary_operator"})
    ),
    "lua": CodeLanguage("tree_sitter_lua", "lua"),
    "csharp": CodeLanguage(
        "tree_sitter_c_sharp", "c_sharp", attached=frozenset({"comment", "attribute_list"})
    ),
    "php": CodeLanguage("tree_sitter_php", "php", loader="language_php", attached=_PHP_ATTACHED),
    "bash": CodeLanguage("tree_sitter_bash", "bash"),
    "haskell": CodeLanguage(
        "tree_sitter_haskell",
        "haskell",
        attached=frozenset({"comment", "haddock", "signature", "pragma"}),
    ),
    "zig": CodeLanguage("tree_sitter_zig", "zig"),
    "ocaml": CodeLanguage(
        "tree_sitter_ocaml", "ocaml", loader="language_ocaml", attached=_OCAML_ATTACHED
    ),
    "dart": CodeLanguage(
        "tree_sitter_dart",
        "dart",
        attached=frozenset({"comment", "documentation_comment"}),
        bodies=frozenset({"function_body", "class_body"}),
    ),
    "julia": CodeLanguage("tree_sitter_julia", "julia", attached=_JULIA_ATTACHED),
    # Config files: top-level keys as definitions (see queries/yaml.scm).
    "yaml": CodeLanguage("tree_sitter_yaml", "yaml"),
    "toml": CodeLanguage("tree_sitter_toml", "toml"),
    "json": CodeLanguage("tree_sitter_json", "json"),
}

DOC_LANGUAGES = frozenset({"markdown", "rst", "text"})

_BY_SUFFIX: dict[str, str] = {
    **dict.fromkeys([".py", ".pyi", ".pyw"], "python"),
    **dict.fromkeys([".js", ".mjs", ".cjs", ".jsx"], "javascript"),
    **dict.fromkeys([".ts", ".mts", ".cts"], "typescript"),
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    # .h is far more often C than C++; the C++ grammar would also mislabel C headers.
    **dict.fromkeys([".c", ".h"], "c"),
    **dict.fromkeys(
        [".cc", ".cpp", ".cxx", ".c++", ".hh", ".hpp", ".hxx", ".h++", ".ipp", ".inl"],
        "cpp",
    ),
    **dict.fromkeys([".rb", ".rake", ".gemspec", ".ru"], "ruby"),
    **dict.fromkeys([".kt", ".kts"], "kotlin"),
    ".swift": "swift",
    **dict.fromkeys([".scala", ".sc", ".sbt"], "scala"),
    **dict.fromkeys([".ex", ".exs"], "elixir"),
    ".lua": "lua",
    ".cs": "csharp",
    **dict.fromkeys([".php", ".phtml"], "php"),
    **dict.fromkeys([".sh", ".bash", ".zsh", ".ksh"], "bash"),
    **dict.fromkeys([".hs", ".lhs"], "haskell"),
    ".zig": "zig",
    **dict.fromkeys([".ml", ".mli"], "ocaml"),
    ".dart": "dart",
    ".jl": "julia",
    **dict.fromkeys([".yaml", ".yml"], "yaml"),
    ".toml": "toml",
    **dict.fromkeys([".json", ".jsonc"], "json"),
    **dict.fromkeys([".md", ".markdown", ".mdown", ".mkd"], "markdown"),
    **dict.fromkeys([".rst", ".rest"], "rst"),
    **dict.fromkeys([".txt", ".text"], "text"),
}

_BY_NAME: dict[str, str] = {
    **dict.fromkeys(["rakefile", "gemfile", "guardfile", "podfile"], "ruby"),
    **dict.fromkeys(
        ["readme", "license", "licence", "copying", "authors", "changelog", "notice"],
        "text",
    ),
}

# Source-like files we have no grammar for: chunked as line windows but still kind "code".
# Templates and XML-family build and settings files are among them: they are part of the
# program, not documentation written for its readers.
# fmt: off
SOURCE_SUFFIXES = frozenset({
    ".fish", ".ps1", ".bat", ".fs", ".m", ".mm", ".pl", ".pm", ".r", ".erl", ".hrl", ".clj",
    ".cljs", ".nim", ".v", ".sql", ".proto", ".graphql", ".gql", ".tf", ".hcl", ".cmake", ".mk",
    ".gradle", ".groovy", ".vue", ".svelte", ".html", ".htm", ".css", ".scss", ".sass", ".less",
    ".xml", ".ini", ".cfg", ".conf", ".cnf", ".properties", ".pro",
    # templates
    ".eex", ".heex", ".leex", ".erb", ".haml", ".ejs", ".hbs", ".handlebars", ".mustache",
    ".jinja", ".jinja2", ".j2", ".twig", ".liquid", ".njk", ".tmpl", ".tpl", ".mako", ".jsp",
    ".cshtml", ".razor", ".builder", ".rabl",
    # XML-family project and settings files
    ".plist", ".xcprivacy", ".entitlements", ".xib", ".storyboard", ".xaml", ".csproj",
    ".fsproj", ".vbproj", ".props", ".targets", ".resx",
})
# fmt: on
SOURCE_NAMES = frozenset({"makefile", "dockerfile", "justfile", "cmakelists.txt"})


def language_for(path: str) -> str | None:
    """The chunking language of `path` by file name, or None when we know no chunker for it."""
    name = PurePosixPath(path.replace("\\", "/")).name.lower()
    if name in SOURCE_NAMES:
        return None
    if name in _BY_NAME:
        return _BY_NAME[name]
    return _BY_SUFFIX.get(PurePosixPath(name).suffix)


def is_code(language: str) -> bool:
    return language in CODE_LANGUAGES


def is_doc(language: str) -> bool:
    return language in DOC_LANGUAGES


def fallback_language(path: str) -> tuple[str, ChunkKind]:
    """Language label and kind for a file `language_for` does not know: the bare suffix
    (``php``, ``yaml``), or the file name for suffix-less build files, else ``text``."""
    name = PurePosixPath(path.replace("\\", "/")).name.lower()
    suffix = PurePosixPath(name).suffix
    if name in SOURCE_NAMES:
        return name.split(".")[0], "code"
    if suffix in SOURCE_SUFFIXES:
        return suffix[1:], "code"
    return (suffix[1:] or "text"), "doc"


@cache
def load_language(language: str) -> tree_sitter.Language:
    """The tree-sitter Language for a code language; its grammar is imported on first use."""
    spec = CODE_LANGUAGES[language]
    module = importlib.import_module(spec.grammar)
    return tree_sitter.Language(getattr(module, spec.loader)())


@cache
def load_query(language: str) -> tree_sitter.Query:
    """The compiled definitions query (`indexer/queries/<name>.scm`) of a code language."""
    name = CODE_LANGUAGES[language].query
    source = (resources.files("indexer") / "queries" / f"{name}.scm").read_text("utf-8")
    query: tree_sitter.Query = tree_sitter.Query(load_language(language), source)
    return query
