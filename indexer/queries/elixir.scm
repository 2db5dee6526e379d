; Captures: see python.scm. Elixir definitions are macro calls: `defmodule Name do`,
; `def name(args) do`; a module's alias is already qualified (`Shop.Cart`).
((call target: (identifier) @_keyword (arguments (alias) @name) (do_block)) @container
  (#any-of? @_keyword "defmodule" "defprotocol" "defimpl"))
((call target: (identifier) @_keyword (arguments . [
    (call target: (identifier) @name)
    (binary_operator left: (call target: (identifier) @name))
    (identifier) @name
  ])) @def
  (#any-of? @_keyword "def" "defp" "defmacro" "defmacrop" "defguard" "defguardp" "defdelegate"))
