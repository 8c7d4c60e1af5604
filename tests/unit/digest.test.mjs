// The widget's checksums as digest.js computes them with the hasher's wasm (www/pkg/s3file_digest.wasm,
// which the widget build makes from digest/), against Node's own MD5 and CRC-32 (and a CRC-64/NVME
// written here from its catalogue parameters): on lengths around
// MD5's block and padding boundaries, on stream chunks that split blocks anywhere, and on chunks
// larger than the wasm takes at once.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';

import { SLOTS, hash } from '../../widget/js/digest.js';

const WASM = new URL('../../www/pkg/s3file_digest.wasm', import.meta.url);
const { instance } = await WebAssembly.instantiate(readFileSync(WASM));
const wasm = instance.exports;
const MD5 = 0;
const CRC32 = 1;
const MD5_AND_CRC64NVME = 2;
const base64 = (bytes) => Buffer.from(bytes).toString('base64');
const md5 = async (blob, read, sliced) => base64(await hash(wasm, blob, MD5, read, sliced));
const crc32 = async (blob, read, sliced) => base64(await hash(wasm, blob, CRC32, read, sliced));

/** CRC-64/NVME, bit by bit: reflected polynomial 0x9a6c9329ac4bc9b5, initial value and final XOR
 *  all ones (the CRC catalogue's parameters), big-endian in base64 as S3 writes it. */
function expectedCrc64Nvme(bytes) {
  const mask = (1n << 64n) - 1n;
  let crc = mask;
  for (const byte of bytes) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ 0x9a6c9329ac4bc9b5n : crc >> 1n;
  }
  const value = Buffer.alloc(8);
  value.writeBigUInt64BE(crc ^ mask);
  return value.toString('base64');
}

const expectedMd5 = (bytes) => createHash('md5').update(bytes).digest('base64');
const expectedCrc32 = (bytes) => {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(zlibCrc32(bytes));
  return value.toString('base64');
};

/** A Blob-like whose stream hands out `bytes` in chunks of the given sizes (the rest last): each
 *  chunk a buffer of its own, as a Blob's stream hands them out, or with `views`, views into
 *  `bytes` itself at whatever offsets the sizes make. With `failAfter`, the read after that many
 *  chunks fails as Chromium's does for a file changed on disk. */
function chunked(bytes, sizes, { views = false, failAfter } = {}) {
  return {
    stream() {
      let at = 0;
      const chunks = [];
      for (const size of sizes) {
        chunks.push(bytes.subarray(at, at + size));
        at += size;
      }
      chunks.push(bytes.subarray(at));
      return new ReadableStream({
        start(controller) {
          for (const [index, chunk] of chunks.entries()) {
            if (index === failAfter) return controller.error(new DOMException('changed', 'NotReadableError'));
            controller.enqueue(views ? chunk : new Uint8Array(chunk));
          }
          controller.close();
        },
      });
    },
  };
}

test('MD5 and CRC-32 match Node on lengths around block and padding boundaries', async () => {
  for (const length of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65536 + 7]) {
    const bytes = randomBytes(length);
    const blob = new Blob([bytes]);
    assert.equal(await md5(blob), expectedMd5(bytes), `MD5 of ${length} bytes`);
    assert.equal(await crc32(blob), expectedCrc32(bytes), `CRC-32 of ${length} bytes`);
  }
});

test('known answers: RFC 1321 and the CRC-32 check value', async () => {
  const text = (value) => new Blob([value]);
  assert.equal(Buffer.from(await md5(text('')), 'base64').toString('hex'), 'd41d8cd98f00b204e9800998ecf8427e');
  assert.equal(
    Buffer.from(await md5(text('message digest')), 'base64').toString('hex'),
    'f96b697d7cb7938d525a2f31aaf161d0',
  );
  assert.equal(Buffer.from(await crc32(text('123456789')), 'base64').toString('hex'), 'cbf43926');
});

test('chunks that split blocks anywhere, or exceed what the wasm takes at once, give the same digests', async () => {
  // One byte into its buffer: a view's blocks are not word-aligned in memory.
  const bytes = randomBytes(700_001).subarray(1);
  const quarter = 1 << 18;
  const splits = [[1], [63], [64], [65], [1, 1, 1], [10, 54, 1, 63, 128], [quarter], [quarter + 1, quarter - 1], [699_999]];
  for (const sizes of splits) {
    for (const views of [false, true]) {
      const how = `in chunks ${sizes}${views ? ', views at unaligned offsets' : ''}`;
      assert.equal(await md5(chunked(bytes, sizes, { views })), expectedMd5(bytes), `MD5 ${how}`);
      assert.equal(await crc32(chunked(bytes, sizes, { views })), expectedCrc32(bytes), `CRC-32 ${how}`);
    }
  }
  const random = Array.from({ length: 40 }, () => 1 + Math.floor(Math.random() * 30_000));
  assert.equal(await md5(chunked(bytes, random)), expectedMd5(bytes), `MD5 in chunks ${random}`);
});

