; Captures: see python.scm. A type signature directly above its function is attached to
; it (see languages.py); an instance is named after its type, like a Rust impl.
(function name: (_) @name) @def
(bind name: (_) @name) @def
(data_type name: (_) @name) @def
(newtype name: (_) @name) @def
(type_synonym name: (_) @name) @def
(type_family name: (_) @name) @def
(class name: (_) @name) @container
(instance patterns: (_) @name) @container
