// A checksum worker (see digest.js): computes one checksum at a time, as the page asks with
// `{blob, code}`. It answers `{read: true}` after each chunk it read, then `{digest}` (base64),
// `{unreadable: true}` when the browser would not read the file, or `{failed}` (why) when the
// wasm could not start or broke down.
import { hash, instantiate } from './digest.js';

const wasm = instantiate();

onmessage = async ({ data: { blob, code } }) => {
  let answer;
  try {
    answer = { digest: await hash(await wasm, blob, code, () => postMessage({ read: true })) };
  } catch (error) {
    answer = error.unreadable ? { unreadable: true } : { failed: String(error) };
  }
  postMessage(answer);
};
