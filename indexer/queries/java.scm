; Captures: see python.scm. Abstract methods (no body) stay in their type's header chunk.
(class_declaration name: (_) @name) @container
(interface_declaration name: (_) @name) @container
(enum_declaration name: (_) @name) @container
(record_declaration name: (_) @name) @container
(annotation_type_declaration name: (_) @name) @container
(method_declaration name: (_) @name body: (_)) @def
(constructor_declaration name: (_) @name) @def
(compact_constructor_declaration name: (_) @name) @def
