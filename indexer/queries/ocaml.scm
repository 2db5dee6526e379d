; Captures: see python.scm. `let f x = ...` is a definition; `let () = ...` has no name and
; stays with the top-level code.
(value_definition (let_binding pattern: (value_name) @name)) @def
(type_definition (type_binding name: (_) @name)) @def
(exception_definition (constructor_declaration (constructor_name) @name)) @def
(external (value_name) @name) @def
(module_definition (module_binding (module_name) @name)) @container
(module_type_definition (module_type_name) @name) @container
(class_definition (class_binding name: (_) @name)) @container
(method_definition name: (_) @name) @def
