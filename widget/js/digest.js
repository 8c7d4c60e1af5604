// Checksums of Blobs, which the store verifies: MD5 for `Content-MD5`, CRC-32 for
// `x-amz-checksum-crc32`, in base64; and, beside each multipart part's MD5, its CRC-64/NVME,
// which the signer joins into the file's for the store to check at completion
// (`partChecksums`). The hashing is the `md-5` and `crc` crates', compiled to
// `s3file_digest.wasm` (digest/), and runs in Web Workers (digest_worker.js), up to one per core
// but the page's: parts of one file and separate files hash at once, beside the transfers in
// flight, and the page's thread only hands out Blobs, which reach a worker without a copy.
// Where no worker can start (a Content-Security-Policy without `worker-src`, a script from
// another origin), the page hashes itself, in slices short enough to keep it responsive, and
// says so once in the console.
//
// The widget imports this module at the first upload; the worker imports it too, for `hash`.

/** The wasm's algorithm codes (digest/src/hasher.rs), by the header or form field the checksum
 *  goes in. */
const ALGORITHMS = { 'Content-MD5': 0, 'x-amz-checksum-crc32': 1 };
/** A part's: its MD5 (16 bytes), then its CRC-64/NVME (8), in one pass. */
const PART = 2;

/** The most bytes the wasm takes at once (digest/src/exports.rs). */
const INPUT_SIZE = 1 << 18;

/** How long the page's thread hashes before it gives the page a turn: well under the 16 ms of
 *  a frame, with room for the piece that overruns it. */
const SLICE_MS = 8;

/** An instance of the wasm hasher: its exports. Fetched as bytes, not streamed, so that a server
 *  that serves `.wasm` with another media type does not stop it. */
export async function instantiate() {
  const response = await fetch(new URL('./s3file_digest.wasm', import.meta.url));
  if (!response.ok) throw new Error(`s3file_digest.wasm: ${response.status}`);
  const { instance } = await WebAssembly.instantiate(await response.arrayBuffer());
  return instance.exports;
}

/** The error of a file the browser would not read: changed on disk since it was chosen, or gone. */
const unreadable = (cause) => Object.assign(new Error('the file could not be read', { cause }), { unreadable: true });

/**
 * What a transfer sends, `[body, header]`, once ready: `body` (a POST's form, whose file is its
 * `file` entry, or a PUT's Blob), compressed first when it has a `gzip` (the sign answer's, which
 * effects.js's `uploadBody` keeps on a POST's form: gzip.js), then carrying the checksum the
 * header or form field `name` names, if any. A form gets it as that field, before its file; a
 * Blob's is `header`, `[name, value]`. `read` is called after each chunk read; a file the
 * browser would not read rejects with an error whose `unreadable` is true.
 */
export async function prepare(body, name, read) {
  if (body.gzip) {
    const { compressed } = await import('./gzip.js');
    // Compressing fails only when the file cannot be read.
    body = await compressed(body, body.gzip.fields, read).catch((error) => Promise.reject(unreadable(error)));
  }
  if (!name) return [body];
  const form = body instanceof FormData;
  const file = form ? body.get('file') : body;
  const value = await checksum(file, name, read);
  if (!form) return [body, [name, value]];
  body.delete('file');
  body.append(name, value);
  body.append('file', file);
  return [body];
}

/** How many checksums one instance computes at once (`SLOTS` of digest/src/exports.rs). */
export const SLOTS = 8;

/** Bytes in base64. */
const base64 = (bytes) => btoa(String.fromCharCode(...bytes));

/**
 * The digest with algorithm `code` of `blob`, its bytes, computed with `wasm` (an instance's
 * exports) in its `slot` (one checksum at a time each). Reads the Blob as a stream, a chunk at
 * a time, so memory stays flat whatever its size, calling `read` after each chunk. With
 * `sliced`, gives the thread a turn whenever it has hashed for `SLICE_MS`. A read that fails
 * rejects with an error marked `unreadable`.
 */
export async function hash(wasm, blob, code, read, sliced, slot = 0) {
  if (!wasm.start(slot, code)) throw new Error(`no checksum algorithm ${code}`);
  let sliceStart = performance.now();
  for await (const chunk of chunks(blob)) {
    for (let at = 0; at < chunk.length; at += INPUT_SIZE) {
      const piece = chunk.subarray(at, at + INPUT_SIZE);
      // The memory's buffer is taken anew each time: it is replaced if the memory grows.
      new Uint8Array(wasm.memory.buffer, wasm.input(), piece.length).set(piece);
      wasm.update(slot, piece.length);
      if (sliced && performance.now() - sliceStart > SLICE_MS) {
        await turn();
        sliceStart = performance.now();
      }
    }
    read?.();
  }
  return new Uint8Array(wasm.memory.buffer, wasm.output(), wasm.finish(slot)).slice();
}

