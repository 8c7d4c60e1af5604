// What the fault tests share (faults.test.mjs, corruption.test.mjs): the forms, the seeded
// fault mix and the plans imposed on every run, the stores behind the faulty proxy, one form
// uploaded and submitted in Chromium with every request and event recorded, and the checks of
// what each attempt met (support/faulty_proxy.mjs is the proxy itself).

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { launchBrowser } from './browser.mjs';
import { parseSeed, startFaultyProxy } from './faulty_proxy.mjs';
import { keyPath, s3Request } from './s3.mjs';
import { seaweedfsConfig, startDevSigner, startSeaweedfsSigner } from './signer.mjs';

export const SEED = parseSeed(process.env.S3FILE_FAULT_SEED ?? 20_261_122);
const MIB = 1024 * 1024;
// The forms' settings: few retries, so that running out of them happens and is checked, and a
// short stall timeout, so that a hung upload is given up on quickly.
const RETRIES = 2;
const STALL_TIMEOUT_S = 2;
// A stall resets the connection after a second, before the widget's stall timeout: the widget
// sees a network error. A hang never ends: the widget's stall timeout must end it.
const STALL_MS = 1_000;
// A quarter of the transfers break.
const MIX = { pass: 0.75, reset: 0.065, stall: 0.05, hang: 0.025, error500: 0.055, error503: 0.055 };
// Multipart uploads above 6 MiB, in parts of 5 MiB (S3's least).
export const MULTIPART_THRESHOLD = 6 * MIB;
export const PART_SIZE = 5 * MIB;
const MULTIPART_ENV = {
  S3FILE_MULTIPART_THRESHOLD: String(MULTIPART_THRESHOLD),
  S3FILE_MULTIPART_PART_SIZE: String(PART_SIZE),
};
// Four forms: `small` files of 1 KiB to 3 MiB and `big` ones of 11 to 16 MiB, at seeded places.
// The first form is sent once: its failures stay failures. The others are submitted again, up
// to five times in all, while files fail.
export const FORMS = [
  { small: 7, big: 1, submits: 1 },
  { small: 8, big: 0, submits: 5 },
  { small: 6, big: 1, submits: 5 },
  { small: 6, big: 1, submits: 5 },
];
// Plans imposed on the parts of big files rather than drawn: `kinds` for the part's first
// requests, then `then` for the others (drawn when undefined). `part: null` stands for the
// file's parts not listed.
export const IMPOSED = [
  // Every try of this part hangs: the file fails once the stall timeout ended three of them.
  // Its other parts pass (the last entry), so that no drawn fault makes it fail otherwise first.
  { name: 'form0-big0.bin', part: 2, kinds: [], then: 'hang' },
  // The first attempt's three tries of this part get a 500: the file fails, and the next
  // submit resumes its multipart upload.
  { name: 'form2-big0.bin', part: 1, kinds: Array(RETRIES + 1).fill('error500') },
  // As many failures as retries, a 503 and a hang, then the part goes through; the file's
  // other parts pass: it is stored in the first attempt.
  { name: 'form3-big0.bin', part: 2, kinds: ['error503', 'hang', 'pass'] },
  { name: 'form3-big0.bin', part: null, kinds: [], then: 'pass' },
  { name: 'form0-big0.bin', part: null, kinds: [], then: 'pass' },
];
const MIN_SIZE = 1024;
const MAX_SIZE = 3 * MIB;
const BIG_MIN_SIZE = 11 * MIB;
const BIG_MAX_SIZE = 16 * MIB;
// Longest an attempt may take. The worst a transfer can meet is three hangs (three stall
// timeouts and two backoff delays, 8 s), and a form has at most four transfers at once.
const ATTEMPT_TIMEOUT_MS = 45_000;
const DEV_BUCKET = 's3file-dev';

export const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the widget says (after `could not upload <name>`) when the proxy broke an upload; a
 *  multipart upload has no one URL to name. */
export const UNREACHABLE = /: the storage(?: at \S+)? could not be reached$/;
const REFUSED = {
  error500: / \(HTTP 500\): We encountered an internal error\. Please try again\.$/,
  error503: / \(HTTP 503\): Please reduce your request rate\.$/,
};
/** The message a transfer's failed try leads to when it was the last one. */
const MESSAGE_OF = (end) => (end.status === 500 ? REFUSED.error500 : end.status === 503 ? REFUSED.error503 : UNREACHABLE);

