// digest.js's `checksum` for the parts of a multipart upload: asked for one part (a Blob that
// effects.js's `slice` tagged with its file and start), it hashes the next parts ahead of their
// turn, and a part asked for later is answered from what was hashed ahead, without reading it
// again. Node has no Web Worker, so digest.js hashes on its own thread, as it does on a page whose
// policy forbids workers: the same queue, the same wasm.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';

const WASM = new URL('../../www/pkg/s3file_digest.wasm', import.meta.url);
globalThis.navigator ??= { hardwareConcurrency: 2 };
globalThis.fetch = async () => new Response(readFileSync(WASM));
// The one warning that checksums are computed on the page.
const warnings = [];
console.warn = (message) => warnings.push(message);
const { checksum, partChecksums } = await import('../../widget/js/digest.js');

const md5 = (bytes) => createHash('md5').update(bytes).digest('base64');
const crc32 = (bytes) => {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(zlibCrc32(bytes));
  return value.toString('base64');
};

const PART = 1000;

/** A file of `bytes` whose slices digest.js makes are recorded by start (`ahead`), and its parts
 *  as effects.js's `slice` makes them, whose own reads are recorded by start (`read`). */
function watchedFile(bytes) {
  const blob = new Blob([bytes]);
  const ahead = [];
  const read = [];
  const file = { size: blob.size, slice: (start, end) => (ahead.push(start), blob.slice(start, end)) };
  const part = (start) => {
    const slice = blob.slice(start, start + PART);
    const arrayBuffer = () => (read.push(start), slice.arrayBuffer());
    return { size: slice.size, arrayBuffer, file, start };
  };
  return { ahead, read, part };
}

// First: the first checksum finds that no worker can be made (`new Worker` throws, as it does for
// a script from another origin) and must be computed on the page, not left waiting.
test('a whole file, the first checksum, is computed on the page when no worker can be made', async () => {
  const bytes = randomBytes(2 * PART);
  assert.equal(await checksum(new Blob([bytes]), 'Content-MD5'), md5(bytes));
  assert.equal(warnings.length, 1, 'one warning that the page hashes');
});

test('a part asked for hashes the four after it ahead, which are then found done', async () => {
  const bytes = randomBytes(6 * PART + 1);
  const { ahead, read, part } = watchedFile(bytes);
  const expected = (start) => md5(bytes.subarray(start, start + PART));

  assert.equal(await checksum(part(0), 'Content-MD5'), expected(0));
  assert.deepEqual(ahead, [1000, 2000, 3000, 4000], 'the next four parts, sliced from the file');
  assert.deepEqual(read, [0], 'the part asked for, read itself');

  let reports = 0;
  assert.equal(await checksum(part(1000), 'Content-MD5', () => (reports += 1)), expected(1000));
  assert.deepEqual(read, [0], 'the second part was not read again');
  assert.deepEqual(ahead.slice(4), [5000], 'only the part now four ahead is new');

  // The last part is one byte: sliced ahead with the parts' size, cut by the file's end.
  for (const start of [2000, 3000, 4000, 5000, 6000]) assert.equal(await checksum(part(start), 'Content-MD5'), expected(start));
  assert.deepEqual(read, [0], 'every later part came from what was hashed ahead');
  assert.deepEqual(ahead, [1000, 2000, 3000, 4000, 5000, 6000], 'each part sliced once, none past the end');
  assert.equal(warnings.length, 1, 'still one warning');
});

test('a part asked for with another algorithm, or asked for again, is hashed anew', async () => {
  const bytes = randomBytes(3 * PART);
  const { ahead, read, part } = watchedFile(bytes);
  assert.equal(await checksum(part(0), 'Content-MD5'), md5(bytes.subarray(0, PART)));
  assert.deepEqual(ahead, [1000, 2000]);
  // CRC-32 where MD5 was hashed ahead.
  assert.equal(await checksum(part(1000), 'x-amz-checksum-crc32'), crc32(bytes.subarray(1000, 2000)));
  assert.deepEqual(read, [0, 1000], 'the part hashed ahead with MD5 was read again for its CRC-32');
  // A part sent again (its transfer failed) takes what was hashed ahead only once.
  assert.equal(await checksum(part(2000), 'Content-MD5'), md5(bytes.subarray(2000)));
  assert.equal(await checksum(part(2000), 'Content-MD5'), md5(bytes.subarray(2000)));
  assert.deepEqual(read, [0, 1000, 2000], 'the second time, it was read');
});

test("each part's CRC-64/NVME is kept, and listed once every part of the file was sent", async () => {
  const bytes = randomBytes(3 * PART + 10);
  const { part } = watchedFile(bytes);
  const file = part(0).file;
  // digest.test.mjs checks the CRC itself against a reference; here, that each part has its own.
  for (const start of [1000, 0, 3000]) await checksum(part(start), 'Content-MD5');
  assert.equal(partChecksums(file), undefined, 'part 3 (at 2000) was not sent: no list');
  await checksum(part(2000), 'Content-MD5');
  const crcs = partChecksums(file);
  assert.equal(crcs.length, 4);
  assert.ok(crcs.every((crc) => Buffer.from(crc, 'base64').length === 8), `${crcs}`);
  assert.equal(new Set(crcs).size, 4, 'random parts have different CRCs');
  // The same bytes give the same CRC, wherever they are.
  const twice = randomBytes(PART);
  const { part: partOfTwice } = watchedFile(Buffer.concat([twice, twice]));
  for (const start of [0, 1000]) await checksum(partOfTwice(start), 'Content-MD5');
  const [first, second] = partChecksums(partOfTwice(0).file);
  assert.equal(first, second);
  // A file none of whose parts went up, and a whole file's checksum, keep nothing.
  assert.equal(partChecksums(watchedFile(bytes).part(0).file), undefined);
});