/** The bytes of `blob`, a chunk at a time; a read that fails throws an error marked
 *  `unreadable`. A small Blob is read whole, in one request to the browser rather than two
 *  (its chunk, then the stream's end); a larger one as a stream, so memory stays flat. The
 *  stream's own chunks, not a BYOB reader into one buffer: in Chromium 156 BYOB reads of a file
 *  hang for good after a gigabyte or two (tests/bench/multipart.mjs's 2 GiB upload). */
async function* chunks(blob) {
  const failed = (error) => Promise.reject(unreadable(error));
  if (blob.size <= SMALL) {
    yield new Uint8Array(await blob.arrayBuffer().catch(failed));
    return;
  }
  const reader = blob.stream().getReader();
  for (let chunk; !(chunk = await reader.read().catch(failed)).done; ) yield chunk.value;
}

/** A turn of the page: a message to itself, which, unlike a timer, is not held back 4 ms once
 *  nested. */
function turn() {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(0);
  });
}

/** How many workers may hash at once: one per core, but one left to the page and the network. */
const workerLimit = () => Math.max(1, (navigator.hardwareConcurrency || 2) - 1);

/** Up to this size, a Blob is read in a chunk or two: a worker takes several such at once, so
 *  that their reads' waits overlap; a larger one has its worker to itself, so that the parts
 *  of a big file are hashed one after the other, each ready as early as it can be. */
const SMALL = 1 << 20;

/** Checksums not yet handed to a worker (`queue`'s jobs), first come first. */
const waiting = [];
/** The workers started (and not lost since), each with its checksums under way by number. */
const workers = [];
let jobs = 0;
/** Once no worker can start: the page's own instance, and the last checksum it computes (one at
 *  a time: a slice of the page's thread each). */
let onPage;

/**
 * The checksum of `blob` that the header or form field `name` carries (`Content-MD5` or
 * `x-amz-checksum-crc32`): a promise of its base64. `read`, if given, is called after each
 * chunk read, so that a read making progress is told from one that hangs. A file the browser
 * would not read rejects with an error whose `unreadable` is true.
 */
export function checksum(blob, name, read) {
  let code = ALGORITHMS[name];
  const { file, start } = blob;
  if (!file) return queue(blob, code, read).promise.then(base64);
  // A part of a file (effects.js's `slice`), which goes with `Content-MD5`: its CRC-64/NVME is
  // computed too, and kept for the upload's completion. Its checksum may be under way already,
  // and the parts after it are hashed now, while the transfers in flight go on.
  if (code === ALGORITHMS['Content-MD5']) code = PART;
  const computed = hashedAhead(file);
  let job = computed.get(start);
  computed.delete(start);
  if (job?.code === code && job.blob.size === blob.size) job.read = read;
  else job = queue(blob, code, read);
  for (let next = start + blob.size, count = 0; next < file.size && count < AHEAD; next += blob.size, count++) {
    if (!computed.has(next)) computed.set(next, queue(file.slice(next, next + blob.size), code));
  }
  return job.promise.then((digest) => {
    if (code !== PART) return base64(digest);
    partCrcs(file).set(start, { end: start + blob.size, crc: base64(digest.subarray(16)) });
    return base64(digest.subarray(0, 16));
  });
}

/** The CRC-64/NVME of each part of a file sent with its checksum, by file, by where the part
 *  starts: `{end, crc}`. */
const crcs = new WeakMap();
function partCrcs(file) {
  if (!crcs.has(file)) crcs.set(file, new Map());
  return crcs.get(file);
}

/** The CRC-64/NVME of each part of `file`, in order (base64), which the signer joins into the
 *  file's for the store to check at completion: once every part of the file was sent with its
 *  checksum from this page. Undefined otherwise (an upload resumed after a reload has parts
 *  this page never read: the store then checks only each part's MD5). */
export function partChecksums(file) {
  const parts = crcs.get(file);
  if (!parts) return undefined;
  const list = [];
  for (let at = 0; at < file.size; ) {
    const part = parts.get(at);
    if (!part) return undefined;
    list.push(part.crc);
    at = part.end;
  }
  return list;
}