/** A try that stored its bytes; and one that counts against the retries: not stored, and not
 *  dropped by the widget because its file failed anyway. */
export const succeeded = (end) => end.how === 'answered' && end.status >= 200 && end.status < 300;
export const counts = (end) => !succeeded(end) && end.how !== 'dropped';
const ok = (status) => status >= 200 && status < 300;

/** Polls `check` until it returns something, or gives up after `ms` with `null`. */
async function until(check, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) return null;
    await sleep(25);
  }
}

/** The object at `key` (a Buffer), or null when there is none; asked of the store directly. */
export async function readObject(store, key) {
  const response = await store.get(key);
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status === 404) return null;
  assert.equal(response.status, 200, `GET ${key}: ${body.toString('utf8').slice(0, 300)}`);
  return body;
}

/**
 * The files of form `form`, written to `dir` (so that Chromium reads them from disk, and a
 * file keeps its identity for resuming): `small` of seeded sizes from 1 KiB to 3 MiB
 * (log-uniform), then `big` ones of 11 to 16 MiB put in at seeded places; random bytes.
 */
export async function makeFiles(dir, form, { small, big }, random) {
  const files = Array.from({ length: small }, (_, index) => ({
    name: `form${form}-file${index}.bin`,
    size: Math.round(MIN_SIZE * (MAX_SIZE / MIN_SIZE) ** random.next()),
  }));
  for (let index = 0; index < big; index += 1) {
    const size = BIG_MIN_SIZE + random.below(BIG_MAX_SIZE - BIG_MIN_SIZE);
    files.splice(random.below(files.length + 1), 0, { name: `form${form}-big${index}.bin`, size });
  }
  return Promise.all(
    files.map(async ({ name, size }) => {
      const buffer = randomBytes(size);
      const path = join(dir, name);
      await writeFile(path, buffer);
      return { name, path, buffer };
    }),
  );
}

/**
 * Records, in Node and in page order, the widget's events on the demo page, the form's
 * `progress`, when a failed attempt has handed the form back, and each try of an upload: one
 * XMLHttpRequest with a file or a part as its body (`try`: its file, part number, bytes) and
 * how it ended (`tried`: its status, and `how`: `answered`, `error`, `stalled` when the widget's
 * stall timer aborted it, or `dropped` when the widget dropped it because its file failed).
 */
async function recordEvents(page) {
  const events = [];
  await page.exposeFunction('__faultsRecord', (event) => events.push(event));
  await page.addInitScript(() => {
    const plain = (detail) =>
      Object.fromEntries(Object.entries(detail ?? {}).filter(([, value]) => typeof value !== 'object' || value === null));
    const record = (event) => window.__faultsRecord({ type: event.type, detail: plain(event.detail) });
    for (const type of ['s3file:start', 's3file:done', 's3file:error']) document.addEventListener(type, record, true);
    // Once the failures of an attempt are reported (in one task), how the form was left.
    let pending = false;
    document.addEventListener(
      's3file:error',
      () => {
        if (pending) return;
        pending = true;
        setTimeout(() => {
          pending = false;
          window.__faultsRecord({
            type: 'handed-back',
            busy: document.getElementById('upload-form').getAttribute('aria-busy'),
            disabled: document.getElementById('submit').disabled,
            message: document.getElementById('file').validationMessage,
          });
        }, 0);
      },
      true,
    );
    document.addEventListener('DOMContentLoaded', () => {
      // The form's own totals (progress does not bubble).
      document.getElementById('upload-form').addEventListener('progress', record);
    });

    // Tries. The widget sets `onloadend` before `send`, so the listener added here hears the
    // end after the widget did; it detaches `onloadend` before it drops a request, while its
    // stall timer aborts a request it still listens to.
    const { open, send, abort } = XMLHttpRequest.prototype;
    let tries = 0;
    XMLHttpRequest.prototype.open = function (method, url, ...rest) {
      this.faultsTry = { method: String(method).toUpperCase(), url: String(url) };
      return open.call(this, method, url, ...rest);
    };
    XMLHttpRequest.prototype.abort = function () {
      const entry = this.faultsTry;
      if (entry?.id && entry.how === undefined && this.readyState !== 4) {
        entry.how = this.onloadend === null ? 'dropped' : 'stalled';
      }
      return abort.call(this);
    };
    XMLHttpRequest.prototype.send = function (body) {
      const entry = this.faultsTry;
      if (entry && (body instanceof FormData || body instanceof Blob)) {
        const url = new URL(entry.url, location.href);
        const file = body instanceof FormData ? body.get('file') : body;
        const name = body instanceof FormData ? file?.name : decodeURIComponent(url.pathname.split('/').at(-1));
        const part = Number(url.searchParams.get('partNumber')) || 1;
        Object.assign(entry, { id: ++tries, name, part, size: file?.size ?? 0 });
        const { id, size } = entry;
        window.__faultsRecord({ type: 'try', id, name, part, size, time: Date.now() });
        this.addEventListener('error', () => {
          entry.how ??= 'error';
        });
        this.addEventListener('loadend', () =>
          window.__faultsRecord({ type: 'tried', id, name, part, size, status: this.status, how: entry.how ?? 'answered', time: Date.now() }),
        );
      }
      return send.call(this, body);
    };
  });
  return events;
}

