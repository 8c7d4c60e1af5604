// Checksums of a Blob, which the store verifies: MD5 (RFC 1321) for `Content-MD5`, CRC-32 (the
// ISO-HDLC one of zlib and gzip) for `x-amz-checksum-crc32`, both in base64. The Blob is read as
// a stream, a chunk at a time: memory stays flat whatever the file's size. Browsers have no
// streaming MD5 or CRC (`crypto.subtle` digests whole buffers, and has no MD5), hence these few
// lines; their results are checked against Node's `crypto` and `zlib`
// (tests/unit/digest.test.mjs), their speed in tests/bench/digest.mjs.

/** Feeds the chunks of `blob` to `update`, calling `read` after each, then answers the base64
 *  of the bytes `finish` returns. A stream whose chunks are at hand resolves its reads without leaving the task, so
 *  after each chunk (up to 2 MiB in Chromium) the page gets its turn: it stays responsive, and
 *  other uploads' events come through, while a large file is read. */
async function digest(blob, update, finish, read) {
  // The stream's own chunks, not a BYOB reader into one buffer: in Chromium 156 BYOB reads of
  // a file hang for good after a gigabyte or two (tests/bench/multipart.mjs's 2 GiB upload).
  const reader = blob.stream().getReader();
  // Turns are messages to itself: unlike timers, they are not held back 4 ms once nested.
  const { port1, port2 } = new MessageChannel();
  for (let chunk; !(chunk = await reader.read()).done; ) {
    update(chunk.value);
    read?.();
    await new Promise((resolve) => {
      port1.onmessage = resolve;
      port2.postMessage(0);
    });
  }
  port1.close();
  return btoa(String.fromCharCode(...finish()));
}

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, byte) => {
  for (let bit = 0; bit < 8; bit++) byte = byte & 1 ? 0xedb88320 ^ (byte >>> 1) : byte >>> 1;
  return byte;
});

/** The CRC-32 of `blob`, big-endian, as S3 takes it: a promise of its base64. `read`, if given,
 *  is called after each chunk read. */
export function crc32(blob, read) {
  let crc = -1;
  const update = (bytes) => {
    // A local, not the closure's variable, in the loop: several times faster.
    let value = crc;
    for (let at = 0; at < bytes.length; at++) value = CRC_TABLE[(value ^ bytes[at]) & 255] ^ (value >>> 8);
    crc = value;
  };
  return digest(blob, update, () => [24, 16, 8, 0].map((shift) => (~crc >>> shift) & 255), read);
}

// MD5's constants: the sines, and the rotation of each step (four per round).
const SINES = Int32Array.from({ length: 64 }, (_, step) => Math.abs(Math.sin(step + 1)) * 2 ** 32);
const ROTATIONS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

/** The MD5 of `blob`: a promise of its base64. `read`, if given, is called after each chunk
 *  read. */
export function md5(blob, read) {
  const state = Int32Array.of(0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476);
  // The block being filled, and its words (little-endian, as every platform browsers run on).
  const block = new Uint8Array(64);
  const words = new Int32Array(block.buffer);
  let length = 0;

  const compress = (words, at) => {
    let a = state[0], b = state[1], c = state[2], d = state[3];
    for (let step = 0; step < 64; step++) {
      let mixed, word;
      if (step < 16) (mixed = (b & c) | (~b & d)), (word = step);
      else if (step < 32) (mixed = (d & b) | (~d & c)), (word = 5 * step + 1);
      else if (step < 48) (mixed = b ^ c ^ d), (word = 3 * step + 5);
      else (mixed = c ^ (b | ~d)), (word = 7 * step);
      const rotation = ROTATIONS[((step >> 4) << 2) | (step & 3)];
      const sum = (a + mixed + SINES[step] + words[at + (word & 15)]) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << rotation) | (sum >>> (32 - rotation)))) | 0;
    }
    // An Int32Array wraps the sums, as MD5 wants.
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
  };

  // `& 63` is exact beyond 2 ** 32 bytes too: ToInt32 drops multiples of 2 ** 32.
  const update = (bytes) => {
    let at = 0;
    // Whole blocks of a chunk are read where they are, as words, when the chunk is aligned (a
    // stream's chunks are): no copy and no new view per block, about 1.4 times as fast in
    // Chromium (tests/bench/digest.mjs). The rest goes through `block`.
    if (!(length & 63) && !(bytes.byteOffset & 3)) {
      const whole = bytes.length >> 6;
      const view = new Int32Array(bytes.buffer, bytes.byteOffset, whole << 4);
      for (; at < whole << 6; at += 64) compress(view, at >> 2);
      length += at;
    }
    for (let take; at < bytes.length; at += take) {
      take = Math.min(64 - (length & 63), bytes.length - at);
      block.set(bytes.subarray(at, at + take), length & 63);
      if (!((length += take) & 63)) compress(words, 0);
    }
  };

  return digest(blob, update, () => {
    // 0x80, zeros up to 56 bytes past a block's start, then the length in bits as two
    // little-endian words (an Int32Array keeps the low 32 bits of each value).
    const bits = length * 8;
    update(Uint8Array.of(0x80));
    while ((length & 63) != 56) update(Uint8Array.of(0));
    words[14] = bits;
    words[15] = bits / 2 ** 32;
    compress(words, 0);
    return new Uint8Array(state.buffer);
  }, read);
}
