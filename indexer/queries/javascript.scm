; Captures: see python.scm.
(function_declaration name: (_) @name) @def
(generator_function_declaration name: (_) @name) @def
(class_declaration name: (_) @name) @container
; Only class methods: methods of object literals stay with the object they belong to.
(class_body (method_definition name: (_) @name) @def)
(field_definition property: (_) @name value: [(arrow_function) (function_expression)]) @def
; const f = () => ... and friends.
(lexical_declaration (variable_declarator name: (identifier) @name
  value: [(arrow_function) (function_expression) (generator_function) (class)])) @def
(variable_declaration (variable_declarator name: (identifier) @name
  value: [(arrow_function) (function_expression) (generator_function) (class)])) @def
