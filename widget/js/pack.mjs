// Shrinks the widget as wasm-bindgen and wasm-opt left it in a package directory:
//
//   node widget/js/pack.mjs www/pkg
//
// 1. Gives the wasm module's imports and exports short names, in the wasm and in its JS glue
//    alike. wasm-bindgen names them after the Rust items plus a hash
//    (`__wbg_addEventListener_847fd86b8c33ec43`); the hashes do not compress, and each name is
//    written twice, once per file. The functions the wasm imports straight from a JS snippet
//    join the glue's own imports, so the bundle needs no namespace object of the snippet. The
//    glue's import functions that the optimised wasm no longer imports are dropped, and the
//    text in the wasm's data that only a panic would print is blanked (`PANIC_TEXT`).
// 2. Replaces the glue's loader with one that does only what the entry asks of it (`init()`),
//    and a few of its helpers with smaller ones that do what the widget needs (`HELPERS`).
// 3. Bundles the entry (`s3file.js`) with the glue and the JS snippets it imports (`snippets/`,
//    wasm-bindgen's copies of widget/js/effects.js and digest.js) into `s3file.js`, minified,
//    and removes the glue, `snippets/` and the glue's declarations: one module compresses better
//    than two, and the page fetches one file less. This needs npm's `esbuild`.
//
// Afterwards the package is two files: s3file.js and s3file_wasm_bg.wasm, which the module
// finds next to itself. The widget build (xtask/src/widget.rs) runs it after wasm-opt, on a
// freshly generated package: it refuses a glue it cannot map completely, so a half-renamed
// package never ships.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const GLUE = 's3file_wasm.js';
const WASM = 's3file_wasm_bg.wasm';
const ENTRY = 's3file.js';
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

function unsignedLeb(value) {
  const bytes = [];
  let rest = value;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest !== 0);
  return Buffer.from(bytes);
}

/** A cursor over a wasm binary. */
class Reader {
  constructor(bytes, position) {
    this.bytes = bytes;
    this.position = position;
  }