/** How many of a file's parts past the one whose checksum is asked for are hashed ahead of
 *  their turn: a transfer waits for its part's checksum otherwise, as every lane of a multipart
 *  upload would, part after part. More than the lanes a form has by default, few enough that a
 *  stopped upload leaves little hashing to waste. */
const AHEAD = 4;

/** The checksums of parts hashed ahead, not asked for yet: by file, by where the part starts. */
const ahead = new WeakMap();
function hashedAhead(file) {
  if (!ahead.has(file)) ahead.set(file, new Map());
  return ahead.get(file);
}

/** Queues the checksum with algorithm `code` of `blob`: the job, whose `promise` settles with it
 *  and whose `read` (settable until it is done) is called after each chunk read. */
function queue(blob, code, read) {
  const job = { blob, code, read };
  job.promise = new Promise((resolve, reject) => Object.assign(job, { resolve, reject }));
  // A part hashed ahead may never be asked for (its upload stopped): its failure is nobody's.
  job.promise.catch(() => {});
  waiting.push(job);
  handOut();
  return job;
}

/** Whether `worker` can take `job` now. */
function takes(worker, job) {
  const running = [...worker.jobs.values()];
  if (!running.length) return true;
  const small = (job) => job.blob.size <= SMALL;
  return small(job) && running.every(small) && running.length < SLOTS;
}

/** Hands the waiting checksums out, in order, to workers that take them, starting new ones up
 *  to the limit. */
function handOut() {
  while (waiting.length) {
    const job = waiting[0];
    if (onPage) {
      waiting.shift();
      onPage.last = onPage.last.then(async () => {
        await hash(await onPage.wasm, job.blob, job.code, () => job.read?.(), true).then(job.resolve, job.reject);
      });
      continue;
    }
    const worker =
      workers.find((worker) => !worker.jobs.size) ??
      workers.find((worker) => takes(worker, job)) ??
      (workers.length < workerLimit() ? start() : undefined);
    if (!worker) {
      // None could be made (a script from another origin): the page hashes, this one first.
      if (onPage) continue;
      return;
    }
    waiting.shift();
    const id = ++jobs;
    worker.jobs.set(id, job);
    worker.postMessage({ id, blob: job.blob, code: job.code });
  }
}

/** A new worker, or undefined when none can start (the page then hashes itself). */
function start() {
  let worker;
  try {
    // In this form, bundlers (Vite, webpack 5) find the worker and bundle it too.
    worker = new Worker(new URL('./s3file_digest_worker.js', import.meta.url), { type: 'module' });
  } catch (error) {
    hashOnPage(error);
    return undefined;
  }
  worker.jobs = new Map();
  workers.push(worker);
  worker.onmessage = ({ data }) => {
    const job = worker.jobs.get(data.id);
    if (!job) return;
    if (data.read) return job.read?.();
    worker.jobs.delete(data.id);
    if (data.failed !== undefined) return lose(worker, [job], data.failed);
    worker.worked = true;
    if (data.unreadable) job.reject(unreadable());
    else job.resolve(data.digest);
    handOut();
  };
  // A script the page's policy forbids, or that does not load, ends here, as does a worker
  // that breaks down.
  worker.onerror = (event) => {
    event.preventDefault();
    lose(worker, [...worker.jobs.values()], event.message || 'it did not start');
  };
  return worker;
}

/** Ends `worker`, which failed for `reason` while computing `failed` and whatever else it had.
 *  A worker that never computed a checksum means none can start here: the page then hashes,
 *  its checksums included. One that did broke down: its checksums fail (their uploads are
 *  tried again), the other workers go on. */
function lose(worker, failed, reason) {
  worker.terminate();
  workers.splice(workers.indexOf(worker), 1);
  const orphans = [...new Set([...failed, ...worker.jobs.values()])];
  worker.jobs.clear();
  if (worker.worked) {
    for (const job of orphans) job.reject(new Error(`the checksum worker failed: ${reason}`));
  } else {
    waiting.unshift(...orphans);
    hashOnPage(reason);
  }
  handOut();
}

/** From now on, hashes on the page's own thread, as no worker could start for `reason`. */
function hashOnPage(reason) {
  if (onPage) return;
  console.warn(
    `s3file: checksums are computed on the page, in slices, as no Web Worker could start here (${reason}); ` +
      'uploads may be slower. Allow workers from this script\'s origin (CSP `worker-src`) to compute them apart.',
  );
  onPage = { wasm: instantiate(), last: Promise.resolve() };
  for (const worker of workers.splice(0)) worker.terminate();
}
