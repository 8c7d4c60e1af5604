import { Reader } from './wasm_binary.mjs';

const SECTION_DATA = 11;

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

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
export function blankPanicText(wasm) {
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
