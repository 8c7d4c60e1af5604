// wasm-bindgen's glue, made to do only what the drop-in needs of it: a loader for `init()` alone
// and smaller helpers. Each replacement matches wasm-bindgen's text exactly, so a glue of another
// wasm-bindgen stops the build rather than ship a helper nobody checked against it.

/**
 * The loader that ends the glue: everything from `__wbg_load` on, wasm-bindgen's `initSync` and
 * `init`, which take a module, bytes, a URL or a `Response` in a current and a deprecated form.
 * The entry only ever calls `init()`: this one fetches the wasm next to the glue, then compiles
 * its bytes. Not `instantiateStreaming`, which compiles while the bytes arrive but only when the
 * server says `application/wasm`: for a wasm this small, compiling after the download takes a
 * few milliseconds, and any server will do.
 */
const loader = (wasmFile) => `async function __wbg_init() {
    const response = await fetch(new URL('${wasmFile}', import.meta.url));
    if (!response.ok) throw new Error(\`${wasmFile}: \${response.status}\`);
    const { instance, module } = await WebAssembly.instantiate(await response.arrayBuffer(), __wbg_get_imports());
    return __wbg_finalize_init(instance, module);
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
 *  `try` (`INSTANCEOF`), and `RETURN_STRING` in place of each import's own string return. A
 *  helper the glue has but in another form stops the build: its replacement would have to be
 *  checked again. */
export function replaceHelpers(glue) {
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

/** Puts the loader above in place of wasm-bindgen's; it fetches `wasmFile` next to the module. */
export function replaceLoader(glue, wasmFile) {
  const start = glue.indexOf('\nasync function __wbg_load(');
  const end = 'export { initSync, __wbg_init as default };\n';
  for (const needed of ['function __wbg_get_imports(', 'function __wbg_finalize_init(instance, module)']) {
    if (!glue.includes(needed)) throw new Error(`the glue has no ${needed}: its loader cannot be replaced`);
  }
  if (start < 0 || !glue.endsWith(end)) throw new Error('the glue does not end with the loader pack knows');
  return `${glue.slice(0, start + 1)}${loader(wasmFile)}`;
}
