; Captures: see python.scm. Interface and abstract methods (no body) stay in their type's
; header chunk.
(class_declaration name: (_) @name) @container
(interface_declaration name: (_) @name) @container
(trait_declaration name: (_) @name) @container
(enum_declaration name: (_) @name) @container
(function_definition name: (_) @name) @def
(method_declaration name: (_) @name body: (_)) @def
