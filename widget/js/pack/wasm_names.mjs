// Short names for the wasm's imports and exports, in the wasm and in its glue alike.
// wasm-bindgen names them after the Rust items plus a hash
// (`__wbg_addEventListener_847fd86b8c33ec43`); the hashes do not compress, and each name is
// written twice, once per file. The functions the wasm imports straight from a JS snippet join
// the glue's own imports, so the bundle needs no namespace object of the snippet.
import { Reader, unsignedLeb } from './wasm_binary.mjs';

/** The module wasm-bindgen puts the glue's imports in. */
const GLUE_MODULE = './s3file_wasm_bg.js';
/** Where wasm-bindgen puts the JS snippets of crates (widget/js/effects.js). */
const SNIPPETS = './snippets/';

const SECTION_IMPORT = 2;
const SECTION_EXPORT = 7;

/** Short identifiers: a, b, …, Z, aa, ab, … */
function shortName(index) {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  let name = '';
  let rest = index;
  do {
    name = letters[rest % letters.length] + name;
    rest = Math.floor(rest / letters.length) - 1;
  } while (rest >= 0);
  return name;
}

const encodedName = (text) => Buffer.concat([unsignedLeb(Buffer.byteLength(text)), Buffer.from(text)]);

/**
 * Renames the imports of `GLUE_MODULE` and of snippets (and their modules, to `.`), and every
 * export. Returns the new wasm and the renamings: `imports` and `exports`, each a Map from old
 * to new name, and `snippetImports`, a Map from a snippet module to a Map from its functions'
 * names to their new ones; `importCount` counts the renamed imports.
 */
export function renameWasm(wasm) {
  const imports = new Map();
  const exports = new Map();
  const snippetImports = new Map();
  let importCount = 0;
  const pieces = [wasm.subarray(0, 8)];
  const reader = new Reader(wasm, 8);
  while (reader.position < wasm.length) {
    const sectionStart = reader.position;
    const id = wasm[reader.position++];
    const size = reader.u32();
    const end = reader.position + size;
    if (id !== SECTION_IMPORT && id !== SECTION_EXPORT) {
      pieces.push(wasm.subarray(sectionStart, end));
      reader.position = end;
      continue;
    }
    const count = reader.u32();
    const body = [unsignedLeb(count)];
    for (let index = 0; index < count; index += 1) {
      if (id === SECTION_IMPORT) {
        const module = reader.name();
        const field = reader.name();
        const description = reader.importDescription();
        let renamed = field;
        let renamedModule = module;
        if (module === GLUE_MODULE) {
          renamed = shortName(importCount++);
          imports.set(field, renamed);
          renamedModule = '.';
        } else if (module.startsWith(SNIPPETS)) {
          // A snippet's functions that need no glue, which wasm-bindgen imports from it directly.
          if (!snippetImports.has(module)) snippetImports.set(module, new Map());
          renamed = shortName(importCount++);
          snippetImports.get(module).set(field, renamed);
          renamedModule = '.';
        }
        body.push(encodedName(renamedModule), encodedName(renamed), description);
      } else {
        const field = reader.name();
        const kindAndIndex = new Reader(wasm, reader.position);
        kindAndIndex.position++;
        kindAndIndex.u32();
        const description = wasm.subarray(reader.position, kindAndIndex.position);
        reader.position = kindAndIndex.position;
        const renamed = shortName(exports.size);
        exports.set(field, renamed);
        body.push(encodedName(renamed), description);
      }
    }
    if (reader.position !== end) throw new Error(`section ${id} was not read to its end`);
    const section = Buffer.concat(body);
    pieces.push(Buffer.from([id]), unsignedLeb(section.length), section);
    reader.position = end;
  }
  return { wasm: Buffer.concat(pieces), imports, exports, snippetImports, importCount };
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Applies the renamings to the glue; every name must be found, and found once for imports. */
export function renameGlue(glue, { imports, exports, snippetImports }) {
  let renamed = glue;
  const joined = [];
  for (const [module, functions] of snippetImports) {
    // The import object's keys (`"./snippets/…": import1,`), once per imported function group:
    // the snippet's functions join the glue's own imports instead, through one of the
    // namespaces (`import * as import1 from "./snippets/…"`), which the bundle then resolves to
    // the functions themselves.
    const key = new RegExp(`^\\s*["']${escapeRegExp(module)}["']: \\w+,\\n`, 'gm');
    const namespace = renamed.match(new RegExp(`^import \\* as (\\w+) from ["']${escapeRegExp(module)}["']`, 'm'));
    if (!key.test(renamed) || !namespace) throw new Error(`the glue does not import the snippet ${module}`);
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
  for (const [from, to] of exports) {
    // Uses of the instance's exports: `wasm.name`.
    const pattern = new RegExp(`(?<=\\bwasm\\.)${escapeRegExp(from)}(?![\\w$])`, 'g');
    renamed = renamed.replace(pattern, to);
  }
  const leftover = renamed.match(/\bwasm\.(?!(?:[a-zA-Z]{1,3})\b)[\w$]+/);
  if (leftover) throw new Error(`the glue uses ${leftover[0]}, which the wasm does not export`);
  return renamed.replaceAll(`'${GLUE_MODULE}'`, "'.'").replaceAll(`"${GLUE_MODULE}"`, '"."');
}