/**
 * Fills in and submits the demo form at `origin` with `files`, again after each failed attempt,
 * at most `submits` times. Returns what happened: each attempt's events, the proxy's plans
 * during it and the sign answers it got, each file's key under the latest instructions and
 * every key signed, and the result page's files if the form got to finalize.
 */
export async function runForm({ browser, contextOptions, origin, proxy, files, submits, label }) {
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  try {
    const events = await recordEvents(page);
    let current = 0;
    const signs = [];
    const answers = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/s3file/sign')) signs.push(current);
    });
    page.on('response', (response) => {
      if (response.url().endsWith('/s3file/sign')) answers.push({ attempt: current, answer: response.json().catch(() => null) });
    });
    await page.goto(`${origin}/`);
    await page.evaluate(() => import('/pkg/s3file.js').then(() => true));
    await page.evaluate(
      ({ retries, stall }) => {
        const form = document.getElementById('upload-form');
        form.setAttribute('data-s3file-retries', String(retries));
        form.setAttribute('data-s3file-stall-timeout', String(stall));
      },
      { retries: RETRIES, stall: STALL_TIMEOUT_S },
    );
    await page.setInputFiles('#file', files.map((file) => file.path));
    let finalized = false;
    page.waitForURL('**/s3file/finalize', { timeout: 0 }).then(
      () => {
        finalized = true;
      },
      () => {},
    );

    const attempts = [];
    for (let number = 1; number <= submits; number += 1) {
      current = number;
      const from = events.length;
      const logFrom = proxy.log.length;
      const started = Date.now();
      await page.click('#submit');
      const ending = await until(
        () => (finalized ? 'finalized' : events.slice(from).some((event) => event.type === 'handed-back') ? 'failed' : null),
        ATTEMPT_TIMEOUT_MS,
      );
      if (!ending) {
        const state = await page
          .evaluate(() => ({
            busy: document.getElementById('upload-form').getAttribute('aria-busy'),
            disabled: document.getElementById('submit').disabled,
            message: document.getElementById('file').validationMessage,
          }))
          .catch((error) => String(error));
        const open = events.slice(from).filter((event) => event.type === 'try' && !events.some((end) => end.type === 'tried' && end.id === event.id));
        throw new Error(
          `${label}, attempt ${number}: neither finalized nor handed back after ${ATTEMPT_TIMEOUT_MS} ms, the form is left hanging: ${JSON.stringify(state)}; tries not ended ${JSON.stringify(open)}; events ${JSON.stringify(events.slice(from).filter((event) => event.type !== 'progress'))}`,
        );
      }
      const ms = Date.now() - started;
      if (ending === 'finalized') await page.waitForSelector('#files');
      attempts.push({
        number,
        ending,
        ms,
        events: events.slice(from),
        plans: proxy.log.slice(logFrom).filter((plan) => plan.kind !== 'exempt'),
        signedAfresh: signs.includes(number),
      });
      if (ending === 'finalized') break;
    }

    // Each attempt's sign answers; each file's key under the latest instructions, and every
    // key ever signed.
    const keys = new Map();
    const signedKeys = [];
    for (const { attempt, answer } of answers) {
      const response = await answer;
      assert.ok(response, `${label}: the sign answer of attempt ${attempt} could be read`);
      (attempts[attempt - 1].answers ??= []).push(response);
      for (const file of response.files) {
        keys.set(file.name, file.key);
        signedKeys.push(file.key);
      }
    }
    const stored =
      attempts.at(-1).ending === 'finalized'
        ? await page.$$eval('#files li[data-key]', (items) =>
            items.map((item) => ({
              key: item.dataset.key,
              name: item.querySelector('a').textContent,
              size: item.querySelector('.size').textContent,
            })),
          )
        : null;
    return { attempts, keys, signedKeys, stored };
  } finally {
    await context.close();
  }
}

