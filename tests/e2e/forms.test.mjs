// Real forms in real Chromium, against the signer's embedded store and against SeaweedFS:
// several inputs with several files, submit buttons and their overrides, validation, inputs
// added later, failures and retries, restrictions, the JS API, django-s3file's progress bar
// and markup, and what a screen reader hears. Each page is a fixture served on the signer's
// origin, so /pkg/s3file.js and /s3file/sign are same-origin as on a real site.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';

import { launchBrowser } from './support/browser.mjs';
import { fixturePage, openFixture } from './support/fixture.mjs';
import { signingKey } from './support/s3.mjs';
import { devStoreSecret, startDevSigner, startSeaweedfsSigner } from './support/signer.mjs';

const bytes = (length) => randomBytes(length);
const file = (name, length, mimeType = 'application/octet-stream') => ({ name, mimeType, buffer: bytes(length) });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every request the page makes to the signer's sign endpoint, to the store, and to finalize. */
function watchRequests(page, store) {
  const seen = { sign: [], store: [], finalize: [] };
  page.on('request', (request) => {
    if (request.method() !== 'POST') return;
    const url = request.url();
    if (url.includes('/s3file/sign')) seen.sign.push(request);
    else if (url.includes('/s3file/finalize')) seen.finalize.push(request);
    else if (store.matches(url)) seen.store.push(request);
  });
  return seen;
}

/** The names of the files the page sent to the store, in the order it sent them. */
function sentNames(seen) {
  return seen.store.map((request) => /filename="([^"]+)"/.exec(request.postDataBuffer().toString('latin1'))[1]);
}

/** Waits until the form `#file` is in is handed back with `message` on it, then checks that only
 *  `fileName` failed and that the form can be submitted again. */
async function handedBackWith(page, events, fileName, message) {
  await page.waitForFunction(() => document.getElementById('file').validationMessage !== '', null, { timeout: 15_000 });
  assert.equal(await page.$eval('#file', (input) => input.validationMessage), message);
  assert.deepEqual(
    events.filter((event) => event.type === 's3file:error').map((event) => event.detail.fileName),
    [fileName],
  );
  assert.equal(await page.$eval('#file', (input) => input.form.getAttribute('aria-busy')), null, 'the form is not busy');
  assert.equal(await page.$eval('#go', (button) => button.disabled), false, 'its button works again');
}

/** The entries of a url-encoded form submission, in order. */
function entries(request) {
  return [...new URLSearchParams(request.postData() ?? '')];
}

/** The widget's own events (they bubble) and `progress` (caught while capturing), in order. */
async function recordEvents(page) {
  const events = [];
  await page.exposeFunction('__record', (event) => events.push(event));
  await page.addInitScript(() => {
    const describe = (event) => ({
      type: event.type,
      target: event.target.id || event.target.name || event.target.tagName,
      detail: Object.fromEntries(
        Object.entries(event.detail ?? {}).filter(([, value]) => typeof value !== 'object' || value === null),
      ),
    });
    for (const type of ['s3file:start', 's3file:done', 's3file:error', 'progress']) {
      document.addEventListener(type, (event) => window.__record(describe(event)), true);
    }
  });
  return events;
}

/** Files listed on finalize's result page. */
async function storedFiles(page) {
  return page.$$eval('#files li[data-key]', (items) =>
    items.map((item) => ({ field: item.dataset.field, key: item.dataset.key, name: item.querySelector('a').textContent })),
  );
}

async function submitAndWaitForFinalize(page, selector) {
  await Promise.all([page.waitForURL('**/s3file/finalize**'), page.click(selector)]);
}

/** The folder of a key: everything before its last slash. */
const folderOf = (key) => key.slice(0, key.lastIndexOf('/'));
const baseName = (key) => key.slice(key.lastIndexOf('/') + 1);

const STORES = [
  {
    name: 'the embedded dev store',
    start: startDevSigner,
    // What S3FILE_CHECKSUM=auto chooses: the field AWS documents for POST Object.
    postChecksum: { field: 'Content-MD5', of: (bytes) => createHash('md5').update(bytes).digest('base64') },
    store: (signer) => ({
      pattern: `${signer.url}/s3/**`,
      matches: (url) => url.startsWith(`${signer.url}/s3/`),
      secret: devStoreSecret(signer.secretKey),
    }),
  },
  {
    name: 'SeaweedFS',
    start: startSeaweedfsSigner,
    // SeaweedFS ignores a POST's Content-MD5, and checks this one.
    postChecksum: {
      field: 'x-amz-checksum-crc32',
      of: (bytes) => {
        const crc = Buffer.alloc(4);
        crc.writeUInt32BE(zlibCrc32(bytes));
        return crc.toString('base64');
      },
    },
    store: (signer) => ({
      pattern: `${signer.s3.endpoint}/**`,
      matches: (url) => url.startsWith(signer.s3.endpoint),
      secret: signer.s3.secretKey,
    }),
  },
];

