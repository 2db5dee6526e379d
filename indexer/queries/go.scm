; Captures: see python.scm. Methods are named Receiver.Method through @scope.
(function_declaration name: (_) @name) @def
(method_declaration
  receiver: (parameter_list (parameter_declaration type: (_) @scope))
  name: (_) @name) @def
; A grouped `type ( ... )` declaration is one chunk named after its first type.
(type_declaration (type_spec name: (_) @name)) @def
(type_declaration (type_alias name: (_) @name)) @def
