// The glue renamed as binaryen renamed the wasm. wasm-bindgen names the wasm's imports and
// exports after the Rust items plus a hash (`__wbg_addEventListener_847fd86b8c33ec43`); the
// hashes do not compress, and each name is written twice, once per file. The widget build's
// wasm-opt run ends with `--minify-imports-and-exports-and-modules`, which gives them short
// names (and every import one module) and prints what it renamed, as JSON; the glue gets the
// same names here. The functions the wasm imports straight from a JS snippet join the glue's
// own imports, so the bundle needs no namespace object of the snippet.

/** The module wasm-bindgen puts the glue's imports in. */
const GLUE_MODULE = './s3file_wasm_bg.js';
/** Where wasm-bindgen puts the JS snippets of crates (widget/js/effects.js). */
const SNIPPETS = './snippets/';

/** `{"imports": [[module, name, new name], …], "exports": [[name, new name], …]}`, as wasm-opt
 *  prints it. */
function parseRenamings(printed) {
  let renamings;
  try {
    renamings = JSON.parse(printed);
  } catch (error) {
    throw new Error(`the renamings are not the JSON wasm-opt prints: ${error.message}`);
  }
  const rows = (list, length) =>
    Array.isArray(list) &&
    list.every((row) => Array.isArray(row) && row.length === length && row.every((name) => typeof name === 'string'));
  if (!rows(renamings?.imports, 3) || !rows(renamings?.exports, 2)) {
    throw new Error('the renamings are not in the form pack knows from wasm-opt');
  }
  return renamings;
}

/** Each of the wasm's imports or exports (`names`) must be one of the new names, each new name
 *  one of them, and no two alike: binaryen names an import by its name alone, whatever its
 *  module, so two imports of one name from two modules would have become one. */
function checkRenamed(what, names, newNames) {
  const distinct = new Set(newNames);
  const alike = distinct.size !== newNames.length || new Set(names).size !== names.length;
  if (alike || names.length !== newNames.length || !names.every((name) => distinct.has(name))) {
    throw new Error(`the wasm's ${what} are not the ones the renamings name: is the wasm the one wasm-opt renamed?`);
  }
}

/**
 * Reads the renamings wasm-opt `printed` and checks them against the `wasm` it wrote. Answers
 * `module`, the one module every import is in now; `imports` and `exports`, each a Map from old
 * to new name (`imports` of the glue's own); and `snippetImports`, a Map from a snippet module
 * to a Map from its functions' names to their new ones.
 */
export function readRenamings(printed, wasm) {
  const renamings = parseRenamings(printed);
  const compiled = new WebAssembly.Module(wasm);
  const wasmImports = WebAssembly.Module.imports(compiled);
  checkRenamed(
    'imports',
    wasmImports.map(({ name }) => name),
    renamings.imports.map(([, , to]) => to),
  );
  checkRenamed(
    'exports',
    WebAssembly.Module.exports(compiled).map(({ name }) => name),
    renamings.exports.map(([, to]) => to),
  );
  const modules = [...new Set(wasmImports.map(({ module }) => module))];
  if (modules.length > 1) throw new Error(`the wasm imports from more than one module: ${modules.join(', ')}`);

  const imports = new Map();
  const snippetImports = new Map();
  for (const [module, from, to] of renamings.imports) {
    if (module === GLUE_MODULE) {
      imports.set(from, to);
    } else if (module.startsWith(SNIPPETS)) {
      // A snippet's functions that need no glue, which wasm-bindgen imports from it directly.
      if (!snippetImports.has(module)) snippetImports.set(module, new Map());
      snippetImports.get(module).set(from, to);
    } else {
      throw new Error(`the wasm imports ${from} from ${module}, which the glue does not provide`);
    }
  }
  return { module: modules[0], imports, snippetImports, exports: new Map(renamings.exports) };
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Renames the glue by `readRenamings`' answer; every import must be found once, and every use
 *  of an export must be of one the wasm has. */
export function renameGlue(glue, { module, imports, exports, snippetImports }) {
  let renamed = glue;
  const joined = [];
  for (const [snippet, functions] of snippetImports) {
    // The import object's keys (`"./snippets/…": import1,`), once per imported function group:
    // the snippet's functions join the glue's own imports instead, through one of the
    // namespaces (`import * as import1 from "./snippets/…"`), which the bundle then resolves to
    // the functions themselves.
    const key = new RegExp(`^\\s*["']${escapeRegExp(snippet)}["']: \\w+,\\n`, 'gm');
    const namespace = renamed.match(new RegExp(`^import \\* as (\\w+) from ["']${escapeRegExp(snippet)}["']`, 'm'));
    if (!key.test(renamed) || !namespace) throw new Error(`the glue does not import the snippet ${snippet}`);
    renamed = renamed.replace(key, '');
    for (const [from, to] of functions) joined.push(`        ${to}: ${namespace[1]}.${from},\n`);
  }
  const importObject = /^(\s*const import0 = \{\n\s*__proto__: null,\n)/m;
  if (!importObject.test(renamed)) throw new Error('the glue has no import object pack knows');
  renamed = renamed.replace(importObject, (start) => start + joined.join(''));
  // Functions of the import object that the wasm no longer imports (wasm-opt removed their
  // last call, wasm-bindgen's `__wbindgen_throw` say) are dropped: `name: function(…) {`, its
  // body indented deeper, then `},` at the key's own indentation.
  const entry = /^( +)(__wbg\w+): function\([^)]*\) \{\n(?:\1 .*\n|\n)*?\1\},\n/gm;
  renamed = renamed.replace(entry, (text, indent, name) => (imports.has(name) ? text : ''));
  for (const [from, to] of imports) {
    // The import object's keys: `name: function(…)`.
    const pattern = new RegExp(`(?<![\\w$])${escapeRegExp(from)}(?=\\s*:)`, 'g');
    const found = renamed.match(pattern)?.length ?? 0;
    if (found !== 1) throw new Error(`the glue defines the import ${from} ${found} times, not once`);
    renamed = renamed.replace(pattern, to);
  }
  // Uses of the instance's exports, `wasm.name`, in one pass: a new name may be an old one too.
  renamed = renamed.replace(/(?<=\bwasm\.)[\w$]+/g, (name) => {
    if (!exports.has(name)) throw new Error(`the glue uses wasm.${name}, which the wasm does not export`);
    return exports.get(name);
  });
  return renamed.replaceAll(`'${GLUE_MODULE}'`, `'${module}'`).replaceAll(`"${GLUE_MODULE}"`, `"${module}"`);
}
