; Captures: see python.scm. Interfaces and enums are class_declaration in this grammar.
(class_declaration name: (_) @name) @container
(object_declaration name: (_) @name) @container
(companion_object) @container @name
(function_declaration name: (_) @name) @def
(secondary_constructor) @def @name