test('a file read as several slices, as parts are', async () => {
  const bytes = randomBytes(3 * 1024 * 1024 + 17);
  const blob = new Blob([bytes.subarray(0, 1000), bytes.subarray(1000)]);
  const size = 1024 * 1024;
  for (let start = 0; start < bytes.length; start += size) {
    const part = bytes.subarray(start, start + size);
    assert.equal(await md5(blob.slice(start, start + size)), expectedMd5(part), `MD5 of the part at ${start}`);
  }
});

test('each chunk read is reported, so a slow read is not taken for a stalled one', async () => {
  const bytes = randomBytes(1000);
  for (const [name, digest] of [['MD5', md5], ['CRC-32', crc32]]) {
    let reads = 0;
    await digest(chunked(bytes, [100, 200, 300]), () => (reads += 1));
    assert.equal(reads, 4, `${name}: four chunks, four reports`);
  }
  assert.equal(await md5(chunked(bytes, [10])), expectedMd5(bytes), 'without a callback it reads as before');
});

test('a read that fails is marked unreadable, and the next checksum starts clean', async () => {
  const bytes = randomBytes(5000);
  await assert.rejects(md5(chunked(bytes, [1000, 1000], { failAfter: 1 })), (error) => error.unreadable === true);
  // A small Blob is read whole.
  const gone = { size: 10, arrayBuffer: () => Promise.reject(new DOMException('gone', 'NotFoundError')) };
  await assert.rejects(md5(gone), (error) => error.unreadable === true);
  assert.equal(await md5(new Blob([bytes])), expectedMd5(bytes));
});

test('a small Blob is read whole, a large one as a stream, with a report after each read', async () => {
  for (const size of [1 << 20, (1 << 20) + 1]) {
    const bytes = randomBytes(size);
    const blob = new Blob([bytes]);
    let reads = 0;
    let streamed = false;
    const watched = { size, arrayBuffer: () => blob.arrayBuffer(), stream: () => ((streamed = true), blob.stream()) };
    assert.equal(await md5(watched, () => (reads += 1)), expectedMd5(bytes), `${size} bytes`);
    assert.equal(streamed, size > 1 << 20, `${size} bytes: streamed`);
    assert.ok(reads >= 1, `${size} bytes: reads reported`);
  }
});

test('hashing in slices gives the thread turns and the same digest', async () => {
  // 16 MiB: at any speed this machine has, MD5 takes longer than one slice.
  const bytes = randomBytes(16 << 20);
  let turns = 0;
  const ticker = setInterval(() => (turns += 1), 0);
  try {
    assert.equal(await md5(new Blob([bytes]), undefined, true), expectedMd5(bytes));
  } finally {
    clearInterval(ticker);
  }
  assert.ok(turns > 0, 'timers ran while the file was hashed');
});

test('several checksums at once, each in its slot, give each its own digest', async () => {
  const files = Array.from({ length: SLOTS }, (_, index) => randomBytes(100_000 + index * 7919));
  // Chunks small enough that the reads interleave.
  const digests = await Promise.all(
    files.map((bytes, slot) => hash(wasm, chunked(bytes, Array(20).fill(4000)), slot % 2 ? CRC32 : MD5, undefined, false, slot)),
  );
  files.forEach((bytes, slot) => {
    assert.equal(base64(digests[slot]), slot % 2 ? expectedCrc32(bytes) : expectedMd5(bytes), `slot ${slot}`);
  });
  await assert.rejects(hash(wasm, new Blob(['x']), MD5, undefined, false, SLOTS), /no checksum algorithm/);
});

test("a part's digest is its MD5, then its CRC-64/NVME, in one pass", async () => {
  assert.equal(expectedCrc64Nvme(Buffer.from('123456789')), Buffer.from('ae8b14860a799888', 'hex').toString('base64'));
  for (const length of [0, 1, 7, 8, 9, 63, 64, 65, 1000, 70_001]) {
    const bytes = randomBytes(length);
    for (const sizes of [[], [1, 2, 3], Array(10).fill(6007)]) {
      const digest = await hash(wasm, chunked(bytes, sizes), MD5_AND_CRC64NVME);
      assert.equal(digest.length, 24, `${length} bytes`);
      assert.equal(base64(digest.subarray(0, 16)), expectedMd5(bytes), `MD5 of ${length} bytes in chunks ${sizes}`);
      assert.equal(base64(digest.subarray(16)), expectedCrc64Nvme(bytes), `CRC-64/NVME of ${length} bytes in chunks ${sizes}`);
    }
  }
});