/** Each try of the attempt with how it ended, grouped by transfer (`<file>#<part>`), in order. */
export function transfersOf(attempt, where) {
  const ends = new Map(attempt.events.filter((event) => event.type === 'tried').map((event) => [event.id, event]));
  const transfers = new Map();
  for (const event of attempt.events.filter((event) => event.type === 'try')) {
    const end = ends.get(event.id);
    assert.ok(end, `${where}: the try of ${event.name} (part ${event.part}) ended: no upload is left hanging`);
    const key = `${event.name}#${event.part}`;
    if (!transfers.has(key)) transfers.set(key, []);
    transfers.get(key).push({ ...end, start: event.time });
  }
  return transfers;
}

/**
 * Checks one form's attempts against the widget's promises, and returns each file's outcome:
 * `finalized`, `failed` (its last attempt reported an error for it) or `stored` (uploaded, but the
 * form was never submitted because others failed). Notes on each plan of the proxy what came of
 * it (`outcome`: `absorbed` when a later request of the same transfer in the attempt stored it,
 * else `failed`).
 */
export function checkAttempts({ label, files, attempts }) {
  const names = files.map((file) => file.name);
  const sizes = new Map(files.map((file) => [file.name, file.buffer.length]));
  // Instructions with a multipart upload are never reused: the next attempt signs again.
  const multipart = files.some((file) => file.buffer.length > MULTIPART_THRESHOLD);
  let failedBefore = null;
  let reusedBefore = false;
  let refusedBefore = false;
  // Multipart uploads a failed attempt left unfinished, by file: the next one resumes them.
  let unfinished = new Map();
  for (const attempt of attempts) {
    const where = `${label}, attempt ${attempt.number}`;
    const starts = attempt.events.filter((event) => event.type === 's3file:start');
    assert.equal(starts.length, 1, `${where}: one s3file:start`);
    const done = attempt.events.filter((event) => event.type === 's3file:done');
    const errors = attempt.events.filter((event) => event.type === 's3file:error');

    // Which files this attempt sends: all at first and after a fresh signing, else those that
    // failed. The documented rules: a retry signs afresh when the store refused (an HTTP status)
    // an upload of reused instructions, and always when they hold a multipart upload.
    if (attempt.number > 1) {
      assert.equal(
        attempt.signedAfresh,
        multipart || (reusedBefore && refusedBefore),
        `${where}: signs afresh exactly when the instructions hold a multipart upload or the store refused an upload of reused instructions`,
      );
    }
    const sent = attempt.number === 1 || attempt.signedAfresh ? names : failedBefore;
    assert.deepEqual(
      { files: starts[0].detail.files, total: starts[0].detail.total },
      { files: sent.length, total: sent.reduce((sum, name) => sum + sizes.get(name), 0) },
      `${where}: s3file:start counts the files this attempt sends (${sent.join(', ')})`,
    );

    // Each file sent ends once: stored, or failed with a message that says why.
    const ended = [...done.map((event) => event.detail.name), ...errors.map((event) => event.detail.fileName)];
    assert.deepEqual([...ended].sort(), [...sent].sort(), `${where}: each file sent is stored or fails, once`);
    for (const error of errors) {
      const { message, fileName, field } = error.detail;
      assert.equal(field, 'file');
      assert.ok(message.startsWith(`could not upload ${fileName}: `), `${where}: ${message}`);
      assert.ok(
        UNREACHABLE.test(message) || REFUSED.error500.test(message) || REFUSED.error503.test(message),
        `${where}: an error the proxy caused, in words: ${message}`,
      );
    }
    for (const event of done) assert.equal(event.detail.size, sizes.get(event.detail.name));
    const outcome = new Map([
      ...done.map((event) => [event.detail.name, 'stored']),
      ...errors.map((event) => [event.detail.fileName, event.detail.message]),
    ]);

    // Retries, from the tries the page made: a stored file had no transfer fail more than
    // RETRIES times, and the last try of each stored it; a failed file had a transfer fail
    // RETRIES + 1 times, the last try of that transfer being its last, and its error says what
    // that try met. No transfer is tried more than RETRIES + 1 times.
    const transfers = transfersOf(attempt, where);
    for (const name of sent) {
      const own = [...transfers.entries()].filter(([key]) => key.startsWith(`${name}#`));
      for (const [key, tries] of own) {
        assert.ok(tries.length <= RETRIES + 1, `${where}: ${key} was tried ${tries.length} times, more than 1 + ${RETRIES} retries: ${JSON.stringify(tries)}`);
      }
      if (outcome.get(name) === 'stored') {
        assert.ok(own.length > 0, `${where}: ${name} was stored, yet never sent`);
        for (const [key, tries] of own) {
          assert.ok(succeeded(tries.at(-1)), `${where}: ${key}'s last try stored it: ${JSON.stringify(tries)}`);
          assert.ok(
            tries.filter(counts).length <= RETRIES,
            `${where}: ${key} failed more than ${RETRIES} times, yet ${name} was stored: ${JSON.stringify(tries)}`,
          );
        }
      } else {
        const message = outcome.get(name);
        const exhausted = own.filter(([, tries]) => tries.filter(counts).length === RETRIES + 1 && counts(tries.at(-1)));
        assert.ok(
          exhausted.length > 0,
          `${where}: ${name} failed (${message}) though no transfer of it failed ${RETRIES + 1} times: transient faults are tried again: ${JSON.stringify(Object.fromEntries(own))}`,
        );
        assert.ok(
          exhausted.some(([, tries]) => MESSAGE_OF(tries.at(-1)).test(message)),
          `${where}: ${name}'s error says what its last try met: ${message}; ${JSON.stringify(Object.fromEntries(exhausted))}`,
        );
      }
    }

    // A multipart upload sends each part S3 lacks, those of a resumed upload only; an upload
    // an earlier attempt left unfinished is resumed, not started afresh.
    for (const answer of attempt.answers ?? []) {
      for (const file of answer.files) {
        if (!file.multipart) continue;
        const { uploadId, partCount, done: held } = file.multipart;
        if (unfinished.has(file.name)) {
          assert.equal(uploadId, unfinished.get(file.name), `${where}: ${file.name}'s unfinished multipart upload is resumed`);
        }
        assert.equal(partCount, Math.ceil(sizes.get(file.name) / PART_SIZE), `${where}: ${file.name} has parts of 5 MiB`);
        const lacking = Array.from({ length: partCount }, (_, index) => index + 1).filter((part) => !held.includes(part));
        const tried = [...transfers.keys()].filter((key) => key.startsWith(`${file.name}#`)).map((key) => Number(key.split('#')[1]));
        tried.sort((a, b) => a - b);
        if (outcome.get(file.name) === 'stored') {
          assert.deepEqual(tried, lacking, `${where}: ${file.name} sent the parts the store lacked (it held ${JSON.stringify(held)})`);
        } else {
          assert.ok(tried.every((part) => lacking.includes(part)), `${where}: ${file.name} sent only parts the store lacked (${tried} of ${lacking})`);
        }
      }
    }
    unfinished = new Map();
    for (const answer of attempt.answers ?? []) {
      for (const file of answer.files) {
        if (file.multipart && outcome.get(file.name) !== 'stored') unfinished.set(file.name, file.multipart.uploadId);
      }
    }

    // Progress of the form: within [0, 1], and back only by the bytes of the transfers that
    // failed since the last event (a part's, not its file's; a file the widget gives up on
    // keeps the parts it stored); at exactly 1 when all is stored.
    const progress = attempt.events.filter((event) => event.type === 'progress');
    let previous = null;
    let failedBytes = 0;
    for (const event of attempt.events) {
      if (event.type === 'tried' && !succeeded(event)) failedBytes += event.size;
      if (event.type !== 'progress') continue;
      const { progress: fraction, loaded, total } = event.detail;
      assert.ok(fraction >= 0 && fraction <= 1, `${where}: progress ${fraction}`);
      assert.equal(total, starts[0].detail.total, `${where}: progress totals what the attempt sends`);
      assert.ok(loaded <= total, `${where}: loaded ${loaded} of ${total}`);
      if (previous) {
        const back = previous.loaded - loaded;
        assert.ok(
          back <= failedBytes + 0.5,
          `${where}: progress went back by ${back} bytes (from ${previous.progress} to ${fraction}, at ${event.detail.currentFileName}), more than the ${failedBytes} bytes of the transfers that failed meanwhile`,
        );
      }
      previous = event.detail;
      failedBytes = 0;
    }

    if (attempt.ending === 'finalized') {
      assert.equal(errors.length, 0, `${where}: no error, yet finalized`);
      if (sent.length > 0) {
        assert.deepEqual(
          { progress: progress.at(-1)?.detail.progress, loaded: progress.at(-1)?.detail.loaded },
          { progress: 1, loaded: starts[0].detail.total },
          `${where}: the form's last progress is exactly 1`,
        );
      }
    } else {
      assert.ok(errors.length > 0, `${where}: handed back with errors`);
      const handedBack = attempt.events.find((event) => event.type === 'handed-back');
      assert.deepEqual(
        { busy: handedBack.busy, disabled: handedBack.disabled, message: handedBack.message },
        { busy: null, disabled: false, message: errors[0].detail.message },
        `${where}: the form is usable again and the input shows the first failure`,
      );
    }

    // What the proxy did to each transfer, and what came of it. Every fault hit a request the
    // proxy could name. A fault is absorbed when a later request of the same transfer stored
    // it; every fault on a stored file was. Each hang ended by the widget's stall timeout (or
    // with its file's failure).
    for (const [index, plan] of attempt.plans.entries()) {
      if (plan.kind === 'pass') continue;
      assert.ok(plan.name, `${where}: the proxy knows which file its ${plan.kind} hit: ${JSON.stringify(plan)}`);
      const key = `${plan.name}#${plan.part ?? 1}`;
      const later = attempt.plans.slice(index + 1).some((other) => `${other.name}#${other.part ?? 1}` === key && ok(other.status));
      plan.outcome = later ? 'absorbed' : 'failed';
      plan.fileOutcome = outcome.get(plan.name) === 'stored' ? 'stored' : 'failed';
      if (plan.fileOutcome === 'stored') assert.ok(later, `${where}: the ${plan.kind} of ${key} was followed by a request that stored it`);
    }
    for (const [key, tries] of transfers) {
      const hangs = attempt.plans.filter((plan) => plan.kind === 'hang' && `${plan.name}#${plan.part ?? 1}` === key).length;
      const given = tries.filter((end) => end.how === 'stalled' || end.how === 'dropped').length;
      assert.ok(given >= hangs, `${where}: ${key} hung ${hangs} times, and the widget gave up on ${given} of its tries: ${JSON.stringify(tries)}`);
    }

    failedBefore = errors.map((event) => event.detail.fileName);
    reusedBefore = attempt.number > 1 && !attempt.signedAfresh;
    refusedBefore = errors.some((event) => !UNREACHABLE.test(event.detail.message));
  }

  const last = attempts.at(-1);
  if (last.ending === 'finalized') return new Map(names.map((name) => [name, 'finalized']));
  const failed = new Set(last.events.filter((event) => event.type === 's3file:error').map((event) => event.detail.fileName));
  return new Map(names.map((name) => [name, failed.has(name) ? 'failed' : 'stored']));
}

