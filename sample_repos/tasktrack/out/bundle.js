// Bundled by esbuild - generated file, ignored via tasktrack/.gitignore.
"use strict";
var bundledGeneratedEntry = function () {
  console.log("this bundle must not be indexed");
};
module.exports = { bundledGeneratedEntry };
