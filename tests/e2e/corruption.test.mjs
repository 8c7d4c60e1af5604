// Bytes changed on their way to the store: the faulty proxy flips one bit of the first try of
// every transfer (a file POSTed whole, each part of a multipart upload). The store must refuse
// each corrupted body by its checksum, the widget must send it again, and what is finally kept
// must be the file byte for byte; against the dev store and SeaweedFS.

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

for (const { name: storeName, start } of STORES) {
  describe(`bytes changed on their way to ${storeName}`, () => {
    // The first try of each transfer has one bit of its file flipped, the others pass. A POST
    // names its file only in its body: the first POST is the small file's first try.
    const run = storeSuite(start, 'corrupt', () => {
      const tried = new Set();
      const choose = ({ method, name, part }) => {
        const transfer = method === 'POST' ? 'POST' : `${name}#${part ?? 1}`;
        if (tried.has(transfer)) return 'pass';
        tried.add(transfer);
        return 'corrupt';
      };
      return { mix: { pass: 1 }, cover: false, choose };
    });

    test('the store refuses what does not match its checksum, the widget sends it again, and what is kept is intact', async () => {
      const { setup, browser, dir, location } = run;
      const { proxy, origin, contextOptions, store } = setup;
      // One file POSTed whole, one in three parts.
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

      const corrupted = attempt.plans.filter((plan) => plan.kind === 'corrupt');
      assert.equal(proxy.stats().corrupt, 4, 'the small file and each part had a bit flipped once');
      assert.deepEqual(
        corrupted.map((plan) => plan.status),
        [400, 400, 400, 400],
        `the store refused every corrupted body: ${JSON.stringify(corrupted)}`,
      );
      const transfers = transfersOf(attempt, 'corrupt');
      assert.deepEqual(
        [...transfers.entries()].map(([key, tries]) => [key, tries.map((end) => end.status)]).sort(),
        [['big.bin#1', [400, 200]], ['big.bin#2', [400, 200]], ['big.bin#3', [400, 200]], ['small.bin#1', [400, 201]]],
        'each transfer was refused once, then stored',
      );
      assert.deepEqual(
        stored.map(({ name }) => name),
        files.map(({ name }) => name),
      );
      for (const file of files) {
        const { key } = stored.find(({ name }) => name === file.name);
        assert.ok(key.startsWith(`${location}/`) && key.endsWith(`/${file.name}`), key);
        const final = await readObject(store, key);
        assert.equal(final && sha256(final), sha256(file.buffer), `${file.name} is stored byte for byte`);
      }
    });
  });
}
