; Captures: see python.scm. An impl is named after its type (`impl Display for Point` is
; `Point`), so its methods read `Point.fmt`.
(function_item name: (_) @name) @def
(struct_item name: (_) @name) @def
(enum_item name: (_) @name) @def
(union_item name: (_) @name) @def
(macro_definition name: (_) @name) @def
(trait_item name: (_) @name) @container
(impl_item type: (_) @name) @container
(mod_item name: (_) @name body: (_)) @container
