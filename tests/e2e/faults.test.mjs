// Uploads through a network that breaks: a fault-injecting TCP proxy (support/faulty_proxy.mjs)
// stands between Chromium and the store, against the signer's embedded store and against
// SeaweedFS. It resets connections in the middle of request bodies, stalls them, and answers
// 500 and 503 in the store's place. The demo page uploads a few dozen files of 1 KiB to 3 MiB in
// a few forms, submitting again after failures as a person would. Every file must end stored
// byte for byte at its final key, or with a clear error and nothing at its final key (nor a
// partial object in the upload folder); a file stored in a form that never got through is not
// at its final key either. The form must never be left hanging.
//
// The proxy's faults come from a seeded PRNG: S3FILE_FAULT_SEED picks another seed (the seed of
// a failing run is in its error message).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { connect } from 'node:net';

import { launchBrowser } from './support/browser.mjs';
import { FAULT_KINDS, parseSeed, prng, startFaultyProxy } from './support/faulty_proxy.mjs';
import { seaweedfsConfig, startDevSigner, startSeaweedfsSigner } from './support/signer.mjs';

const SEED = parseSeed(process.env.S3FILE_FAULT_SEED ?? 20_261_122);
const STALL_MS = 1_000;
// Three uploads in ten break.
const MIX = { pass: 0.7, reset: 0.08, stall: 0.06, error500: 0.08, error503: 0.08 };
// Four forms of eight files. The first form is sent once: its failures stay failures (the
// proxy's first plans are one of each fault). The others are submitted again, up to five times
// in all, while files fail.
const FORMS = [
  { files: 8, submits: 1 },
  { files: 8, submits: 5 },
  { files: 8, submits: 5 },
  { files: 8, submits: 5 },
];
const MIN_SIZE = 1024;
const MAX_SIZE = 3 * 1024 * 1024;
// Longest an attempt may take: a stall, then plenty for the uploads themselves.
const ATTEMPT_TIMEOUT_MS = STALL_MS + 20_000;
const DEV_BUCKET = 's3file-dev';

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the widget says (after `could not upload <name>`) when the proxy broke an upload. */
const UNREACHABLE = /: the storage at \S+ could not be reached$/;
const REFUSED = {
  error500: / \(HTTP 500\): We encountered an internal error\. Please try again\.$/,
  error503: / \(HTTP 503\): Please reduce your request rate\.$/,
};

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

/** A key as a URL path, each segment percent-encoded as S3 expects. */
const keyPath = (key) =>
  key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');

