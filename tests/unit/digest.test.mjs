// The widget's checksums (widget/js/digest.js) against Node's own MD5 and CRC-32, on lengths
// around MD5's block and padding boundaries and on chunks that split blocks anywhere.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';

import { crc32, md5 } from '../../widget/js/digest.js';

const expectedMd5 = (bytes) => createHash('md5').update(bytes).digest('base64');
const expectedCrc32 = (bytes) => {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(zlibCrc32(bytes));
  return value.toString('base64');
};

/** A Blob-like whose stream hands out `bytes` in chunks of the given sizes (the rest last):
 *  each chunk a buffer of its own, as a Blob's stream hands them out, or with `views`, views
 *  into `bytes` itself at whatever offsets the sizes make (MD5 reads the whole blocks of an
 *  aligned chunk in place, and copies the rest). */
function chunked(bytes, sizes, views = false) {
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
          for (const chunk of chunks) controller.enqueue(views ? chunk : new Uint8Array(chunk));
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

test('chunks that split blocks anywhere give the same digests', async () => {
  // One byte into its buffer: a view's block boundaries are not word-aligned in memory.
  const bytes = randomBytes(5001).subarray(1);
  const splits = [[1], [63], [64], [65], [1, 1, 1], [10, 54, 1, 63, 128], [7, 200, 3, 3, 3, 900], [4999], [5000]];
  for (const sizes of splits) {
    for (const views of [false, true]) {
      const how = `in chunks ${sizes}${views ? ', views at unaligned offsets' : ''}`;
      assert.equal(await md5(chunked(bytes, sizes, views)), expectedMd5(bytes), `MD5 ${how}`);
      assert.equal(await crc32(chunked(bytes, sizes, views)), expectedCrc32(bytes), `CRC-32 ${how}`);
    }
  }
  const random = Array.from({ length: 40 }, () => 1 + Math.floor(Math.random() * 150));
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
