; Captures: see python.scm. `def self.build` inside `class Cart` reads `Cart.build`.
(method name: (_) @name) @def
(singleton_method name: (_) @name) @def
(class name: (_) @name) @container
(module name: (_) @name) @container
