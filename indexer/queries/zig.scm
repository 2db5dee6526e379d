; Captures: see python.scm. `const Cart = struct { ... }` is a container named Cart.
(variable_declaration (identifier) @name
  [(struct_declaration) (enum_declaration) (union_declaration) (opaque_declaration)]) @container
(function_declaration name: (_) @name) @def
(test_declaration [(string (string_content) @label) (identifier) @name]) @def