  u32() {
    let result = 0;
    let shift = 0;
    let byte;
    do {
      byte = this.bytes[this.position++];
      result |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return result >>> 0;
  }

  name() {
    const length = this.u32();
    const text = this.bytes.subarray(this.position, this.position + length).toString('utf8');
    this.position += length;
    return text;
  }

  /** Skips an import's description and returns its bytes. */
  importDescription() {
    const start = this.position;
    const kind = this.bytes[this.position++];
    if (kind === 0) {
      this.u32(); // function: type index
    } else if (kind === 1 || kind === 2) {
      if (kind === 1) this.position++; // table: element type
      const flags = this.bytes[this.position++]; // limits
      this.u32();
      if (flags & 1) this.u32();
    } else if (kind === 3) {
      this.position += 2; // global: value type, mutability
    } else if (kind === 4) {
      this.position++; // tag: attribute
      this.u32();
    } else {
      throw new Error(`unknown import kind ${kind}`);
    }
    return this.bytes.subarray(start, this.position);
  }
}

const encodedName = (text) => Buffer.concat([unsignedLeb(Buffer.byteLength(text)), Buffer.from(text)]);

/**
 * Renames the imports of `GLUE_MODULE` and of snippets (and their modules, to `.`), and every
 * export. Returns the new wasm and the renamings: `imports` and `exports`, each a Map from old
 * to new name, and `snippetImports`, a Map from a snippet module to a Map from its functions'
 * names to their new ones; `importCount` counts the renamed imports.
 */
function renameWasm(wasm) {
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

const SECTION_DATA = 11;

/**
 * Text in the wasm's data that only a panic would print: the file names of panic locations,
 * the messages of the panics that core, alloc, js-sys and wasm-bindgen keep linked, and the
 * digit pairs of core's integer formatting. The drop-in's panic handler traps without reading
 * any of it (a panic is a bug: see widget/src/drop_in.rs), and core's formatting, the only code
 * that would, is not in the optimised wasm; the linker keeps the bytes all the same, since the
 * code that referred to them was alive when it ran. They are blanked (zeros compress to
 * nothing); the addresses stay as they are.
 */
const PANIC_TEXT = new RegExp(
  [
    // Rust source files, as panic locations name them (`/rustc/…/library/alloc/src/alloc.rs`).
    String.raw`\/[\w.@+\-/]*\/src\/[\w.@+\-/]+\.rs(?![\w])`,
    ...[
      'closure invoked recursively or after being dropped',
      'memory allocation of ',
      ' bytes failed',
      'Tried to shrink to a larger capacity',
      'capacity overflow',
      'RefCell already mutably borrowed',
      'RefCell already borrowed',
    ].map((message) => escapeRegExp(message)),
    Array.from({ length: 100 }, (_, number) => String(number).padStart(2, '0')).join(''),
  ].join('|'),
  'g',
);

/** Blanks `PANIC_TEXT` in the data section of `wasm` (in place); answers how many bytes. */
function blankPanicText(wasm) {
  const reader = new Reader(wasm, 8);
  let blanked = 0;
  while (reader.position < wasm.length) {
    const id = wasm[reader.position++];
    const size = reader.u32();
    const end = reader.position + size;
    if (id === SECTION_DATA) {
      const data = wasm.subarray(reader.position, end);
      for (const match of data.toString('latin1').matchAll(PANIC_TEXT)) {
        data.fill(0, match.index, match.index + match[0].length);
        blanked += match[0].length;
      }
    }
    reader.position = end;
  }
  return blanked;
}

/** Applies the renamings to the glue; every name must be found, and found once for imports. */
function renameGlue(glue, { imports, exports, snippetImports }) {
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

/**
 * The loader that ends the glue: everything from `__wbg_load` on, wasm-bindgen's `initSync` and
 * `init`, which take a module, bytes, a URL or a `Response` in a current and a deprecated form.
 * The entry only ever calls `init()`: this one fetches the wasm next to the glue and compiles it
 * while it downloads, or after, when the server does not say `application/wasm`.
 */
const LOADER = `async function __wbg_init() {
    const response = fetch(new URL('${WASM}', import.meta.url));
    const imports = __wbg_get_imports();
    let result;
    try {
        result = await WebAssembly.instantiateStreaming(response, imports);
    } catch (error) {
        const answer = await response;
        if (!answer.ok || answer.headers.get('Content-Type') === 'application/wasm') throw error;
        console.warn('s3file: serve ${WASM} as application/wasm');
        result = await WebAssembly.instantiate(await answer.arrayBuffer(), imports);
    }
    return __wbg_finalize_init(result.instance, result.module);
}

export { __wbg_init as default };
`;

/**
 * wasm-bindgen's helpers that do more than the widget needs, each with what takes its place:
 * its memory views are made again when the memory's buffer is another (as after a `grow`), not
 * also when an old one reports itself detached; strings go to the wasm encoded whole, as
 * wasm-bindgen does without a `realloc`, rather than ASCII first and the rest encoded into a
 * grown allocation (the widget's strings are names, keys and URLs: a few per request); text is
 * decoded without renewing the decoder every 2 GB (Safari's fails beyond; the widget decodes a
 * few kilobytes per upload); and `TextEncoder.encodeInto`, no longer used, loses its fallback.
 */
const HELPERS = [
  [
    `function getDataViewMemory0() {
    if (cachedDataViewMemory0 === null || cachedDataViewMemory0.buffer.detached === true || (cachedDataViewMemory0.buffer.detached === undefined && cachedDataViewMemory0.buffer !== wasm.memory.buffer)) {
        cachedDataViewMemory0 = new DataView(wasm.memory.buffer);
    }
    return cachedDataViewMemory0;
}`,
    `function getDataViewMemory0() {
    if (cachedDataViewMemory0?.buffer !== wasm.memory.buffer) cachedDataViewMemory0 = new DataView(wasm.memory.buffer);
    return cachedDataViewMemory0;
}`,
  ],
  [
    `function getUint8ArrayMemory0() {
    if (cachedUint8ArrayMemory0 === null || cachedUint8ArrayMemory0.byteLength === 0) {
        cachedUint8ArrayMemory0 = new Uint8Array(wasm.memory.buffer);
    }
    return cachedUint8ArrayMemory0;
}`,
    `function getUint8ArrayMemory0() {
    if (cachedUint8ArrayMemory0?.buffer !== wasm.memory.buffer) cachedUint8ArrayMemory0 = new Uint8Array(wasm.memory.buffer);
    return cachedUint8ArrayMemory0;
}`,
  ],
  [
    `function passStringToWasm0(arg, malloc, realloc) {
    if (realloc === undefined) {
        const buf = cachedTextEncoder.encode(arg);
        const ptr = malloc(buf.length, 1) >>> 0;
        getUint8ArrayMemory0().subarray(ptr, ptr + buf.length).set(buf);
        WASM_VECTOR_LEN = buf.length;
        return ptr;
    }

    let len = arg.length;
    let ptr = malloc(len, 1) >>> 0;

    const mem = getUint8ArrayMemory0();

    let offset = 0;

    for (; offset < len; offset++) {
        const code = arg.charCodeAt(offset);
        if (code > 0x7F) break;
        mem[ptr + offset] = code;
    }
    if (offset !== len) {
        if (offset !== 0) {
            arg = arg.slice(offset);
        }
        ptr = realloc(ptr, len, len = offset + arg.length * 3, 1) >>> 0;
        const view = getUint8ArrayMemory0().subarray(ptr + offset, ptr + len);
        const ret = cachedTextEncoder.encodeInto(arg, view);

        offset += ret.written;
        ptr = realloc(ptr, len, offset, 1) >>> 0;
    }

    WASM_VECTOR_LEN = offset;
    return ptr;
}`,
    `function passStringToWasm0(arg, malloc) {
    const buf = cachedTextEncoder.encode(arg);
    const ptr = malloc(buf.length, 1) >>> 0;
    getUint8ArrayMemory0().set(buf, ptr);
    WASM_VECTOR_LEN = buf.length;
    return ptr;
}`,
  ],
  [
    `const MAX_SAFARI_DECODE_BYTES = 2146435072;
let numBytesDecoded = 0;
function decodeText(bytes) {
    numBytesDecoded += bytes.length;
    if (numBytesDecoded >= MAX_SAFARI_DECODE_BYTES) {
        cachedTextDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
        cachedTextDecoder.decode();
        numBytesDecoded = bytes.length;
    }
    return cachedTextDecoder.decode(bytes);
}`,
    `function decodeText(bytes) {
    return cachedTextDecoder.decode(bytes);
}`,
  ],
  [
    `
if (!('encodeInto' in cachedTextEncoder)) {
    cachedTextEncoder.encodeInto = function (arg, view) {
        const buf = cachedTextEncoder.encode(arg);
        view.set(buf);
        return {
            read: arg.length,
            written: buf.length
        };
    };
}
`,
    '',
  ],
];

/** How an import function hands a string (or, with `isLikeNone`, maybe none) back to the wasm:
 *  the same four lines in each, which become a call of `RETURN_STRING`. */
const STRING_RETURN =
  /^( +)(const|var) ptr1 = (?:isLikeNone\(ret\) \? 0 : )?passStringToWasm0\(ret, wasm\.__wbindgen_malloc, wasm\.__wbindgen_realloc\);\n\1\2 len1 = WASM_VECTOR_LEN;\n\1getDataViewMemory0\(\)\.setInt32\(\(arg0 >>> 0\) \+ 4 \* 1, len1, true\);\n\1getDataViewMemory0\(\)\.setInt32\(\(arg0 >>> 0\) \+ 4 \* 0, ptr1, true\);\n/gm;

/** wasm-bindgen's `instanceof` of a DOM class, in a `try` for scopes without the DOM (a worker):
 *  the widget runs in a page, where the class is always defined. */
const INSTANCEOF =
  /^( +)let result;\n\1try \{\n\1 {4}result = (arg0 instanceof \w+);\n\1\} catch \(_\) \{\n\1 {4}result = false;\n\1\}\n\1const ret = result;\n/gm;

const RETURN_STRING = `
function returnString(at, text) {
    const ptr = isLikeNone(text) ? 0 : passStringToWasm0(text, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
    getDataViewMemory0().setInt32((at >>> 0) + 4, WASM_VECTOR_LEN, true);
    getDataViewMemory0().setInt32(at >>> 0, ptr, true);
}
`;

/** Puts the smaller helpers of `HELPERS` in place of wasm-bindgen's, `instanceof` without its
 *  `try` (`INSTANCEOF`), and `RETURN_STRING` in place of each import's own string return. A helper the glue has but in another form stops
 *  the build: its replacement would have to be checked again. */
function replaceHelpers(glue) {
  let replaced = glue;
  for (const [original, smaller] of HELPERS) {
    const start = original.trimStart().split('\n')[0];
    if (!replaced.includes(start)) continue;
    if (!replaced.includes(original)) throw new Error(`the glue's ${start} is not the one pack knows`);
    replaced = replaced.replace(original, smaller);
  }
  replaced = replaced.replace(INSTANCEOF, (_, indent, test) => `${indent}const ret = ${test};\n`);
  if (!replaced.match(STRING_RETURN)) return replaced;
  replaced = replaced.replace(STRING_RETURN, (_, indent) => `${indent}returnString(arg0, ret);\n`);
  const end = 'let WASM_VECTOR_LEN = 0;\n';
  if (!replaced.includes(end)) throw new Error('the glue has no WASM_VECTOR_LEN, which returnString needs');
  if (/ptr1|len1/.test(replaced)) throw new Error('the glue returns a string in a way pack does not know');
  return replaced.replace(end, end + RETURN_STRING);
}

/** Puts `LOADER` in place of wasm-bindgen's. */
function replaceLoader(glue) {
  const start = glue.indexOf('\nasync function __wbg_load(');
  const end = 'export { initSync, __wbg_init as default };\n';
  for (const needed of ['function __wbg_get_imports(', 'function __wbg_finalize_init(instance, module)']) {
    if (!glue.includes(needed)) throw new Error(`the glue has no ${needed}: its loader cannot be replaced`);
  }
  if (start < 0 || !glue.endsWith(end)) throw new Error('the glue does not end with the loader pack knows');
  return `${glue.slice(0, start + 1)}${LOADER}`;
}

async function esbuild() {
  try {
    return await import('esbuild');
  } catch (error) {
    throw new Error(`pack needs npm's esbuild (a devDependency of package.json): ${error.message}`);
  }
}

async function main() {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node widget/js/pack.mjs <package directory, e.g. www/pkg>');
    process.exit(2);
  }
  const { build } = await esbuild();
  const wasmPath = join(dir, WASM);
  const gluePath = join(dir, GLUE);
  const entryPath = join(dir, ENTRY);
  const renamings = renameWasm(readFileSync(wasmPath));
  const { wasm, importCount, exports } = renamings;
  const blanked = blankPanicText(wasm);
  const glue = replaceLoader(renameGlue(replaceHelpers(readFileSync(gluePath, 'utf8')), renamings));
  await WebAssembly.compile(wasm);

  writeFileSync(gluePath, glue);
  const bundled = await build({
    entryPoints: [entryPath],
    bundle: true,
    format: 'esm',
    minify: true,
    target: 'es2022',
    legalComments: 'none',
    write: false,
  });
  writeFileSync(wasmPath, wasm);
  writeFileSync(entryPath, bundled.outputFiles[0].text);
  // All in the entry now; the declarations are of the glue and of the wasm's exports under the
  // names they no longer have.
  for (const bundledIn of [GLUE, 'snippets', 's3file_wasm.d.ts', 's3file_wasm_bg.wasm.d.ts']) {
    rmSync(join(dir, bundledIn), { recursive: true, force: true });
  }
  console.log(
    `pack: ${importCount} imports and ${exports.size} exports renamed, ${blanked} bytes of panic text blanked, ` +
      'entry, glue and snippets bundled into one minified module',
  );
}

await main();
