; Captures: see python.scm. A Dart function is a signature followed by a separate body
; node: @end marks the node where the definition ends.
(class_definition name: (_) @name) @container
(mixin_declaration (identifier) @name) @container
(extension_declaration name: (_) @name) @container
(enum_declaration name: (_) @name) @def
((function_signature name: (_) @name) @def . (function_body) @end)
((method_signature (_ name: (_) @name)) @def . (function_body) @end)