/** One line on a form's attempts: what each sent, what failed and why, how it ended, in how long. */
export function describeAttempts(attempts) {
  const cause = (message) => (UNREACHABLE.test(message) ? 'unreachable' : message.match(/HTTP \d+/)?.[0] ?? message);
  return attempts
    .map((attempt) => {
      const start = attempt.events.find((event) => event.type === 's3file:start');
      const errors = attempt.events.filter((event) => event.type === 's3file:error').map((event) => cause(event.detail.message));
      const signed = attempt.number > 1 && attempt.signedAfresh ? ' signed afresh,' : '';
      const tries = attempt.events.filter((event) => event.type === 'try').length;
      return `#${attempt.number}${signed} sent ${start?.detail.files} in ${tries} tries, ${attempt.ending}${errors.length ? ` (${errors.join(', ')})` : ''} in ${(attempt.ms / 1000).toFixed(1)} s`;
    })
    .join('; ');
}

/** The proxy's `choose` for IMPOSED, with its own count of each part's requests. */
function imposer() {
  const seen = new Map();
  return ({ name, part }) => {
    const imposed =
      IMPOSED.find((entry) => entry.name === name && entry.part === part) ?? IMPOSED.find((entry) => entry.name === name && entry.part === null);
    if (!imposed || part === null) return undefined;
    const key = `${name}#${part}`;
    const index = seen.get(key) ?? 0;
    seen.set(key, index + 1);
    return index < imposed.kinds.length ? imposed.kinds[index] : imposed.then;
  };
}

