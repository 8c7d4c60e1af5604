// The demo flow in real Chromium, against the signer's embedded store and against SeaweedFS:
// the widget signs, uploads straight to the store, reports progress, and submits the form with
// keys in place of the bytes; finalize moves the objects and lists them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';

import { launchBrowser } from './support/browser.mjs';
import { startDevSigner, startSeaweedfsSigner } from './support/signer.mjs';
import { download, storedFiles } from './support/result_page.mjs';

const DETAIL_FIELDS = ['currentFile', 'currentFileName', 'currentFileProgress', 'loaded', 'originalEvent', 'progress', 'total'];

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Records every `progress` event on the demo form and its file input, in order, in Node. */
async function recordProgress(page) {
  const events = [];
  await page.exposeFunction('__s3fileRecord', (event) => events.push(event));
  await page.addInitScript(() => {
    const describe = (where) => (event) => {
      const detail = event.detail;
      window.__s3fileRecord({
        where,
        target: event.target.id,
        bubbles: event.bubbles,
        fields: Object.keys(detail).sort(),
        progress: detail.progress,
        loaded: detail.loaded,
        total: detail.total,
        currentFileName: detail.currentFileName,
        currentFileProgress: detail.currentFileProgress,
        currentFileIsFile: detail.currentFile instanceof File,
        originalEventIsProgressEvent: detail.originalEvent instanceof ProgressEvent,
      });
    };
    document.addEventListener('DOMContentLoaded', () => {
      document.getElementById('upload-form').addEventListener('progress', describe('form'));
      document.getElementById('file').addEventListener('progress', describe('input'));
    });
  });
  return events;
}

for (const [store, startSigner] of [
  ['the embedded dev store', startDevSigner],
  ['SeaweedFS', startSeaweedfsSigner],
]) {
  describe(`demo upload against ${store}`, () => {
    let signer;
    let browser;

    before(async () => {
      signer = await startSigner();
      browser = await launchBrowser();
    });

    after(async () => {
      await browser?.close();
      await signer?.stop();
    });

    test('a file goes straight to the store and is listed with a working link', async () => {
      const page = await browser.newPage();
      const storeRequests = [];
      page.on('request', (request) => {
        if (request.method() === 'POST' && !request.url().includes('/s3file/')) storeRequests.push(request);
      });
      const finalizeBodies = [];
      page.on('request', (request) => {
        if (request.url().endsWith('/s3file/finalize')) finalizeBodies.push(request.postData() ?? '');
      });
      const bytes = randomBytes(300 * 1024);
      await page.goto(`${signer.url}/`);
      await page.fill('#title', 'Holiday');
      await page.setInputFiles('#file', { name: 'photo one.bin', mimeType: 'application/octet-stream', buffer: bytes });
      await Promise.all([page.waitForURL('**/s3file/finalize'), page.click('#submit')]);

      assert.equal(storeRequests.length, 1, 'one upload request to the store');
      assert.equal(finalizeBodies.length, 1);
      assert.ok(!finalizeBodies[0].includes(bytes.subarray(0, 64).toString('latin1')), 'the bytes did not go to finalize');
      const files = await storedFiles(page);
      assert.equal(files.length, 1);
      assert.equal(files[0].name, 'photo one.bin');
      assert.equal(files[0].size, `${bytes.length} bytes`);
      assert.equal(sha256(await download(files[0].href)), sha256(bytes));
      assert.equal(await page.textContent('#fields dd'), 'Holiday');
      await page.close();
    });

    test('progress events carry django-s3file\'s detail fields, on the form then the input', async () => {
      const page = await browser.newPage();
      const events = await recordProgress(page);
      const bytes = randomBytes(1024 * 1024);
      await page.goto(`${signer.url}/`);
      // On loopback an upload finishes in one or two events; a slow uplink gives many.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: 2 * 1024 * 1024,
      });
      await page.setInputFiles('#file', { name: 'big.bin', mimeType: 'application/octet-stream', buffer: bytes });
      await Promise.all([page.waitForURL('**/s3file/finalize', { timeout: 60_000 }), page.click('#submit')]);

      // As django-s3file 7 dispatches them: on the form, then on the input, neither bubbling
      // (a listener on the form hears only the form's own).
      const onForm = events.filter((event) => event.where === 'form');
      const onInput = events.filter((event) => event.where === 'input');
      assert.ok(onForm.every((event) => event.target === 'upload-form'), 'the input\'s events do not bubble to the form');
      assert.ok(onForm.length >= 3, `several progress events on the form, got ${onForm.length}`);
      assert.equal(onInput.length, onForm.length, 'each update reaches the form and the input');
      assert.deepEqual(
        events.map((event) => event.where),
        onForm.flatMap(() => ['form', 'input']),
        'each update reaches the form first, then the input',
      );
      for (const event of events) {
        assert.deepEqual(event.fields, DETAIL_FIELDS);
        assert.equal(event.bubbles, false);
        assert.ok(event.progress >= 0 && event.progress <= 1, `progress ${event.progress}`);
        assert.ok(event.currentFileProgress >= 0 && event.currentFileProgress <= 1);
        assert.equal(event.total, bytes.length);
        assert.ok(event.loaded <= event.total);
        assert.equal(event.currentFileName, 'big.bin');
        assert.equal(event.currentFileIsFile, true);
        assert.equal(event.originalEventIsProgressEvent, true);
      }
      for (let i = 1; i < onForm.length; i += 1) {
        assert.ok(onForm[i].progress >= onForm[i - 1].progress, 'progress never goes backwards');
      }
      assert.equal(onForm.at(-1).progress, 1);
      assert.equal(onForm.at(-1).loaded, bytes.length);
      assert.equal(sha256(await download((await storedFiles(page))[0].href)), sha256(bytes));
      await page.close();
    });

    test('without JavaScript the form still uploads as a plain multipart post', async () => {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      const bytes = randomBytes(4096);
      await page.goto(`${signer.url}/`);
      await page.setInputFiles('#file', { name: 'nojs.bin', mimeType: 'application/octet-stream', buffer: bytes });
      await Promise.all([page.waitForURL('**/s3file/finalize'), page.click('#submit')]);
      const files = await storedFiles(page);
      assert.equal(files.length, 1);
      assert.equal(files[0].name, 'nojs.bin');
      assert.equal(sha256(await download(files[0].href)), sha256(bytes));
      await context.close();
    });

    test('two files of one input keep their order', async () => {
      const page = await browser.newPage();
      const first = randomBytes(1000);
      const second = randomBytes(2000);
      await page.goto(`${signer.url}/`);
      await page.setInputFiles('#file', [
        { name: 'b-first.bin', mimeType: 'application/octet-stream', buffer: first },
        { name: 'a-second.bin', mimeType: 'application/octet-stream', buffer: second },
      ]);
      await Promise.all([page.waitForURL('**/s3file/finalize'), page.click('#submit')]);
      const files = await storedFiles(page);
      assert.deepEqual(files.map((file) => file.name), ['b-first.bin', 'a-second.bin']);
      assert.equal(sha256(await download(files[0].href)), sha256(first));
      assert.equal(sha256(await download(files[1].href)), sha256(second));
      await page.close();
    });
  });
}
