// Bytes changed on their way to the store: the faulty proxy flips one bit of the first try of
// every transfer (a file POSTed whole, each part of a multipart upload). Under each checksum the
// signer can ask for (S3FILE_CHECKSUM), a transfer whose checksum the store verifies must be
// refused, sent again, and kept byte for byte; one the store does not verify is kept as it
// arrived, which shows what each choice protects. Against the dev store and SeaweedFS.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  PART_SIZE,
  sha256,
  readObject,
  runForm,
  transfersOf,
  describeAttempts,
  STORES,
  storeSuite,
} from './support/fault_runs.mjs';

/** Per store, what each S3FILE_CHECKSUM protects: whether the store verifies a POST's checksum
 *  and a part's (each part carries Content-MD5 unless checksums are off). `auto` is listed as
 *  what it chooses. */
const VERIFIES = {
  'the embedded dev store': {
    // The dev store, as AWS documents: Content-MD5 on a POST, no x-amz-checksum-* field.
    'auto (md5)': { env: {}, post: true, parts: true },
    crc32: { env: { S3FILE_CHECKSUM: 'crc32' }, post: false, parts: true },
    off: { env: { S3FILE_CHECKSUM: 'off' }, post: false, parts: false },
  },
  SeaweedFS: {
    'auto (crc32)': { env: {}, post: true, parts: true },
    // SeaweedFS ignores a POST's Content-MD5 and refuses a policy that names it: md5 is for
    // AWS. Its PUTs and parts still carry Content-MD5, which it checks.
    'md5, uploads by PUT': { env: { S3FILE_CHECKSUM: 'md5', S3FILE_UPLOAD_METHOD: 'put' }, post: true, parts: true },
    off: { env: { S3FILE_CHECKSUM: 'off' }, post: false, parts: false },
  },
};

for (const { name: storeName, start } of STORES) {
  for (const [mode, { env, post, parts }] of Object.entries(VERIFIES[storeName])) {
    describe(`bytes changed on their way to ${storeName}, checksums ${mode}`, () => {
      // The first try of each transfer has one bit of its file flipped, the others pass. A POST
      // names its file only in its body: the first POST is the small file's first try.
      const run = storeSuite(
        start,
        'corrupt',
        () => {
          const tried = new Set();
          const choose = ({ method, name, part }) => {
            const transfer = method === 'POST' ? 'POST' : `${name}#${part ?? 1}`;
            if (tried.has(transfer)) return 'pass';
            tried.add(transfer);
            return 'corrupt';
          };
          return { mix: { pass: 1 }, cover: false, choose };
        },
        env,
      );

      const what = [post && 'a whole file', parts && 'each part'].filter(Boolean).join(' and ') || 'nothing';
      test(`the store refuses ${what} that does not match its checksum; the widget sends it again; the rest is kept as it arrived`, async () => {
        const { setup, browser, dir, location } = run;
        const { proxy, origin, contextOptions, store } = setup;
        // One file uploaded whole, one in three parts.
        const files = await Promise.all(
          [
            ['small.bin', 200 * 1024],
            ['big.bin', 2 * PART_SIZE + 12_345],
          ].map(async ([name, size]) => {
            const buffer = randomBytes(size);
            const path = join(dir, name);
            await writeFile(path, buffer);
            return { name, path, buffer };
          }),
        );
        const { attempts, stored } = await runForm({ browser, contextOptions, origin, proxy, files, submits: 1, label: 'corrupt' });
        const [attempt] = attempts;
        assert.equal(attempt.ending, 'finalized', describeAttempts(attempts));
        assert.equal(proxy.stats().corrupt, 4, 'the small file and each part had a bit flipped once');

        const verified = (transfer) => (transfer.startsWith('small.bin') ? post : parts);
        const transfers = transfersOf(attempt, 'corrupt');
        assert.deepEqual(
          [...transfers.entries()].map(([key, tries]) => [key, tries.map((end) => end.status)]).sort(),
          ['big.bin#1', 'big.bin#2', 'big.bin#3', 'small.bin#1'].map((key) => {
            // A POST is answered 201, as the policy asks; a PUT or a part 200.
            const ok = key === 'small.bin#1' && env.S3FILE_UPLOAD_METHOD !== 'put' ? 201 : 200;
            return [key, verified(key) ? [400, ok] : [ok]];
          }),
          'a verified transfer was refused once, then stored; another was stored at once',
        );
        assert.deepEqual(
          stored.map(({ name }) => name),
          files.map(({ name }) => name),
        );
        for (const file of files) {
          const { key } = stored.find(({ name }) => name === file.name);
          assert.ok(key.startsWith(`${location}/`) && key.endsWith(`/${file.name}`), key);
          const final = await readObject(store, key);
          const intact = file.name === 'small.bin' ? post : parts;
          if (intact) assert.equal(final && sha256(final), sha256(file.buffer), `${file.name} is stored byte for byte`);
          else assert.notEqual(final && sha256(final), sha256(file.buffer), `${file.name} is stored as it arrived, changed`);
        }
      });
    });
  }
}