/**
 * What came of each fault of an attempt's plans, matched by time with the page's tries of the
 * same transfer: `resent` when Chromium sent the request again within the same try (it does
 * so when a reused connection breaks before any answer), `retried` when the try failed and the
 * widget tried again, `dropped` when the widget dropped the try because its file failed,
 * `ended` when it was the transfer's last try, `unmatched` when no try of the page covers it.
 */
export function classifyFaults(attempt) {
  const transfers = transfersOf(attempt, 'classify');
  const key = (plan) => `${plan.name}#${plan.part ?? 1}`;
  for (const plan of attempt.plans) {
    if (plan.kind === 'pass') continue;
    const tries = transfers.get(key(plan)) ?? [];
    const index = tries.findIndex((end) => end.start - 5 <= plan.time && plan.time <= end.time + 5);
    if (index < 0) {
      plan.fate = 'unmatched';
      continue;
    }
    const end = tries[index];
    const again = attempt.plans.some((other) => other !== plan && key(other) === key(plan) && other.time > plan.time && other.time <= end.time + 5);
    plan.fate = again ? 'resent' : index < tries.length - 1 ? 'retried' : end.how === 'dropped' ? 'dropped' : 'ended';
  }
}

export const STORES = [
  {
    name: 'the embedded dev store',
    async start(location, plans = {}, env = {}) {
      // The dev store is the signer itself, and its part URLs name the signer's own address: the
      // browser takes the proxy as its HTTP proxy, so that everything goes through it (the page,
      // signing, finalize, and the uploads to the store at /s3/, which alone are broken).
      const signer = await startDevSigner({ env: { AWS_LOCATION: location, ...MULTIPART_ENV, ...env } });
      const { port } = new URL(signer.url);
      const proxy = await startFaultyProxy({
        target: { host: '127.0.0.1', port },
        seed: SEED,
        mix: MIX,
        cover: true,
        stallMs: STALL_MS,
        faultable: ({ method, path }) => (method === 'POST' || method === 'PUT') && path.startsWith('/s3/'),
        choose: imposer(),
        ...plans,
      });
      // Downloads are public in the dev store.
      const store = { get: (key) => fetch(`${signer.url}/s3/${DEV_BUCKET}/${keyPath(key)}`) };
      return { signer, proxy, origin: signer.url, contextOptions: { proxy: { server: proxy.url } }, store };
    },
  },
  {
    name: 'SeaweedFS',
    async start(location, plans = {}, env = {}) {
      // Browsers are told the proxy is the store; the signer itself talks to SeaweedFS directly.
      const s3 = seaweedfsConfig();
      const proxy = await startFaultyProxy({
        target: s3.endpoint,
        seed: SEED,
        mix: MIX,
        cover: true,
        stallMs: STALL_MS,
        faultable: ({ method }) => method === 'POST' || method === 'PUT',
        choose: imposer(),
        ...plans,
      });
      let signer;
      try {
        signer = await startSeaweedfsSigner({
          env: { S3FILE_PUBLIC_ENDPOINT_URL: proxy.url, AWS_LOCATION: location, ...MULTIPART_ENV, ...env },
        });
      } catch (error) {
        await proxy.close();
        throw error;
      }
      return { signer, proxy, origin: signer.url, contextOptions: {}, store: { get: (key) => s3Request(s3, 'GET', key) } };
    },
  },
];

/** Registers the `before` and `after` of a suite that uploads through `start` (a STORES entry)
 *  to a fresh location, with a temporary folder for its files and one browser. `plans` makes
 *  the proxy's plans when the suite starts; `env` is more of the signer's settings. What they
 *  set up is on the returned object. */
export function storeSuite(start, prefix, plans = () => ({}), env = {}) {
  const run = { location: `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}` };
  before(async () => {
    run.dir = await mkdtemp(join(tmpdir(), `s3file-${prefix}-`));
    run.setup = await start(run.location, plans(), env);
    run.browser = await launchBrowser();
  });
  after(async () => {
    await run.browser?.close();
    await run.setup?.proxy.close();
    await run.setup?.signer.stop();
    if (run.dir) await rm(run.dir, { recursive: true, force: true });
  });
  return run;
}
