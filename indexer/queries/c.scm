; Captures: see python.scm. @name captures a whole declarator (`*make(int a)`); the
; chunker keeps the identifier in it.
(function_definition declarator: (_) @name) @def
(struct_specifier name: (_) @name body: (_)) @def
(union_specifier name: (_) @name body: (_)) @def
(enum_specifier name: (_) @name body: (_)) @def
(type_definition declarator: (_) @name) @def
; A function-like macro is used and asked for like a function; object-like macros are not
; definitions (a header holds hundreds).
(preproc_function_def name: (identifier) @name) @def
