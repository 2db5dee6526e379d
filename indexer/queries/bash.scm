; Captures: see python.scm.
(function_definition name: (_) @name) @def
