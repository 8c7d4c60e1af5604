// Shrinks the widget as wasm-bindgen and wasm-opt left it in a package directory:
//
//   node widget/js/pack.mjs www/pkg
//
// 1. Gives the JS glue the short names wasm-opt gave the wasm module's imports and exports
//    (pack/wasm_names.mjs: the widget build's wasm-opt run minifies them and puts what it
//    printed in `s3file_wasm_bg.names.json`), and blanks the text in the wasm's data that only
//    a panic would print (pack/panic_text.mjs).
// 2. Replaces the glue's loader with one that does only what the entry asks of it (`init()`),
//    and a few of its helpers with smaller ones that do what the widget needs (pack/glue.mjs).
// 3. Bundles the entry (`s3file.js`) with the glue and the JS snippets it imports (`snippets/`,
//    wasm-bindgen's copies of widget/js/effects.js, digest.js, gzip.js and progress.js) into
//    `s3file.js`, minified, but for the modules imported only when needed: digest.js, at the
//    first upload, becomes `s3file_digest.js`; gzip.js, which digest.js imports with the first
//    file the signer would store gzipped, `s3file_gzip.js`; and progress.js, with the first
//    progress of a form or input that binds a bar, `s3file_progress.js`. Then removes the
//    glue, `snippets/`, the glue's declarations and the renamings (pack/bundle.mjs, with npm's
//    `esbuild`).
//
// 4. Bundles the checksum worker (widget/js/digest_worker.js, with the digest.js it imports)
//    into `s3file_digest_worker.js`, which digest.js starts; the widget build has put the wasm
//    it hashes with, `s3file_digest.wasm`, beside it.
//
// Afterwards the package is s3file.js, which the page loads, and the files it finds next to
// itself: s3file_wasm_bg.wasm at once; s3file_digest.js, s3file_digest_worker.js and
// s3file_digest.wasm at the first upload; s3file_gzip.js with the first file stored gzipped;
// s3file_progress.js with the first progress of a bound bar. The widget build (xtask/src/widget.rs) runs it after wasm-opt, on a
// freshly generated package: it refuses a glue it cannot map completely, before it writes any
// file, so a half-renamed package never ships.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { bundleWorker, bundler } from './pack/bundle.mjs';
import { replaceHelpers, replaceLoader } from './pack/glue.mjs';
import { blankPanicText } from './pack/panic_text.mjs';
import { readRenamings, renameGlue } from './pack/wasm_names.mjs';

const GLUE = 's3file_wasm.js';
const WASM = 's3file_wasm_bg.wasm';
const ENTRY = 's3file.js';
const WORKER = 's3file_digest_worker.js';
const WORKER_SOURCE = fileURLToPath(new URL('./digest_worker.js', import.meta.url));
/** What `wasm-opt --minify-imports-and-exports-and-modules` printed (xtask/src/widget.rs). */
const RENAMINGS = 's3file_wasm_bg.names.json';

async function main() {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node widget/js/pack.mjs <package directory, e.g. www/pkg>');
    process.exit(2);
  }
  const bundle = await bundler();
  const wasmPath = join(dir, WASM);
  const gluePath = join(dir, GLUE);
  const entryPath = join(dir, ENTRY);
  const wasm = readFileSync(wasmPath);
  let printed;
  try {
    printed = readFileSync(join(dir, RENAMINGS), 'utf8');
  } catch (error) {
    throw new Error(`pack needs ${RENAMINGS}, what the widget build's wasm-opt run printed: ${error.message}`);
  }
  const renamings = readRenamings(printed, wasm);
  const blanked = blankPanicText(wasm);
  const glue = replaceLoader(renameGlue(replaceHelpers(readFileSync(gluePath, 'utf8')), renamings), WASM);
  await WebAssembly.compile(wasm);

  // The bundler reads the glue from the package directory.
  writeFileSync(gluePath, glue);
  const modules = await bundle(entryPath);
  writeFileSync(wasmPath, wasm);
  for (const { path, text } of modules) writeFileSync(path, text);
  const worker = await bundleWorker(WORKER_SOURCE, join(dir, WORKER));
  // All in the entry now; the declarations are of the glue and of the wasm's exports under the
  // names they no longer have.
  for (const bundledIn of [GLUE, 'snippets', 's3file_wasm.d.ts', 's3file_wasm_bg.wasm.d.ts', RENAMINGS]) {
    rmSync(join(dir, bundledIn), { recursive: true, force: true });
  }
  const { imports, snippetImports, exports } = renamings;
  const importCount = imports.size + [...snippetImports.values()].reduce((sum, names) => sum + names.size, 0);
  console.log(
    `pack: the glue renamed as wasm-opt renamed ${importCount} imports and ${exports.size} exports, ` +
      `${blanked} bytes of panic text blanked, entry, glue and snippets bundled into ` +
      modules.map(({ path }) => basename(path)).join(' and ') +
      `, the checksum worker into ${basename(worker)}`,
  );
}

await main();
