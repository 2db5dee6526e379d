; Captures: see python.scm. `function Cart:add()` and `function Cart.new()` read
; `Cart.add` and `Cart.new`.
(function_declaration name: (identifier) @name) @def
(function_declaration name: (dot_index_expression) @name) @def
(function_declaration name: (method_index_expression table: (_) @scope method: (_) @name)) @def
; local f = function() ... end
(variable_declaration (assignment_statement
  (variable_list . (identifier) @name) (expression_list . (function_definition)))) @def
(assignment_statement
  (variable_list . (_) @name) (expression_list . (function_definition))) @def
