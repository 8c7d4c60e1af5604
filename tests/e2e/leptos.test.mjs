// The Leptos component in real Chromium: www/leptos/ mounts `S3FileInput`, the drop-in widget
// uploads the chosen file straight to the dev store, the component's progress signal reaches
// 100% in the page, its `on_uploaded` callback shows the key, and finalize lists the file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { launchBrowser } from './support/browser.mjs';
import { startDevSigner } from './support/signer.mjs';

let signer;
let browser;

before(async () => {
  signer = await startDevSigner();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await signer?.stop();
});

test('a file uploads through the Leptos component, its signals render, finalize lists it', async () => {
  const page = await browser.newPage();
  // What the component renders changes just before the form is submitted and the page is
  // left: record it in Node as it changes.
  const rendered = [];
  await page.exposeFunction('__s3fileRendered', (snapshot) => rendered.push(snapshot));
  await page.addInitScript(() => {
    const snapshot = () => ({
      percent: document.querySelector('form.s3file output[data-s3file-progress]')?.textContent ?? null,
      signal: document.getElementById('progress-signal')?.dataset.progress ?? null,
      keys: [...document.querySelectorAll('#uploaded-keys li')].map((item) => item.textContent),
    });
    new MutationObserver(() => window.__s3fileRendered(snapshot())).observe(document, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
    });
  });
  const bytes = randomBytes(200 * 1024);
  await page.goto(`${signer.url}/leptos/`);
  await page.waitForSelector('form.s3file input[type=file][name=file][multiple]');
  assert.equal(await page.textContent('#progress-signal'), '0%');
  await page.setInputFiles('form.s3file input[type=file]', { name: 'leptos.bin', mimeType: 'application/octet-stream', buffer: bytes });
  await Promise.all([page.waitForURL('**/s3file/finalize'), page.click('form.s3file button[type=submit]')]);

  const done = rendered.find((snapshot) => snapshot.signal === '1' && snapshot.keys.length === 1);
  assert.ok(done, `the progress signal reached 1 with the key rendered: ${JSON.stringify(rendered.slice(-3))}`);
  assert.equal(done.percent, '100%');
  assert.match(done.keys[0], /leptos\.bin$/);

  const files = await page.$$eval('#files li[data-key]', (items) =>
    items.map((item) => ({ name: item.querySelector('a').textContent, size: item.querySelector('.size').textContent })),
  );
  assert.deepEqual(files, [{ name: 'leptos.bin', size: `${bytes.length} bytes` }]);
  await page.close();
});
