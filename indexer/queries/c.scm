; Captures: see python.scm. @name captures a whole declarator (`*make(int a)`); the
; chunker keeps the identifier in it.
(function_definition declarator: (_) @name) @def
(struct_specifier name: (_) @name body: (_)) @def
(union_specifier name: (_) @name body: (_)) @def
(enum_specifier name: (_) @name body: (_)) @def
(type_definition declarator: (_) @name) @def
