// Uploads through a network that breaks: a fault-injecting TCP proxy (support/faulty_proxy.mjs)
// stands between Chromium and the store, against the signer's embedded store and against
// SeaweedFS. It resets connections in the middle of request bodies, stalls them for a second
// and then resets them, hangs them for good, and answers 500 and 503 in the store's place. The
// demo page uploads a few dozen files in a few forms: small ones (1 KiB to 3 MiB, POSTed whole)
// and a few of 11 to 16 MiB that go up as multipart uploads in parts of 5 MiB (the signers run
// with a lowered threshold), submitting again after failures as a person would.
//
// The forms allow two retries per transfer (`data-s3file-retries="2"`) and a stall timeout of
// two seconds. The widget tries every transfer (a file sent whole, or one part) again after a
// transient fault, so what is checked is exact: a file fails only when one of its transfers
// failed three times in a row of tries (seen in the page, one XMLHttpRequest per try), and its
// error says what the last of them met; a stored file had no transfer fail more than twice; no
// try is left unfinished, so a hung connection never hangs the form. Every file ends stored byte
// for byte at its final key, or with a clear error and nothing at its final key (nor a
// partial object in the upload folder); a file stored in a form that never got through is not
// at its final key either. Progress goes back only by the bytes of the transfers that failed
// in the meantime, and ends at exactly 1. A multipart upload left unfinished is resumed by the
// next submit, which sends only the parts the store lacks. Some plans are imposed rather than
// drawn, so that every run gives up and gets through at the edge: part 2 of the first form's
// big file hangs at every try; part 1 of the third form's answers 500 to every try of the first
// attempt; part 2 of the fourth form's meets a 503 and a hang, then passes.
//
// The proxy's faults come from a seeded PRNG: S3FILE_FAULT_SEED picks another seed (the seed of
// a failing run is in its error message).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { FAULT_KINDS, prng } from './support/faulty_proxy.mjs';
import {
  SEED,
  MULTIPART_THRESHOLD,
  FORMS,
  IMPOSED,
  sha256,
  UNREACHABLE,
  succeeded,
  readObject,
  makeFiles,
  runForm,
  transfersOf,
  checkAttempts,
  describeAttempts,
  classifyFaults,
  STORES,
  storeSuite,
} from './support/fault_runs.mjs';

