; Config files chunk by key (see yaml.scm): top-level keys holding an object or array.
(document (object
  (pair key: (string (string_content) @name) value: [(object) (array)]) @container))
(document (object (pair value: (object
  (pair key: (string (string_content) @name) value: [(object) (array)]) @def))))
