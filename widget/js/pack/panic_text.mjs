// binaryen keeps the bytes of data segments as the linker left them (no pass of it can know
// which text only a panic reads), so the data section is found and edited here: the only part
// of the wasm binary pack still reads itself.

const SECTION_DATA = 11;

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Text in the wasm's data that only a panic would print: the file names of panic locations,
 * the messages of the panics that core, alloc, js-sys and wasm-bindgen keep linked, and the
 * digit pairs of core's integer formatting. The drop-in's panic handler traps without reading
 * any of it (a panic is a bug: see widget/src/drop_in.rs), and core's formatting, the only code
 * that would, is not in the optimised wasm; the linker keeps the bytes all the same, since the
 * code that referred to them was alive when it ran. They are blanked (zeros compress to
 * nothing, and wasm-opt's memory packing drops them); the addresses stay as they are.
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

/** Reads the unsigned LEB128 number at `position`; answers it and the position after it. */
function u32(bytes, position) {
  let result = 0;
  let shift = 0;
  let at = position;
  let byte;
  do {
    byte = bytes[at++];
    result |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  return [result >>> 0, at];
}

/** Blanks `PANIC_TEXT` in the data section of `wasm` (in place); answers how many bytes. */
export function blankPanicText(wasm) {
  let blanked = 0;
  // After the magic number and the version, each section: its id, its size, its contents.
  let position = 8;
  while (position < wasm.length) {
    const id = wasm[position];
    const [size, start] = u32(wasm, position + 1);
    position = start + size;
    if (id !== SECTION_DATA) continue;
    const data = wasm.subarray(start, position);
    for (const match of data.toString('latin1').matchAll(PANIC_TEXT)) {
      data.fill(0, match.index, match.index + match[0].length);
      blanked += match[0].length;
    }
  }
  return blanked;
}
