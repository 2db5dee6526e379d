; Captures: see python.scm. class_declaration covers class, struct, enum, actor and
; extension (named after the type it extends).
(class_declaration name: (_) @name) @container
(protocol_declaration name: (_) @name) @container
(function_declaration name: (simple_identifier) @name) @def
(protocol_function_declaration name: (simple_identifier) @name) @def
(init_declaration "init" @name) @def
(deinit_declaration "deinit" @name) @def
(subscript_declaration "subscript" @name) @def
(typealias_declaration name: (_) @name) @def
