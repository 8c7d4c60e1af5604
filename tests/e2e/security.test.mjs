// Hostile file names and fields in a real browser: they are shown as text everywhere, never
// run as markup, on the demo page while uploading and on the result page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { launchBrowser } from './support/browser.mjs';
import { startDevSigner } from './support/signer.mjs';

// No double quotes: the signer turns them into `_` (browsers escape them in multipart headers).
const HOSTILE_NAME = '<img src=x onerror=window.__xss=1>.txt';
const HOSTILE_TITLE = '<script>window.__xss=2</script>';

describe('hostile names', () => {
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

  test('a file name and a field with HTML in them are shown as text, never run', async () => {
    const page = await browser.newPage();
    const ran = [];
    await page.exposeFunction('__s3fileMarkupRan', (where) => ran.push(where));
    // Anything that runs reports itself, even if the page navigates right after.
    await page.addInitScript(() => {
      Object.defineProperty(window, '__xss', { set: (value) => window.__s3fileMarkupRan(String(value)) });
    });
    await page.goto(`${signer.url}/`);
    await page.fill('#title', HOSTILE_TITLE);
    await page.setInputFiles('#file', { name: HOSTILE_NAME, mimeType: 'text/plain', buffer: Buffer.from('x') });
    await Promise.all([page.waitForURL('**/s3file/finalize'), page.click('#submit')]);

    assert.equal(await page.textContent('#files a'), HOSTILE_NAME);
    assert.equal(await page.textContent('#fields dd'), HOSTILE_TITLE);
    assert.equal(await page.locator('#files img, #fields script').count(), 0);
    assert.deepEqual(ran, [], 'no markup from a name or field ran');
    await page.close();
  });
});
