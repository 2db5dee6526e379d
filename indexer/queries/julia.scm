; Captures: see python.scm. `f(x) = ...` one-line functions are assignments to a call.
(module_definition name: (_) @name) @container
(struct_definition (type_head) @name) @def
(abstract_definition (type_head) @name) @def
(function_definition (signature (call_expression . (_) @name))) @def
(function_definition (signature (typed_expression (call_expression . (_) @name)))) @def
(macro_definition (signature (call_expression . (_) @name))) @def
(assignment . (call_expression . (identifier) @name) (operator) @_op (#eq? @_op "=")) @def
