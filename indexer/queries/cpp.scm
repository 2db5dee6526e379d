; Captures: see python.scm and c.scm. Out-of-line `Client::send` becomes `Client.send`.
(function_definition declarator: (_) @name) @def
(union_specifier name: (_) @name body: (_)) @def
(enum_specifier name: (_) @name body: (_)) @def
(type_definition declarator: (_) @name) @def
(struct_specifier name: (_) @name body: (_)) @container
(class_specifier name: (_) @name body: (_)) @container
(namespace_definition name: (_) @name body: (_)) @container
; Function-like macros: see c.scm.
(preproc_function_def name: (identifier) @name) @def
