// Size of the widget as a page downloads it: the files `<script type="module" src="/pkg/s3file.js">`
// loads (its first load, which the budget in BENCHMARKS.md bounds), then those it fetches later
// (when the first file goes up; with the first progress of a form or input that binds a bar),
// raw and compressed with gzip -9 (zlib level 9). Build them first (`cargo xtask demo`,
// `cargo xtask test` or `cargo xtask bench`). Prints a markdown table.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, gzipSync } from 'node:zlib';

const PKG_DIR = resolve(fileURLToPath(new URL('../../www/pkg', import.meta.url)));

// In the order the browser fetches them; then the JS snippets the glue imports, if any (an
// unpacked build).
const SNIPPETS = join(PKG_DIR, 'snippets');
const FILES = [
  's3file.js',
  ...(existsSync(SNIPPETS) ? readdirSync(SNIPPETS, { recursive: true }) : [])
    .map((name) => join('snippets', name))
    .filter((name) => statSync(join(PKG_DIR, name)).isFile())
    .sort(),
  's3file_wasm_bg.wasm',
];
/** Fetched later, and when: the checksums, their worker and its wasm at the first upload, the
 *  bars bound with `data-s3file-progress` with the first progress of a form or input that has
 *  the attribute, gzip with the first file the signer offers to store compressed. */
const LATER = [
  ['s3file_digest.js', 'at the first upload'],
  ['s3file_digest_worker.js', 'at the first upload'],
  ['s3file_digest.wasm', 'at the first upload'],
  ['s3file_progress.js', 'with the first progress of a bound bar'],
  ['s3file_gzip.js', 'with the first file stored gzipped'],
];

const measure = (name) => {
  const path = join(PKG_DIR, name);
  let bytes;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    console.error(`${path} is missing (${error.code}): build the widget with \`cargo xtask demo\` or \`cargo xtask bench\``);
    process.exit(1);
  }
  const gzip = gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION }).length;
  return { name, raw: bytes.length, gzip, modified: statSync(path).mtime };
};
const rows = FILES.map(measure);
const later = LATER.filter(([name]) => existsSync(join(PKG_DIR, name))).map(([name, when]) => ({ ...measure(name), when }));

const total = rows.reduce((sum, row) => ({ raw: sum.raw + row.raw, gzip: sum.gzip + row.gzip }), { raw: 0, gzip: 0 });
// Sanity: each file exists, is not empty, and compresses.
for (const row of [...rows, ...later]) {
  if (row.raw === 0 || row.gzip >= row.raw + 32) {
    console.error(`unexpected size for ${row.name}: ${row.raw} bytes raw, ${row.gzip} bytes gzipped`);
    process.exit(1);
  }
}

const kib = (bytes) => (bytes / 1024).toFixed(1);
const newest = new Date(Math.max(...rows.map((row) => row.modified.getTime())));
console.log(`Widget size (www/pkg, built ${newest.toISOString().slice(0, 16).replace('T', ' ')} UTC)`);
console.log();
console.log('| file | raw bytes | raw KiB | gzip -9 bytes | gzip -9 KiB |');
console.log('|---|---:|---:|---:|---:|');
for (const row of rows) {
  console.log(`| \`www/pkg/${row.name}\` | ${row.raw} | ${kib(row.raw)} | ${row.gzip} | ${kib(row.gzip)} |`);
}
console.log(`| **first load** | **${total.raw}** | **${kib(total.raw)}** | **${total.gzip}** | **${kib(total.gzip)}** |`);
for (const row of later) {
  console.log(`| \`www/pkg/${row.name}\`, ${row.when} | ${row.raw} | ${kib(row.raw)} | ${row.gzip} | ${kib(row.gzip)} |`);
}
// The checksums' budget covers what the first upload fetches: page side, worker and wasm.
const checksums = later.filter((row) => row.when === 'at the first upload');
if (checksums.length) {
  const sum = checksums.reduce((sum, row) => ({ raw: sum.raw + row.raw, gzip: sum.gzip + row.gzip }), { raw: 0, gzip: 0 });
  console.log(`| **checksums, at the first upload** (page side, worker and wasm) | **${sum.raw}** | **${kib(sum.raw)}** | **${sum.gzip}** | **${kib(sum.gzip)}** |`);
}
