; Config files chunk by key (captures: see python.scm). A top-level key whose value is a
; block is a container: its nested block keys become `key.nested` chunks when the whole
; section does not fit. One-line `key: value` pairs stay together in symbol-less chunks.
(stream (document (block_node (block_mapping
  (block_mapping_pair key: (_) @name value: (block_node)) @container))))
(stream (document (block_node (block_mapping (block_mapping_pair value: (block_node
  (block_mapping (block_mapping_pair key: (_) @name value: (block_node)) @def)))))))
