; Captures: @def = one chunk, @container = its members get their own chunks when it is
; too big, @name = its name, @scope = a qualifier for the name (see indexer/languages.py).
(function_definition name: (identifier) @name) @def
(class_definition name: (identifier) @name) @container
