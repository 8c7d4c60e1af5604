// Shrinks the widget as wasm-bindgen and wasm-opt left it in a package directory:
//
//   node widget/js/pack.mjs www/pkg
//
// 1. Gives the wasm module's imports and exports short names, in the wasm and in its JS glue
//    alike. wasm-bindgen names them after the Rust items plus a hash
//    (`__wbg_addEventListener_847fd86b8c33ec43`); the hashes do not compress, and each name is
//    written twice, once per file.
// 2. Minifies the glue (`s3file_wasm.js`) and the entry (`s3file.js`) with esbuild, when it is
//    installed (npm's `esbuild`); without it the files keep their whitespace and the step says so.
//
// Run it after wasm-opt, on a freshly generated package: it refuses a glue it cannot map
// completely, so a half-renamed package never ships.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const GLUE = 's3file_wasm.js';
const WASM = 's3file_wasm_bg.wasm';
const ENTRY = 's3file.js';
/** The module wasm-bindgen puts the glue's imports in. */
const GLUE_MODULE = './s3file_wasm_bg.js';

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
 * Renames the imports of `GLUE_MODULE` (and the module itself, to `.`) and every export.
 * Returns the new wasm and the renamings: `imports` and `exports`, each a Map from old to new
 * name.
 */
function renameWasm(wasm) {
  const imports = new Map();
  const exports = new Map();
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
        if (module === GLUE_MODULE) {
          renamed = shortName(imports.size);
          imports.set(field, renamed);
        }
        body.push(encodedName(module === GLUE_MODULE ? '.' : module), encodedName(renamed), description);
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
  return { wasm: Buffer.concat(pieces), imports, exports };
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Applies the renamings to the glue; every name must be found, and found once for imports. */
function renameGlue(glue, { imports, exports }) {
  let renamed = glue;
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

async function minify(code) {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return null;
  }
  const result = await esbuild.transform(code, { format: 'esm', minify: true, target: 'es2022', legalComments: 'none' });
  return result.code;
}

async function main() {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node widget/js/pack.mjs <package directory, e.g. www/pkg>');
    process.exit(2);
  }
  const wasmPath = join(dir, WASM);
  const gluePath = join(dir, GLUE);
  const entryPath = join(dir, ENTRY);
  const original = readFileSync(wasmPath);
  const { wasm, imports, exports } = renameWasm(original);
  const glue = renameGlue(readFileSync(gluePath, 'utf8'), { imports, exports });
  await WebAssembly.compile(wasm);

  writeFileSync(wasmPath, wasm);
  let minified = 0;
  for (const [path, code] of [
    [gluePath, glue],
    [entryPath, readFileSync(entryPath, 'utf8')],
  ]) {
    const small = await minify(code);
    if (small !== null) minified += 1;
    writeFileSync(path, small ?? code);
  }
  console.log(
    `pack: ${imports.size} imports and ${exports.size} exports renamed; ${
      minified ? 'glue and entry minified' : 'esbuild is not installed, the JS is not minified'
    }`,
  );
}

await main();
