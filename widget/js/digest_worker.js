// A checksum worker (see digest.js): computes the checksums the page asks for with
// `{id, blob, code}`, several at once, each in a slot of the wasm's own. It answers
// `{id, read: true}` after each chunk it read, then `{id, digest}` (its bytes), `{id, unreadable:
// true}` when the browser would not read the file, or `{id, failed}` (why) when the wasm could
// not start or broke down.
import { SLOTS, hash, instantiate } from './digest.js';

const wasm = instantiate();
/** The slots no checksum uses. */
const free = Array.from({ length: SLOTS }, (_, slot) => slot);

onmessage = async ({ data: { id, blob, code } }) => {
  const slot = free.pop();
  let answer;
  try {
    if (slot === undefined) throw new Error(`more than ${SLOTS} checksums at once`);
    answer = { id, digest: await hash(await wasm, blob, code, () => postMessage({ id, read: true }), false, slot) };
  } catch (error) {
    answer = error.unreadable ? { id, unreadable: true } : { id, failed: String(error) };
  } finally {
    if (slot !== undefined) free.push(slot);
  }
  postMessage(answer);
};