/** GET of `key` from SeaweedFS, signed with SigV4 in the header, straight to the store. */
async function seaweedfsGet(s3, key) {
  const url = new URL(`${s3.endpoint}/${s3.bucket}/${keyPath(key)}`);
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const date = amzDate.slice(0, 8);
  const payload = sha256('');
  const signedHeaders = 'host;x-amz-content-sha256;x-amz-date';
  const canonical = [
    'GET',
    url.pathname,
    '',
    `host:${url.host}\nx-amz-content-sha256:${payload}\nx-amz-date:${amzDate}\n`,
    signedHeaders,
    payload,
  ].join('\n');
  const scope = `${date}/${s3.region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const hmac = (secret, text) => createHmac('sha256', secret).update(text).digest();
  let signingKey = hmac(`AWS4${s3.secretKey}`, date);
  for (const part of [s3.region, 's3', 'aws4_request']) signingKey = hmac(signingKey, part);
  const signature = createHmac('sha256', signingKey).update(toSign).digest('hex');
  return fetch(url, {
    headers: {
      'x-amz-content-sha256': payload,
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${s3.accessKey}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
  });
}

/** The object at `key` (a Buffer), or null when there is none; asked of the store directly. */
async function readObject(store, key) {
  const response = await store.get(key);
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status === 404) return null;
  assert.equal(response.status, 200, `GET ${key}: ${body.toString('utf8').slice(0, 300)}`);
  return body;
}

/** The files of form `form`: seeded sizes from 1 KiB to 3 MiB (log-uniform), random bytes. */
function makeFiles(form, count, random) {
  return Array.from({ length: count }, (_, index) => {
    const size = Math.round(MIN_SIZE * (MAX_SIZE / MIN_SIZE) ** random.next());
    return { name: `form${form}-file${index}.bin`, mimeType: 'application/octet-stream', buffer: randomBytes(size) };
  });
}

/** Records the widget's events on the demo page in Node, and when a failed attempt has handed the form back. */
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
  });
  return events;
}

/**
 * Fills in and submits the demo form at `origin` with `files`, again after each failed attempt,
 * at most `submits` times. Returns what happened: each attempt's events and the proxy's plans
 * during it, each file's key under the latest instructions and every key signed, and the
 * result page's files if the form got to finalize.
 */
async function runForm({ browser, origin, proxy, files, submits, label }) {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    const events = await recordEvents(page);
    const signed = [];
    let signRequests = 0;
    page.on('request', (request) => {
      if (request.url().endsWith('/s3file/sign')) signRequests += 1;
    });
    page.on('response', (response) => {
      if (response.url().endsWith('/s3file/sign')) signed.push(response.json());
    });
    await page.goto(`${origin}/`);
    await page.evaluate(() => import('/pkg/s3file.js').then(() => true));
    await page.setInputFiles('#file', files);
    let finalized = false;
    page.waitForURL('**/s3file/finalize', { timeout: 0 }).then(
      () => {
        finalized = true;
      },
      () => {},
    );

    const attempts = [];
    for (let number = 1; number <= submits; number += 1) {
      const from = events.length;
      const logFrom = proxy.log.length;
      const signsBefore = signRequests;
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
        throw new Error(
          `${label}, attempt ${number}: neither finalized nor handed back after ${ATTEMPT_TIMEOUT_MS} ms, the form is left hanging: ${JSON.stringify(state)}; events ${JSON.stringify(events.slice(from).filter((event) => event.type !== 'progress'))}`,
        );
      }
      if (ending === 'finalized') await page.waitForSelector('#files');
      attempts.push({
        number,
        ending,
        events: events.slice(from),
        plans: proxy.log.slice(logFrom).filter((plan) => plan.kind !== 'exempt'),
        signedAfresh: signRequests > signsBefore,
      });
      if (ending === 'finalized') break;
    }

    // Each file's key under the latest instructions, and every key ever signed.
    const keys = new Map();
    const signedKeys = [];
    for (const response of await Promise.all(signed)) {
      for (const file of response.files) {
        keys.set(file.name, file.key);
        signedKeys.push(file.key);
      }
    }
    const stored = attempts.at(-1).ending === 'finalized'
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

/**
 * Checks one form's attempts against the widget's promises, and returns each file's outcome:
 * `finalized`, `failed` (its last attempt reported an error for it) or `stored` (uploaded, but the
 * form was never submitted because others failed).
 */
function checkAttempts({ label, files, attempts }) {
  const names = files.map((file) => file.name);
  const sizes = new Map(files.map((file) => [file.name, file.buffer.length]));
  let failedBefore = null;
  let reusedBefore = false;
  let refusedBefore = false;
  for (const attempt of attempts) {
    const where = `${label}, attempt ${attempt.number}`;
    const starts = attempt.events.filter((event) => event.type === 's3file:start');
    assert.equal(starts.length, 1, `${where}: one s3file:start`);
    const done = attempt.events.filter((event) => event.type === 's3file:done');
    const errors = attempt.events.filter((event) => event.type === 's3file:error');

    // Which files this attempt sends: all at first and after a fresh signing, else those that
    // failed. The documented rule: a retry signs afresh when the store refused (an HTTP status)
    // an upload of reused instructions.
    if (attempt.number > 1) {
      assert.equal(
        attempt.signedAfresh,
        reusedBefore && refusedBefore,
        `${where}: signs afresh exactly when the store refused an upload of reused instructions`,
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

    // Progress of the form: within [0, 1], never backwards, and at 1 when all is stored.
    const progress = attempt.events.filter((event) => event.type === 'progress');
    for (const [index, event] of progress.entries()) {
      assert.ok(event.detail.progress >= 0 && event.detail.progress <= 1, `${where}: progress ${event.detail.progress}`);
      assert.equal(event.detail.total, starts[0].detail.total, `${where}: progress totals what the attempt sends`);
      assert.ok(event.detail.loaded <= event.detail.total, `${where}: loaded ${event.detail.loaded} of ${event.detail.total}`);
      if (index > 0) {
        assert.ok(
          event.detail.progress >= progress[index - 1].detail.progress,
          `${where}: progress went back from ${progress[index - 1].detail.progress} to ${event.detail.progress}`,
        );
      }
    }

    if (attempt.ending === 'finalized') {
      assert.equal(errors.length, 0, `${where}: no error, yet finalized`);
      if (sent.length > 0) assert.equal(progress.at(-1)?.detail.progress, 1, `${where}: the form's last progress is 1`);
    } else {
      assert.ok(errors.length > 0, `${where}: handed back with errors`);
      const handedBack = attempt.events.find((event) => event.type === 'handed-back');
      assert.deepEqual(
        { busy: handedBack.busy, disabled: handedBack.disabled, message: handedBack.message },
        { busy: null, disabled: false, message: errors[0].detail.message },
        `${where}: the form is usable again and the input shows the first failure`,
      );
    }

    // What the proxy did to each upload of the attempt, and what the widget made of it.
    const outcome = new Map([
      ...done.map((event) => [event.detail.name, 'stored']),
      ...errors.map((event) => [event.detail.fileName, event.detail.message]),
    ]);
    const lastPlan = new Map(attempt.plans.filter((plan) => plan.name).map((plan) => [plan.name, plan]));
    for (const plan of attempt.plans) {
      if (!plan.name) continue;
      const result = outcome.get(plan.name);
      plan.outcome = result === 'stored' ? 'stored' : 'failed';
      // Chromium sends a request again when a reused connection breaks before any answer, so a
      // file may have several tries in one attempt: the last one decides.
      if (lastPlan.get(plan.name) !== plan) continue;
      if (plan.kind === 'pass') {
        assert.equal(result, 'stored', `${where}: ${plan.name} went through untouched`);
      } else if (plan.kind === 'reset' || plan.kind === 'stall') {
        assert.match(result ?? '', UNREACHABLE, `${where}: ${plan.name} had its connection ${plan.kind === 'reset' ? 'reset' : 'stalled'}`);
      } else {
        assert.match(result ?? '', REFUSED[plan.kind], `${where}: ${plan.name} got a ${plan.kind.slice(5)} answer`);
      }
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

/** One line on a form's attempts: what each sent, what failed and why, how it ended. */
function describeAttempts(attempts) {
  const cause = (message) => (UNREACHABLE.test(message) ? 'unreachable' : message.match(/HTTP \d+/)?.[0] ?? message);
  return attempts
    .map((attempt) => {
      const start = attempt.events.find((event) => event.type === 's3file:start');
      const errors = attempt.events.filter((event) => event.type === 's3file:error').map((event) => cause(event.detail.message));
      const signed = attempt.number > 1 && attempt.signedAfresh ? ' signed afresh,' : '';
      return `#${attempt.number}${signed} sent ${start?.detail.files}, ${attempt.ending}${errors.length ? ` (${errors.join(', ')})` : ''}`;
    })
    .join('; ');
}

const STORES = [
  {
    name: 'the embedded dev store',
    async start(location) {
      // Everything goes through the proxy: the page, signing, finalize, and the uploads to the
      // store at /s3/, which the signer places at the host the browser used: the proxy.
      const signer = await startDevSigner({ env: { AWS_LOCATION: location } });
      const { port } = new URL(signer.url);
      const proxy = await startFaultyProxy({
        target: { host: '127.0.0.1', port },
        seed: SEED,
        mix: MIX,
        cover: true,
        stallMs: STALL_MS,
        faultable: ({ method, path }) => method !== 'OPTIONS' && path.startsWith('/s3/'),
      });
      // Downloads are public in the dev store.
      const store = { get: (key) => fetch(`${signer.url}/s3/${DEV_BUCKET}/${keyPath(key)}`) };
      return { signer, proxy, origin: proxy.url, store };
    },
  },
  {
    name: 'SeaweedFS',
    async start(location) {
      // Browsers are told the proxy is the store; the signer itself talks to SeaweedFS directly.
      const s3 = seaweedfsConfig();
      const proxy = await startFaultyProxy({ target: s3.endpoint, seed: SEED, mix: MIX, cover: true, stallMs: STALL_MS });
      let signer;
      try {
        signer = await startSeaweedfsSigner({ env: { S3FILE_PUBLIC_ENDPOINT_URL: proxy.url, AWS_LOCATION: location } });
      } catch (error) {
        await proxy.close();
        throw error;
      }
      return { signer, proxy, origin: signer.url, store: { get: (key) => seaweedfsGet(s3, key) } };
    },
  },
];

describe('the faulty proxy', () => {
  let server;
  let port;

  before(async () => {
    // A tiny HTTP server that answers how many body bytes it got.
    const { createServer } = await import('node:http');
    server = createServer((request, response) => {
      let length = 0;
      request.on('data', (chunk) => {
        length += chunk.length;
      });
      request.on('end', () => response.end(`got ${length}`));
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = server.address().port;
  });

  after(() => new Promise((resolve) => server.close(resolve)));

  const body = Buffer.concat([
    Buffer.from('--b\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\n\r\n'),
    Buffer.alloc(100_000, 1),
    Buffer.from('\r\n--b--\r\n'),
  ]);

  /** A raw POST (then, on the same connection, an OPTIONS): what came back, how, and when. */
  function post(proxy) {
    return new Promise((resolve) => {
      const started = Date.now();
      const socket = connect(proxy.port, '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk) => {
        answer += chunk.toString('latin1');
      });
      const done = (how) => () => resolve({ answer, how, ms: Date.now() - started });
      socket.on('error', (error) => done(error.code)());
      socket.on('end', done('end'));
      socket.write(`POST /bucket HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
      socket.write(body);
    });
  }

  test('each plan does what it says, and counts it', async () => {
    for (const kind of ['pass', ...FAULT_KINDS]) {
      const proxy = await startFaultyProxy({ target: { port }, seed: 1, mix: { [kind]: 1 }, stallMs: 200 });
      try {
        const options = await fetch(`${proxy.url}/bucket`, { method: 'OPTIONS' });
        assert.equal(await options.text(), 'got 0', 'a preflight passes');
        if (kind === 'pass') {
          const response = await fetch(`${proxy.url}/bucket`, { method: 'POST', body });
          assert.equal(await response.text(), `got ${body.length}`);
        } else {
          const { answer, how, ms } = await post(proxy);
          if (kind === 'reset' || kind === 'stall') {
            assert.equal(how, 'ECONNRESET', kind);
            assert.equal(answer, '');
            if (kind === 'stall') assert.ok(ms >= 190, `stalled ${ms} ms`);
            const [plan] = proxy.log.filter((entry) => entry.kind === kind);
            assert.ok(plan.at > 0 && plan.at < body.length, `${kind} after ${plan.at} of ${body.length} bytes`);
          } else {
            const status = kind === 'error500' ? '500' : '503';
            assert.match(answer, new RegExp(`^HTTP/1.1 ${status} `));
            assert.match(answer, /\r\nConnection: close\r\n/);
            assert.match(answer, /\r\nAccess-Control-Allow-Origin: \*\r\n/);
            assert.match(answer, /<Error><Code>\w+<\/Code><Message>[^<]+<\/Message>/);
          }
        }
        assert.deepEqual(
          Object.fromEntries(Object.entries(proxy.stats()).filter(([name]) => name !== 'connections')),
          { pass: 0, reset: 0, stall: 0, error500: 0, error503: 0, exempt: 1, [kind]: 1 },
        );
        assert.equal(proxy.log.find((entry) => entry.method === 'POST').name, 'x.bin');
      } finally {
        await proxy.close();
      }
    }
  });

  test('the same seed gives the same plans; cover puts every fault kind first', async () => {
    const plans = async (seed, cover) => {
      const proxy = await startFaultyProxy({ target: { port }, seed, mix: { pass: 1, error500: 1, error503: 1 }, cover });
      try {
        for (let i = 0; i < 12; i += 1) await fetch(`${proxy.url}/bucket`, { method: 'POST', body: 'x' }).then((r) => r.text());
        return proxy.log.map((entry) => entry.kind);
      } finally {
        await proxy.close();
      }
    };
    assert.deepEqual(await plans(7, false), await plans(7, false));
    assert.notDeepEqual(await plans(7, false), await plans(8, false));
    assert.deepEqual((await plans(7, true)).slice(0, 2).sort(), ['error500', 'error503']);
    const random = prng('a seed');
    assert.ok(random.next() >= 0 && random.next() < 1);
  });
});

for (const { name: storeName, start } of STORES) {
  describe(`uploads through a faulty network to ${storeName}`, () => {
    const location = `faults-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    let setup;
    let browser;

    before(async () => {
      setup = await start(location);
      browser = await launchBrowser();
    });

    after(async () => {
      await browser?.close();
      await setup?.proxy.close();
      await setup?.signer.stop();
    });

    test(`${FORMS.reduce((sum, form) => sum + form.files, 0)} files in ${FORMS.length} forms: each is stored intact or fails clearly, and no form hangs`, async (t) => {
      const { proxy, origin, store } = setup;
      const random = prng(SEED ^ 0x5eed);
      const started = Date.now();
      const outcomes = [];
      const plans = [];
      let abandoned = 0;
      try {
        for (const [index, form] of FORMS.entries()) {
          const label = `form ${index}`;
          const files = makeFiles(index, form.files, random);
          const { attempts, keys, signedKeys, stored } = await runForm({ browser, origin, proxy, files, submits: form.submits, label });
          const ends = checkAttempts({ label, files, attempts });
          t.diagnostic(`${label}: ${describeAttempts(attempts)}`);

          if (stored) {
            assert.deepEqual(
              stored.map(({ name, size }) => `${name}: ${size}`),
              files.map(({ name, buffer }) => `${name}: ${buffer.length} bytes`),
              `${label}: finalize lists every file, in order`,
            );
          }
          for (const file of files) {
            const end = ends.get(file.name);
            const finalKey = `${location}/${file.name}`;
            const uploadKey = keys.get(file.name);
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
          // Uploads stored under instructions a later attempt signed afresh stay in the upload
          // folder, for its lifecycle rule: counted, not asserted.
          const current = new Set(keys.values());
          for (const key of signedKeys.filter((key) => !current.has(key))) {
            if (await readObject(store, key)) abandoned += 1;
          }
          plans.push(...attempts.flatMap((attempt) => attempt.plans));
        }

        const stats = proxy.stats();
        for (const kind of FAULT_KINDS) assert.ok(stats[kind] >= 1, `the proxy injected ${kind} at least once: ${JSON.stringify(stats)}`);
        const count = (end) => outcomes.filter((outcome) => outcome.end === end).length;
        assert.ok(count('finalized') >= 1, 'some forms got through to finalize');
        assert.ok(count('failed') >= 1, 'some files ended failed');

        // What came of each plan, for the record.
        const byKind = Object.fromEntries(
          ['pass', ...FAULT_KINDS].map((kind) => {
            const of = plans.filter((plan) => plan.kind === kind);
            const stored = of.filter((plan) => plan.outcome === 'stored').length;
            const failed = of.filter((plan) => plan.outcome === 'failed').length;
            return [kind, `${of.length} (file stored in that attempt ${stored}, failed ${failed}, unnamed ${of.length - stored - failed})`];
          }),
        );
        t.diagnostic(`seed ${SEED}; ${((Date.now() - started) / 1000).toFixed(1)} s`);
        t.diagnostic(`files: ${count('finalized')} finalized, ${count('failed')} failed, ${count('stored')} stored but not submitted`);
        t.diagnostic(`uploads left in replaced upload folders: ${abandoned}`);
        t.diagnostic(`proxy: ${JSON.stringify(stats)}`);
        t.diagnostic(`plans: ${JSON.stringify(byKind)}`);
      } catch (error) {
        error.message += `\n(seed ${SEED}: rerun with S3FILE_FAULT_SEED=${SEED}; proxy ${JSON.stringify(proxy.stats())})`;
        throw error;
      }
    });
  });
}
