; Captures: see python.scm. Used for both .ts and .tsx.
(function_declaration name: (_) @name) @def
(generator_function_declaration name: (_) @name) @def
(class_declaration name: (_) @name) @container
(abstract_class_declaration name: (_) @name) @container
; Only class methods: methods of object literals stay with the object they belong to.
(class_body (method_definition name: (_) @name) @def)
(public_field_definition name: (_) @name value: [(arrow_function) (function_expression)]) @def
; const f = () => ... and friends.
(lexical_declaration (variable_declarator name: (identifier) @name
  value: [(arrow_function) (function_expression) (generator_function) (class)])) @def
(variable_declaration (variable_declarator name: (identifier) @name
  value: [(arrow_function) (function_expression) (generator_function) (class)])) @def
(interface_declaration name: (_) @name) @def
(type_alias_declaration name: (_) @name) @def
(enum_declaration name: (_) @name) @def
; namespace Foo { } and declare module "foo" { }
(internal_module name: (_) @name) @container
(module name: (_) @name body: (_)) @container