for (const { name: storeName, start } of STORES) {
  describe(`uploads through a faulty network to ${storeName}`, () => {
    const run = storeSuite(start, 'faults');

    const fileCount = FORMS.reduce((sum, form) => sum + form.small + form.big, 0);
    const bigCount = FORMS.reduce((sum, form) => sum + form.big, 0);
    test(`${fileCount} files (${bigCount} in parts) in ${FORMS.length} forms: each is stored intact or fails clearly once out of retries, and no form hangs`, async (t) => {
      const { setup, browser, dir, location } = run;
      const { proxy, origin, contextOptions, store } = setup;
      const random = prng(SEED ^ 0x5eed);
      const started = Date.now();
      const outcomes = [];
      const plans = [];
      const formAttempts = [];
      let abandoned = 0;
      try {
        for (const [index, form] of FORMS.entries()) {
          const label = `form ${index}`;
          const files = await makeFiles(dir, index, form, random);
          const { attempts, keys, signedKeys, stored } = await runForm({
            browser,
            contextOptions,
            origin,
            proxy,
            files,
            submits: form.submits,
            label,
          });
          t.diagnostic(`${label}: ${describeAttempts(attempts)}`);
          const ends = checkAttempts({ label, files, attempts });
          formAttempts.push(attempts);

          if (stored) {
            assert.deepEqual(
              stored.map(({ name, size }) => `${name}: ${size}`),
              files.map(({ name, buffer }) => `${name}: ${buffer.length} bytes`),
              `${label}: finalize lists every file, in order`,
            );
          }
          for (const file of files) {
            const end = ends.get(file.name);
            const uploadKey = keys.get(file.name);
            // Final keys are unique per upload: the location, the upload's folder id, the name.
            const finalKey = `${location}/${uploadKey.split('/').at(-2)}/${file.name}`;
            const final = await readObject(store, finalKey);
            const upload = await readObject(store, uploadKey);
            if (end === 'finalized') {
              assert.equal(stored.find(({ name }) => name === file.name).key, finalKey);
              assert.ok(final, `${label}: ${file.name} is at ${finalKey}`);
              assert.equal(sha256(final), sha256(file.buffer), `${label}: ${file.name} is stored byte for byte`);
              assert.equal(upload, null, `${label}: finalize moved ${uploadKey}`);
            } else {
              assert.equal(final, null, `${label}: ${file.name} ended ${end}, yet ${finalKey} exists`);
              if (end === 'failed') assert.equal(upload, null, `${label}: ${file.name} failed, yet ${uploadKey} exists`);
              else assert.equal(sha256(upload ?? ''), sha256(file.buffer), `${label}: ${file.name} is stored intact at ${uploadKey}`);
            }
            outcomes.push({ form: index, name: file.name, size: file.buffer.length, end, attempts: attempts.length });
          }
          // Uploads stored under instructions a later attempt signed afresh elsewhere stay in
          // the upload folder, for its lifecycle rule: counted, not asserted.
          const current = new Set(keys.values());
          for (const key of signedKeys.filter((key) => !current.has(key))) {
            if (await readObject(store, key)) abandoned += 1;
          }
          plans.push(...attempts.flatMap((attempt) => attempt.plans));
        }

        // The imposed plans did what they were for. Form 0's big file gave up on a part that hung
        // at every try, each try ended by the stall timeout, within the attempt's bound.
        const triesOf = (attempt, name, part) => transfersOf(attempt, name).get(`${name}#${part}`) ?? [];
        const errorOf = (attempt, name) => attempt.events.find((event) => event.type === 's3file:error' && event.detail.fileName === name);
        const [hanging, refused, absorbed] = IMPOSED;
        const [hung] = formAttempts[0];
        assert.match(errorOf(hung, hanging.name)?.detail.message ?? '', UNREACHABLE, `form 0: ${hanging.name} fails, its part ${hanging.part} hanging`);
        const hungTries = triesOf(hung, hanging.name, hanging.part);
        assert.ok(
          hungTries.length > 0 && hungTries.every((end) => end.how === 'stalled' || end.how === 'dropped'),
          `form 0: each try of the hanging part was given up on: ${JSON.stringify(hungTries)}`,
        );
        // Form 2's big file fails in the first attempt, after at most three 500s; the next
        // attempt resumed its upload (checked above).
        assert.ok(errorOf(formAttempts[2][0], refused.name), `form 2: ${refused.name} fails in the first attempt`);
        const refusedTries = triesOf(formAttempts[2][0], refused.name, refused.part);
        assert.ok(
          refusedTries.length > 0 && refusedTries.every((end) => end.status === 500 || end.how === 'dropped'),
          `form 2: each try of part ${refused.part} got a 500: ${JSON.stringify(refusedTries)}`,
        );
        // Form 3's big file is stored in the first attempt: a 503 and a hang, as many failures as
        // there are retries, are absorbed.
        const [first] = formAttempts[3];
        assert.ok(
          first.events.some((event) => event.type === 's3file:done' && event.detail.name === absorbed.name),
          `form 3: ${absorbed.name} is stored in the first attempt`,
        );
        assert.deepEqual(
          triesOf(first, absorbed.name, absorbed.part).map((end) => (succeeded(end) ? 'stored' : `${end.how} ${end.status}`)),
          ['answered 503', 'stalled 0', 'stored'],
          `form 3: part ${absorbed.part} of ${absorbed.name} met a 503, then a hang, then went through`,
        );

        const stats = proxy.stats();
        for (const kind of FAULT_KINDS) assert.ok(stats[kind] >= 1, `the proxy injected ${kind} at least once: ${JSON.stringify(stats)}`);
        const count = (end) => outcomes.filter((outcome) => outcome.end === end).length;
        assert.ok(count('finalized') >= 1, 'some forms got through to finalize');
        assert.ok(
          outcomes.some((outcome) => outcome.end === 'finalized' && outcome.size > MULTIPART_THRESHOLD),
          'some multipart upload got through to finalize',
        );
        assert.ok(count('failed') >= 1, 'some files ended failed');
        // Drawn faults are absorbed by retries. How many depends on which files they hit (a fault
        // on a file that failed already is not retried), which depends on timing: the exact
        // per-file checks above are the real test; this one only makes sure it was exercised.
        // Alone, about three in four are absorbed; with the rest of the suite sharing two cores,
        // as few as 8 of 19. A third still tells retries that work from retries that do not.
        const drawn = plans.filter((plan) => plan.kind !== 'pass' && !plan.forced);
        const drawnAbsorbed = drawn.filter((plan) => plan.outcome === 'absorbed').length;
        assert.ok(drawnAbsorbed >= drawn.length / 3, `retries absorbed ${drawnAbsorbed} of ${drawn.length} drawn faults`);

        // What came of each fault, for the record: absorbed (by Chromium sending the request
        // again, or by the widget's retry) or not, and whose file then failed.
        for (const attempt of formAttempts.flat()) classifyFaults(attempt);
        const byKind = Object.fromEntries(
          ['pass', ...FAULT_KINDS].map((kind) => {
            const of = plans.filter((plan) => plan.kind === kind);
            if (kind === 'pass') return [kind, `${of.length}`];
            const tally = (plansOf) => {
              const fates = ['resent', 'retried', 'dropped', 'ended', 'unmatched'].map((fate) => `${fate} ${plansOf.filter((plan) => plan.fate === fate).length}`);
              const failed = plansOf.filter((plan) => plan.outcome !== 'absorbed').length;
              return `${plansOf.length} (${fates.join(', ')}; absorbed ${plansOf.length - failed}, not absorbed ${failed})`;
            };
            const imposed = of.filter((plan) => plan.forced);
            return [kind, `${tally(of.filter((plan) => !plan.forced))}${imposed.length ? `; imposed ${tally(imposed)}` : ''}`];
          }),
        );
        const tries = formAttempts.flat().flatMap((attempt) => attempt.events.filter((event) => event.type === 'tried'));
        const how = Object.fromEntries(['answered', 'error', 'stalled', 'dropped'].map((kind) => [kind, tries.filter((end) => end.how === kind).length]));
        t.diagnostic(`seed ${SEED}; ${((Date.now() - started) / 1000).toFixed(1)} s`);
        t.diagnostic(`files: ${count('finalized')} finalized, ${count('failed')} failed, ${count('stored')} stored but not submitted`);
        t.diagnostic(`uploads left in replaced upload folders: ${abandoned}`);
        t.diagnostic(`proxy: ${JSON.stringify(stats)}`);
        t.diagnostic(`faults: ${JSON.stringify(byKind)}`);
        t.diagnostic(`tries: ${tries.length} ${JSON.stringify(how)}`);
      } catch (error) {
        error.message += `\n(seed ${SEED}: rerun with S3FILE_FAULT_SEED=${SEED}; proxy ${JSON.stringify(proxy.stats())})`;
        throw error;
      }
    });
  });
}