/** The POST policy fields `fields` as django-s3file renders them: its policies ask for no
 *  checksum, so the signer's policy loses that condition and is signed again with `secret`. */
function withoutChecksum(fields, secret) {
  const policy = JSON.parse(Buffer.from(fields.policy, 'base64').toString());
  const checksum = /\$(x-amz-checksum-|Content-MD5)/;
  policy.conditions = policy.conditions.filter((condition) => !checksum.test(JSON.stringify(condition)));
  const encoded = Buffer.from(JSON.stringify(policy)).toString('base64');
  const [, date, region] = fields['x-amz-credential'].split('/');
  const signature = createHmac('sha256', signingKey(secret, date, region)).update(encoded).digest('hex');
  return { ...fields, policy: encoded, 'x-amz-signature': signature };
}

for (const { name: storeName, start, store: storeOf, postChecksum } of STORES) {
  describe(`forms against ${storeName}`, () => {
    let signer;
    let browser;
    let store;

    before(async () => {
      signer = await start();
      store = storeOf(signer);
      browser = await launchBrowser();
    });

    after(async () => {
      await browser?.close();
      await signer?.stop();
    });

    const newPage = () => fixturePage(browser);

    test('two inputs with several files each submit one key per file, in file order, a few uploads at a time', async () => {
      const page = await newPage();
      const seen = watchRequests(page, store);
      let running = 0;
      let mostAtOnce = 0;
      // Hold each upload a moment, so uploads that may overlap do.
      await page.route(store.pattern, async (route) => {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        await sleep(150);
        running -= 1;
        await route.continue();
      });
      await openFixture(
        page,
        signer,
        'two-inputs',
        `<form method="post" action="/s3file/finalize" data-s3file="" data-s3file-concurrency="2">
           <input name="title" value="Trip">
           <input type="file" name="photos" id="photos" multiple>
           <input type="file" name="notes" id="notes" multiple>
           <button id="go">Send</button>
         </form>`,
      );
      await page.setInputFiles('#photos', [file('c.bin', 3000), file('a.bin', 1000), file('b.bin', 2000)]);
      await page.setInputFiles('#notes', [file('z.txt', 10, 'text/plain'), file('y.txt', 20, 'text/plain')]);
      await submitAndWaitForFinalize(page, '#go');

      assert.equal(seen.sign.length, 2, 'one sign request per input');
      assert.equal(seen.store.length, 5, 'one upload per file');
      assert.equal(mostAtOnce, 2, 'data-s3file-concurrency bounds the uploads at once');
      const sent = entries(seen.finalize[0]);
      const values = (name) => sent.filter(([entry]) => entry === name).map(([, value]) => value);
      assert.deepEqual(values('s3file'), ['photos', 'notes']);
      assert.deepEqual(values('photos').map(baseName), ['c.bin', 'a.bin', 'b.bin']);
      assert.deepEqual(values('notes').map(baseName), ['z.txt', 'y.txt']);
      assert.equal(new Set(values('photos').map(folderOf)).size, 1, 'one folder per input');
      assert.equal(values('photos-s3f-signature').length, 1);
      assert.equal(values('notes-s3f-signature').length, 1);
      assert.deepEqual(values('title'), ['Trip']);
      const stored = await storedFiles(page);
      assert.deepEqual(
        stored.map(({ field, name }) => `${field}/${name}`),
        ['notes/z.txt', 'notes/y.txt', 'photos/c.bin', 'photos/a.bin', 'photos/b.bin'],
      );
      await page.context().close();
    });

    test('a button without a type sends its name and value to its formaction, with its formenctype', async () => {
      const page = await newPage();
      const seen = watchRequests(page, store);
      await openFixture(
        page,
        signer,
        'submitter',
        `<form method="post" action="/s3file/finalize?via=form" data-s3file="">
           <input type="file" name="file" id="file">
           <button name="action" value="publish">Publish</button>
           <button id="draft" name="action" value="draft" formaction="/s3file/finalize?via=button"
                   formenctype="multipart/form-data">Save draft</button>
         </form>`,
      );
      await page.setInputFiles('#file', file('a.bin', 100));
      await submitAndWaitForFinalize(page, '#draft');

      const request = seen.finalize[0];
      assert.ok(request.url().endsWith('/s3file/finalize?via=button'), request.url());
      assert.match(request.headers()['content-type'], /^multipart\/form-data/);
      const body = request.postData();
      assert.match(body, /name="action"\r\n\r\ndraft\r\n/);
      assert.doesNotMatch(body, /publish/);
      assert.match(body, /name="s3file"\r\n\r\nfile\r\n/);
      assert.equal((await storedFiles(page)).length, 1);
      await page.context().close();
    });

    test('an input type=submit with formmethod and formaction is honoured, and the form is restored', async () => {
      const page = await newPage();
      const seen = watchRequests(page, store);
      // Opens the submission in a frame, so the form can be checked afterwards.
      await openFixture(
        page,
        signer,
        'input-submit',
        `<form method="get" action="/nowhere" data-s3file="" id="form">
           <input type="file" name="file" id="file">
           <input type="submit" id="go" name="go" value="Upload it" formmethod="post"
                  formaction="/s3file/finalize?via=input" formtarget="result">
         </form>
         <iframe name="result" id="result"></iframe>`,
      );
      await page.setInputFiles('#file', file('a.bin', 100));
      const frameLoaded = page.waitForEvent('framenavigated', (frame) => frame.url().includes('via=input'));
      await page.click('#go');
      const frame = await frameLoaded;
      await frame.waitForSelector('#files li[data-key]');

      const request = seen.finalize[0];
      assert.equal(request.method(), 'POST');
      assert.deepEqual(entries(request).filter(([name]) => name === 'go'), [['go', 'Upload it']]);
      const form = await page.$eval('#form', (form) => ({
        method: form.getAttribute('method'),
        action: form.getAttribute('action'),
        target: form.getAttribute('target'),
        hidden: form.querySelectorAll('input[type=hidden]').length,
        fileName: document.getElementById('file').name,
        busy: form.getAttribute('aria-busy'),
        disabled: document.getElementById('go').disabled,
      }));
      assert.deepEqual(form, {
        method: 'get',
        action: '/nowhere',
        target: null,
        hidden: 0,
        fileName: 'file',
        busy: null,
        disabled: false,
      });
      await page.context().close();
    });

    test('the browser validates the form before any upload, unless the button says formnovalidate', async () => {
      const page = await newPage();
      const seen = watchRequests(page, store);
      await openFixture(
        page,
        signer,
        'validation',
        `<form method="post" action="/s3file/finalize" data-s3file="">
           <input name="title" id="title" required>
           <input type="file" name="file" id="file" required>
           <button id="go">Send</button>
           <button id="skip" name="skip" value="yes" formnovalidate>Send anyway</button>
         </form>`,
      );
      await page.click('#go');
      await page.setInputFiles('#file', file('a.bin', 100));
      await page.click('#go');
      await sleep(300);
      assert.equal(await page.$eval('#title', (input) => input.matches(':invalid')), true);
      assert.equal(seen.sign.length + seen.store.length + seen.finalize.length, 0, 'nothing was sent');

      await submitAndWaitForFinalize(page, '#skip');
      assert.equal(seen.store.length, 1);
      assert.deepEqual(entries(seen.finalize[0]).filter(([name]) => name === 'skip'), [['skip', 'yes']]);
      await page.context().close();
    });

    test('a button outside the form that names it with form= submits it with its value', async () => {
      const page = await newPage();
      const seen = watchRequests(page, store);
      await openFixture(
        page,
        signer,
        'outside-button',
        `<form method="post" action="/s3file/finalize" data-s3file="" id="the-form">
           <input type="file" name="file" id="file">
         </form>
         <button form="the-form" id="outside" name="from" value="footer">Send</button>`,
      );
      // The upload waits until the button has been checked.
      let release;
      const checked = new Promise((resolve) => {
        release = resolve;
      });
      await page.route(store.pattern, async (route) => {
        await checked;
        await route.continue();
      });
      await page.setInputFiles('#file', file('a.bin', 100));
      await page.click('#outside');
      await page.waitForSelector('#outside:disabled');
      assert.equal(await page.$eval('#the-form', (form) => form.getAttribute('aria-busy')), 'true');
      release();
      await page.waitForURL('**/s3file/finalize');
      const sent = entries(seen.finalize[0]);
      assert.deepEqual(sent.filter(([name]) => name === 'from'), [['from', 'footer']]);
      assert.equal(sent.filter(([name]) => name === 'file').length, 1);
      await page.context().close();
    });

    test('a form and an input added after the page loaded upload too', async () => {
      const page = await newPage();
      const seen = watchRequests(page, store);
      await openFixture(page, signer, 'added-later', '<main id="main"></main>');
      await page.evaluate(() => {
        document.getElementById('main').innerHTML =
          '<form method="post" action="/s3file/finalize" data-s3file="" id="late-form"><button id="go">Send</button></form>';
        const input = document.createElement('input');
        input.type = 'file';
        input.name = 'late';
        input.id = 'late';
        document.getElementById('late-form').prepend(input);
      });
      await page.setInputFiles('#late', file('late.bin', 500));
      await submitAndWaitForFinalize(page, '#go');
      assert.equal(seen.store.length, 1);
      assert.deepEqual((await storedFiles(page)).map(({ name }) => name), ['late.bin']);
      await page.context().close();
    });

    for (const [failure, fail, tries] of [
      [
        'a store that refuses the upload (403)',
        (route) =>
          route.fulfill({
            status: 403,
            contentType: 'application/xml',
            headers: { 'Access-Control-Allow-Origin': '*' },
            body: '<Error><Code>AccessDenied</Code><Message>Invalid according to Policy</Message></Error>',
          }),
      ],
      // Transient: tried again at once, then once more (data-s3file-retries="1"), then given up.
      ['a connection that keeps dropping', (route) => route.abort('connectionreset'), 2],
    ]) {
      test(`${failure} ends with s3file:error and a validity message, and a second submit sends only the failed file`, async () => {
        const page = await newPage();
        const events = await recordEvents(page);
        const seen = watchRequests(page, store);
        let failures = tries ?? 1;
        await page.route(store.pattern, async (route) => {
          if (failures > 0 && route.request().postDataBuffer()?.includes('filename="b.bin"')) {
            failures -= 1;
            return fail(route);
          }
          return route.continue();
        });
        await openFixture(
          page,
          signer,
          'retry',
          `<form method="post" action="/s3file/finalize" data-s3file="" data-s3file-retries="1" id="form">
             <input type="file" name="file" id="file" multiple>
             <button id="go">Send</button>
           </form>`,
        );
        await page.setInputFiles('#file', [file('a.bin', 1000), file('b.bin', 2000), file('c.bin', 3000)]);
        await page.click('#go');
        await page.waitForFunction(() => document.getElementById('file').validationMessage !== '');

        const errors = events.filter((event) => event.type === 's3file:error');
        assert.equal(errors.length, 1);
        assert.equal(errors[0].target, 'file');
        assert.equal(errors[0].detail.fileName, 'b.bin');
        assert.equal(errors[0].detail.field, 'file');
        const message = await page.$eval('#file', (input) => input.validationMessage);
        assert.equal(message, errors[0].detail.message);
        assert.match(message, /could not upload b\.bin/);
        if (failure.includes('403')) {
          assert.match(message, /\(HTTP 403\): Invalid according to Policy$/, 'the store\'s own reason, from its XML');
        }
        const form = await page.$eval('#form', (form) => ({
          busy: form.getAttribute('aria-busy'),
          disabled: document.getElementById('go').disabled,
        }));
        assert.deepEqual(form, { busy: null, disabled: false }, 'the form is usable again');
        assert.equal(seen.finalize.length, 0);
        assert.deepEqual(
          events.filter((event) => event.type === 's3file:done').map((event) => event.detail.name).sort(),
          ['a.bin', 'c.bin'],
        );

        const signedBefore = seen.sign.length;
        const uploadsBefore = seen.store.length;
        await submitAndWaitForFinalize(page, '#go');
        assert.equal(seen.sign.length, signedBefore, 'the retry reuses the instructions it had');
        assert.deepEqual(
          events.filter((event) => event.type === 's3file:start').map(({ target, detail }) => ({ target, ...detail })),
          [
            { target: 'form', files: 3, total: 6000 },
            { target: 'form', files: 1, total: 2000 },
          ],
          's3file:start counts the files each attempt sends',
        );
        assert.equal(uploadsBefore, 3 + (tries ?? 1) - 1, 'a transient failure is tried again, a refusal is not');
        const retried = seen.store.slice(uploadsBefore);
        assert.equal(retried.length, 1, 'only the failed file is sent again');
        assert.ok(retried[0].postDataBuffer().includes('filename="b.bin"'));
        const keys = entries(seen.finalize[0]).filter(([name]) => name === 'file').map(([, key]) => key);
        assert.deepEqual(keys.map(baseName), ['a.bin', 'b.bin', 'c.bin']);
        assert.equal(new Set(keys.map(folderOf)).size, 1, 'all in the folder the signature covers');
        assert.deepEqual((await storedFiles(page)).map(({ name }) => name), ['a.bin', 'b.bin', 'c.bin']);
        await page.context().close();
      });
    }

    test('a dropped connection is tried again without the user, only for the file it hit', async () => {
      const page = await newPage();
      const events = await recordEvents(page);
      const seen = watchRequests(page, store);
      let failures = 1;
      await page.route(store.pattern, async (route) => {
        if (failures > 0 && route.request().postDataBuffer()?.includes('filename="b.bin"')) {
          failures -= 1;
          return route.abort('connectionreset');
        }
        return route.continue();
      });
      await openFixture(
        page,
        signer,
        'transient',
        `<form method="post" action="/s3file/finalize" data-s3file="" id="form">
           <input type="file" name="file" id="file" multiple>
           <button id="go">Send</button>
         </form>`,
      );
      await page.setInputFiles('#file', [file('a.bin', 1000), file('b.bin', 2000), file('c.bin', 3000)]);
      await submitAndWaitForFinalize(page, '#go');
      assert.deepEqual(sentNames(seen).sort(), ['a.bin', 'b.bin', 'b.bin', 'c.bin']);
      assert.equal(events.filter((event) => event.type === 's3file:error').length, 0);
      assert.deepEqual((await storedFiles(page)).map(({ name }) => name), ['a.bin', 'b.bin', 'c.bin']);
      await page.context().close();
    });

    test('a file whose checksum never finishes fails on the stall timeout, and the form comes back', async () => {
      const page = await newPage();
      const events = await recordEvents(page);
      const seen = watchRequests(page, store);
      // The file cannot be read: its stream never yields a chunk and its bytes never come
      // whole, as a file on a hung network share would; on the page, and in the workers that
      // hash it, each of which first runs the same patch, then the widget's worker.
      await page.addInitScript(() => {
        const patch = () => {
          const { stream, arrayBuffer } = Blob.prototype;
          Blob.prototype.stream = function () {
            return this.name === 'stuck.bin' ? new ReadableStream() : stream.call(this);
          };
          Blob.prototype.arrayBuffer = function () {
            return this.name === 'stuck.bin' ? new Promise(() => {}) : arrayBuffer.call(this);
          };
        };
        patch();
        const PageWorker = Worker;
        window.Worker = class extends PageWorker {
          constructor(url, options) {
            const script = `import ${JSON.stringify(String(url))}; (${patch})();`;
            super(URL.createObjectURL(new Blob([script], { type: 'text/javascript' })), options);
          }
        };
      });
      await openFixture(
        page,
        signer,
        'stuck-checksum',
        `<form method="post" action="/s3file/finalize" data-s3file="" data-s3file-stall-timeout="1" data-s3file-retries="0">
           <input type="file" name="file" id="file" multiple>
           <button id="go">Send</button>
         </form>`,
      );
      await page.setInputFiles('#file', [file('ok.bin', 1000), file('stuck.bin', 1000)]);
      const started = Date.now();
      await page.click('#go');
      await handedBackWith(page, events, 'stuck.bin', 'could not upload stuck.bin: reading it for its checksum stalled');
      const waited = Date.now() - started;
      assert.ok(waited >= 900, `it waited for the stall timeout: ${waited} ms`);
      assert.deepEqual(sentNames(seen), ['ok.bin'], 'the stuck file never went to the store');
      await page.context().close();
    });

    test('checksums are computed in workers; where the page forbids workers, on the page, with one warning', async () => {
      const form = `<form method="post" action="/s3file/finalize" data-s3file="">
           <input type="file" name="file" id="file" multiple>
           <button id="go">Send</button>
         </form>`;
      const files = [file('a.bin', 300_000), file('b.bin', 200_000), file('c.bin', 1000)];
      for (const policy of [undefined, "worker-src 'none'"]) {
        const page = await newPage();
        const workers = [];
        page.on('worker', (worker) => workers.push(worker.url()));
        const warnings = [];
        page.on('console', (message) => message.type() === 'warning' && warnings.push(message.text()));
        const seen = watchRequests(page, store);
        const headers = policy ? { 'Content-Security-Policy': policy } : {};
        await openFixture(page, signer, policy ? 'no-workers' : 'workers', form, headers);
        await page.setInputFiles('#file', files);
        await submitAndWaitForFinalize(page, '#go');
        assert.deepEqual((await storedFiles(page)).map(({ name }) => name), ['a.bin', 'b.bin', 'c.bin']);
        // Each file went up with its checksum, which the store verified before it kept it.
        for (const request of seen.store) {
          const body = request.postDataBuffer().toString('latin1');
          const name = /filename="([^"]+)"/.exec(body)[1];
          const digest = postChecksum.of(files.find((candidate) => candidate.name === name).buffer);
          assert.ok(body.includes(`name="${postChecksum.field}"\r\n\r\n${digest}\r\n`), name);
        }
        const fallback = warnings.filter((text) => text.startsWith('s3file: checksums are computed on the page'));
        if (policy) {
          assert.deepEqual(workers, [], 'no worker started');
          assert.equal(fallback.length, 1, `one warning for three files: ${warnings}`);
        } else {
          assert.ok(workers.length >= 1 && workers.every((url) => url.endsWith('/pkg/s3file_digest_worker.js')), `${workers}`);
          assert.deepEqual(fallback, []);
        }
        await page.context().close();
      }
    });

    test('a file changed on disk after it was chosen fails with its own message, and nothing of it is stored', async () => {
      const page = await newPage();
      const events = await recordEvents(page);
      const seen = watchRequests(page, store);
      const dir = await mkdtemp(join(tmpdir(), 's3file-changed-'));
      const path = join(dir, 'changing.bin');
      await writeFile(path, bytes(4000));
      await openFixture(
        page,
        signer,
        'changed-file',
        `<form method="post" action="/s3file/finalize" data-s3file="" data-s3file-retries="2">
           <input type="file" name="file" id="file">
           <button id="go">Send</button>
         </form>`,
      );
      await page.setInputFiles('#file', path);
      // The browser takes the file's snapshot (size, modification time) when the page first
      // looks at it, as a page's own script or the widget would; edited after that, the File
      // still describes the old bytes.
      assert.equal(await page.$eval('#file', (input) => input.files[0].size), 4000);
      await writeFile(path, bytes(6000));
      await page.click('#go');
      await handedBackWith(
        page,
        events,
        'changing.bin',
        'could not upload changing.bin: it changed or is gone since it was chosen; choose it again',
      );
      assert.equal(seen.store.length, 0, 'no bytes of it went to the store');
      await page.context().close();
      await rm(dir, { recursive: true, force: true });
    });

    test('a sign answer with more parts than S3 allows is refused as garbled, and nothing is sent', async () => {
      const page = await newPage();
      const events = await recordEvents(page);
      const seen = watchRequests(page, store);
      // A signer (or whatever answers in its place) that asks the widget to keep track of four
      // billion parts: it must not try.
      await page.route('**/s3file/sign', (route) =>
        route.fulfill({
          contentType: 'application/json',
          body: JSON.stringify({
            signature: 'x',
            files: [
              {
                name: 'big.bin',
                key: 'tmp/s3file/x/big.bin',
                multipart: { uploadId: 'u', ticket: 't', partSize: 1, partCount: 4e9 },
              },
            ],
          }),
        }),
      );
      await openFixture(
        page,
        signer,
        'too-many-parts',
        `<form method="post" action="/s3file/finalize" data-s3file="">
           <input type="file" name="file" id="file">
           <button id="go">Send</button>
         </form>`,
      );
      await page.setInputFiles('#file', [file('big.bin', 1000)]);
      await page.click('#go');
      await handedBackWith(
        page,
        events,
        undefined,
        'the upload signer at /s3file/sign gave an unexpected answer: a multipart upload lacks its id, ticket, part size, or 1 to 10,000 parts',
      );
      assert.equal(seen.store.length, 0, 'nothing went to the store');
      await page.context().close();
    });

    test('files larger than data-s3file-max-size are refused before signing', async () => {
      const page = await newPage();
      const events = await recordEvents(page);
      const seen = watchRequests(page, store);
      await openFixture(
        page,
        signer,
        'max-size',
        `<form method="post" action="/s3file/finalize" data-s3file="" data-s3file-max-size="1000">
           <input type="file" name="file" id="file" multiple>
           <button id="go">Send</button>
         </form>`,
      );
      await page.setInputFiles('#file', [file('small.bin', 10), file('big.bin', 2000)]);
      await page.click('#go');
      await page.waitForFunction(() => document.getElementById('file').validationMessage !== '');
      assert.equal(
        await page.$eval('#file', (input) => input.validationMessage),
        'big.bin is 2000 bytes; files may be at most 1000 bytes',
      );
      assert.equal(seen.sign.length + seen.store.length, 0, 'nothing was signed or sent');
      assert.deepEqual(
        events.filter((event) => event.type === 's3file:error').map((event) => event.detail.fileName),
        ['big.bin'],
      );
      // Choosing other files clears the message.
      await page.setInputFiles('#file', [file('small.bin', 10)]);
      assert.equal(await page.$eval('#file', (input) => input.validationMessage), '');
      await page.context().close();
    });

    test('the sign request carries accept and max_size, and the signer\'s refusal shows on the input', async () => {
      const page = await newPage();
      const seen = watchRequests(page, store);
      await openFixture(
        page,
        signer,
        'accept',
        `<form method="post" action="/s3file/finalize" data-s3file="" data-s3file-max-size="5000">
           <input type="file" name="file" id="file" accept="image/png,.jpg">
           <button id="go">Send</button>
         </form>`,
      );
      await page.setInputFiles('#file', file('notes.txt', 10, 'text/plain'));
      await page.click('#go');
      await page.waitForFunction(() => document.getElementById('file').validationMessage !== '');
      assert.deepEqual(JSON.parse(seen.sign[0].postData()), {
        field: 'file',
        files: [{ name: 'notes.txt', size: 10, type: 'text/plain' }],
        accept: 'image/png,.jpg',
        max_size: 5000,
      });
      assert.match(
        await page.$eval('#file', (input) => input.validationMessage),
        /refused the files \(HTTP 400\): notes\.txt \(text\/plain\) is not an accepted type/,
      );
      assert.equal(seen.store.length, 0);
      await page.context().close();
    });

    test('the JS API uploads without submitting, and abort() stops an upload and hands the form back', async () => {
      const page = await newPage();
      const seen = watchRequests(page, store);
      await openFixture(
        page,
        signer,
        'api',
        `<form method="post" action="/s3file/finalize" data-s3file="" id="form">
           <input type="file" name="file" id="file">
           <button id="go">Send</button>
         </form>`,
      );
      // A slow uplink, so there is an upload to abort.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: 256 * 1024,
      });
      await page.setInputFiles('#file', file('slow.bin', 1024 * 1024));
      const aborted = await page.evaluate(async () => {
        const { upload, abort } = await import('/pkg/s3file.js');
        const form = document.getElementById('form');
        const result = upload(form).then(
          () => 'resolved',
          (error) => `${error.name}: ${error.message}`,
        );
        await new Promise((resolve) => form.addEventListener('progress', resolve, { once: true }));
        const busy = form.getAttribute('aria-busy');
        const stopped = abort(form);
        return { busy, stopped, result: await result, after: form.getAttribute('aria-busy'), disabled: document.getElementById('go').disabled };
      });
      assert.deepEqual(aborted, {
        busy: 'true',
        stopped: true,
        result: 'AbortError: the upload was aborted',
        after: null,
        disabled: false,
      });
      assert.equal(seen.finalize.length, 0);

      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      const keys = await page.evaluate(async () => {
        const { upload } = await import('/pkg/s3file.js');
        return upload(document.getElementById('form'));
      });
      assert.deepEqual(Object.keys(keys), ['file']);
      assert.equal(baseName(keys.file[0]), 'slow.bin');
      const form = await page.$eval('#form', (form) => ({
        hidden: [...form.querySelectorAll('input[type=hidden]')].map((input) => input.name),
        fileName: document.getElementById('file').name,
      }));
      assert.deepEqual(form, { hidden: ['s3file', 'file', 'file-s3f-signature'], fileName: '' });
      assert.equal(seen.finalize.length, 0, 'upload() does not submit');
      // The page submits when it wants to: the keys go, not the bytes.
      await submitAndWaitForFinalize(page, '#go');
      assert.deepEqual((await storedFiles(page)).map(({ name }) => name), ['slow.bin']);
      await page.context().close();
    });

    test('django-s3file\'s Bootstrap progress bar works unchanged, and no bars\' module is fetched', async () => {
      const page = await newPage();
      const fetched = [];
      page.on('request', (request) => fetched.push(new URL(request.url()).pathname));
      // The snippet from django-s3file's README, as users copied it into their templates.
      await openFixture(
        page,
        signer,
        'bootstrap',
        `<form method="post" action="/s3file/finalize" data-s3file="" target="result">
           <input type="file" name="file" id="file">
           <button id="go">Send</button>
         </form>
         <div class="progress">
           <div class="progress-bar" role="progressbar" style="width: 0%;" aria-valuenow="0" aria-valuemin="0" aria-valuemax="100">0%</div>
         </div>
         <script>
         (function () {
             var form = document.getElementsByTagName('form')[0]
             var progressBar = document.getElementsByClassName('progress-bar')[0]

             form.addEventListener('progress', function (event) {
                 // event.detail.progress is a value between 0 and 1
                 var percent = Math.round(event.detail.progress * 100)

                 progressBar.setAttribute('style', 'width:' + percent + '%')
                 progressBar.setAttribute('aria-valuenow', percent)
                 progressBar.innerText = percent + '%'
             })
         })()
         </script>
         <iframe name="result"></iframe>`,
      );
      await page.setInputFiles('#file', file('bar.bin', 200 * 1024));
      const done = page.waitForEvent('framenavigated', (frame) => frame.url().includes('/s3file/finalize'));
      await page.click('#go');
      await done;
      const bar = await page.$eval('.progress-bar', (bar) => ({
        text: bar.innerText,
        style: bar.getAttribute('style'),
        now: bar.getAttribute('aria-valuenow'),
      }));
      assert.deepEqual(bar, { text: '100%', style: 'width:100%', now: '100' });
      assert.ok(fetched.includes('/pkg/s3file.js'));
      assert.ok(!fetched.includes('/pkg/s3file_progress.js'), 'a page without data-s3file-progress never loads the bars');
      assert.ok(!fetched.includes('/pkg/s3file_gzip.js'), 'a signer that gzips nothing has the page load no gzip code');
      await page.context().close();
    });

    test('progress and failures are announced in a polite live region, and labels keep working', async () => {
      const page = await newPage();
      const said = [];
      await page.exposeFunction('__said', (text) => said.push(text));
      await page.addInitScript(() => {
        // Each text the widget puts in the region, also those replaced within the same task.
        new MutationObserver((records) => {
          for (const record of records) {
            if (record.target.matches?.('[data-s3file-status]')) {
              for (const node of record.addedNodes) window.__said(node.textContent);
            }
          }
        }).observe(document, { subtree: true, childList: true });
      });
      await openFixture(
        page,
        signer,
        'announce',
        `<form method="post" action="/s3file/finalize" data-s3file="" data-s3file-max-size="100" id="form">
           <label for="file">Attachments</label>
           <input type="file" name="file" id="file" multiple>
           <button id="go">Send</button>
         </form>`,
      );
      const region = await page.$eval('#form [data-s3file-status]', (region) => ({
        role: region.getAttribute('role'),
        live: region.getAttribute('aria-live'),
        text: region.textContent,
      }));
      assert.deepEqual(region, { role: 'status', live: 'polite', text: '' }, 'the region is there before anything is said');

      await page.getByLabel('Attachments').setInputFiles([file('a.bin', 50), file('big.bin', 500)]);
      await page.click('#go');
      await page.waitForFunction(() => document.getElementById('file').validationMessage !== '');
      assert.deepEqual(said, [
        'Uploading 2 files',
        'Upload failed: big.bin is 500 bytes; files may be at most 100 bytes',
      ]);

      await page.getByLabel('Attachments').setInputFiles([file('a.bin', 50), file('b.bin', 60)]);
      await submitAndWaitForFinalize(page, '#go');
      const second = said.slice(2);
      assert.equal(second[0], 'Uploading 2 files');
      assert.equal(second.at(-1), 'Upload complete');
      await page.context().close();
    });

    test('django-s3file\'s markup uploads with the policy on the input and no signer call', async () => {
      const page = await newPage();
      const events = await recordEvents(page);
      const seen = watchRequests(page, store);
      const content = bytes(4096);
      // A policy for this one file, as Django would have rendered it into the page.
      const signed = await (
        await fetch(`${signer.url}/s3file/sign`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ field: 'file', files: [{ name: 'report 1.pdf', size: content.length, type: 'application/pdf' }] }),
        })
      ).json();
      const url = signed.files[0].url;
      const fields = withoutChecksum(signed.files[0].fields, store.secret);
      const escape = (text) => text.replaceAll('&', '&amp;').replaceAll('"', '&quot;');
      const dataFields = Object.entries(fields)
        .filter(([name]) => !['Content-Type', 'success_action_status'].includes(name))
        .map(([name, value]) => `data-fields-${name}="${escape(value)}"`)
        .join(' ');
      await openFixture(
        page,
        signer,
        'django-markup',
        `<form method="post" action="/s3file/finalize">
           <input type="file" name="file" id="file" class="s3file" data-url="${escape(url)}" ${dataFields}
                  data-s3f-signature="${escape(signed.signature)}">
           <input type="submit" name="save" value="Save">
         </form>`,
      );
      await page.setInputFiles('#file', { name: 'report 1.pdf', mimeType: 'application/pdf', buffer: content });
      await submitAndWaitForFinalize(page, 'input[type=submit]');

      assert.equal(seen.sign.length, 0, 'no signer call');
      assert.equal(seen.store.length, 1);
      const upload = seen.store[0].postDataBuffer().toString('latin1');
      const names = [...upload.matchAll(/; name="([^"]+)"/g)].map((match) => match[1]);
      const expected = Object.keys(fields).filter((name) => !['Content-Type', 'success_action_status'].includes(name));
      assert.deepEqual(names, [...expected, 'success_action_status', 'Content-Type', 'file']);
      assert.match(upload, /name="Content-Type"\r\n\r\napplication\/pdf\r\n/);
      assert.deepEqual(entries(seen.finalize[0]), [
        ['s3file', 'file'],
        ['file', signed.files[0].key],
        ['file-s3f-signature', signed.signature],
        ['save', 'Save'],
      ]);
      assert.deepEqual((await storedFiles(page)).map(({ name }) => name), ['report 1.pdf']);
      assert.ok(events.some((event) => event.type === 'progress' && event.target === 'file'));
      await page.context().close();
    });
  });
}
