; Config files chunk by key (see yaml.scm): each `[table]` is a chunk named after it; the
; keys before the first table stay together in symbol-less chunks.
(table . (_) @name) @def
(table_array_element . (_) @name) @def
