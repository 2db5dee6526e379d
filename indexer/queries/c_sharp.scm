; Captures: see python.scm. Abstract and interface methods (no body) stay in their type's
; header chunk.
(namespace_declaration name: (_) @name) @container
(class_declaration name: (_) @name) @container
(struct_declaration name: (_) @name) @container
(interface_declaration name: (_) @name) @container
(record_declaration name: (_) @name) @container
(enum_declaration name: (_) @name) @def
(delegate_declaration name: (_) @name) @def
(method_declaration name: (_) @name body: (_)) @def
(constructor_declaration name: (_) @name) @def
(destructor_declaration name: (_) @name) @def
(operator_declaration operator: _ @name) @def
(property_declaration name: (_) @name accessors: (accessor_list (accessor_declaration body: (_)))) @def
(local_function_statement name: (_) @name) @def
