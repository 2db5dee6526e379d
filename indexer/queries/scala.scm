; Captures: see python.scm. A companion object has its class's name.
(class_definition name: (_) @name) @container
(object_definition name: (_) @name) @container
(trait_definition name: (_) @name) @container
(enum_definition name: (_) @name) @container
(extension_definition) @container @name
(function_definition name: (_) @name) @def
(given_definition name: (_) @name) @def
(type_definition name: (_) @name) @def
