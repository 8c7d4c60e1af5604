// Progress bars bound with markup alone (`data-s3file-progress`), in real Chromium against the
// signer's embedded store and against SeaweedFS: a form's and an input's bars show the numbers
// of the `progress` events their form and input get, in order, next to django-s3file's
// Bootstrap snippet, which listens to `progress` itself; bars bound by an input added later
// work too, and go back to 0 when the form is handed back; a selector that is not one is
// reported, and the upload goes on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { launchBrowser } from './support/browser.mjs';
import { fixturePage, openFixture } from './support/fixture.mjs';
import { startDevSigner, startSeaweedfsSigner } from './support/signer.mjs';

const file = (name, length) => ({ name, mimeType: 'application/octet-stream', buffer: randomBytes(length) });

const STORES = [
  { name: 'the embedded dev store', start: startDevSigner, storePattern: (signer) => `${signer.url}/s3/**` },
  { name: 'SeaweedFS', start: startSeaweedfsSigner, storePattern: (signer) => `${signer.s3.endpoint}/**` },
];

/** The module the widget fetches for the bars. */
const BAR_MODULE = '/pkg/s3file_progress.js';

/**
 * Records, from before the page's own code runs, each `progress` event (`{target, progress}`,
 * caught while capturing: it does not bubble) and each change of a bar (`{bar, name, value}`
 * for `value`, `aria-valuenow` and `role`), in `window.__progress` and `window.__bars`.
 */
async function recordBars(page) {
  await page.addInitScript(() => {
    window.__progress = [];
    window.__bars = [];
    document.addEventListener(
      'progress',
      (event) => window.__progress.push({ target: event.target.id, progress: event.detail.progress }),
      true,
    );
    // A record tells what the attribute was before the change; what it became is the old value
    // of the next record of that attribute, or, for the last one, what it is now.
    new MutationObserver((records) => {
      records.forEach(({ target, attributeName }, index) => {
        const next = records
          .slice(index + 1)
          .find((later) => later.target === target && later.attributeName === attributeName);
        const value = next ? next.oldValue : target.getAttribute(attributeName);
        window.__bars.push({ bar: target.id, name: attributeName, value });
      });
    }).observe(document, {
      subtree: true,
      attributes: true,
      attributeOldValue: true,
      attributeFilter: ['value', 'aria-valuenow', 'role'],
    });
  });
}

/** What `recordBars` recorded so far. */
const recorded = (page) => page.evaluate(() => ({ progress: window.__progress, bars: window.__bars }));

/** The values bar `id` took for attribute `name`, in order, as numbers. */
const valuesOf = (bars, id, name) =>
  bars.filter((change) => change.bar === id && change.name === name).map(({ value }) => Number(value));

/** The `progress` of each event `target` got, in order. */
const progressOf = (events, target) => events.filter((event) => event.target === target).map(({ progress }) => progress);

/** What a bar shows now: its value, ARIA attributes and custom property. */
const barState = (page, id) =>
  page.$eval(`#${id}`, (bar) => ({
    value: bar.getAttribute('value'),
    role: bar.getAttribute('role'),
    min: bar.getAttribute('aria-valuemin'),
    max: bar.getAttribute('aria-valuemax'),
    now: bar.getAttribute('aria-valuenow'),
    custom: bar.style.getPropertyValue('--s3file-progress'),
  }));

/** Submits the form into the page's `result` frame, so the page and its bars stay. */
async function submitIntoFrame(page) {
  const done = page.waitForEvent('framenavigated', (frame) => frame.url().includes('/s3file/finalize'));
  await page.click('#go');
  await done;
}

for (const { name: storeName, start, storePattern } of STORES) {
  describe(`progress bars without JavaScript against ${storeName}`, () => {
    let signer;
    let browser;

    before(async () => {
      signer = await start();
      browser = await launchBrowser();
    });

    after(async () => {
      await browser?.close();
      await signer?.stop();
    });

    const newPage = () => fixturePage(browser);

    test('a form\'s and an input\'s bars show the numbers of their progress events, next to django-s3file\'s Bootstrap snippet', async () => {
      const page = await newPage();
      await recordBars(page);
      const fetched = [];
      page.on('request', (request) => fetched.push(new URL(request.url()).pathname));
      // One file at a time, so the form's bar passes through a value between 0 and 1.
      await openFixture(
        page,
        signer,
        'bars',
        `<form method="post" action="/s3file/finalize" data-s3file="" data-s3file-concurrency="1"
               data-s3file-progress="#form-bar" target="result" id="form">
           <input type="file" name="file" id="file" multiple data-s3file-progress=".file-bar">
           <button id="go">Send</button>
         </form>
         <progress id="form-bar" max="100"></progress>
         <div class="file-bar" id="file-div"></div>
         <progress class="file-bar" id="file-progress"></progress>
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
      assert.ok(!fetched.includes(BAR_MODULE), 'the bars\' module waits for the first progress');
      await page.setInputFiles('#file', [file('a.bin', 200 * 1024), file('b.bin', 100 * 1024)]);
      await submitIntoFrame(page);
      // The bars' last change follows the last event: wait for it.
      await page.waitForFunction(() => document.getElementById('form-bar').value === 100);

      const { progress, bars } = await recorded(page);
      const ofForm = progressOf(progress, 'form');
      const ofInput = progressOf(progress, 'file');
      assert.ok(ofForm.some((value) => value > 0 && value < 1), `a value between 0 and 1 among ${ofForm}`);
      assert.equal(ofForm.at(-1), 1);
      assert.deepEqual(valuesOf(bars, 'form-bar', 'value'), ofForm.map((value) => value * 100), 'scaled to max=100');
      assert.deepEqual(valuesOf(bars, 'file-progress', 'value'), ofInput);
      assert.deepEqual(
        valuesOf(bars, 'file-div', 'aria-valuenow'),
        ofInput.map((value) => Math.floor(value * 100)),
        'whole percent, 100 only once every byte is sent',
      );

      assert.deepEqual(await barState(page, 'form-bar'), {
        value: '100',
        role: null,
        min: null,
        max: null,
        now: null,
        custom: '1',
      });
      assert.deepEqual(await barState(page, 'file-progress'), {
        value: '1',
        role: null,
        min: null,
        max: null,
        now: null,
        custom: '1',
      });
      assert.deepEqual(await barState(page, 'file-div'), {
        value: null,
        role: 'progressbar',
        min: '0',
        max: '100',
        now: '100',
        custom: '1',
      });
      const bootstrap = await page.$eval('.progress-bar', (bar) => ({
        text: bar.innerText,
        style: bar.getAttribute('style'),
        now: bar.getAttribute('aria-valuenow'),
      }));
      assert.deepEqual(bootstrap, { text: '100%', style: 'width:100%', now: '100' }, 'the snippet works unchanged');
      assert.equal(fetched.filter((path) => path === BAR_MODULE).length, 1, 'the bars\' module is fetched once');
      const names = await page.frameLocator('iframe[name=result]').locator('#files li[data-key] a').allTextContents();
      assert.deepEqual(names, ['a.bin', 'b.bin']);
      await page.context().close();
    });

    test('an input added later binds its bar; the bars go back to 0 when the form is handed back, and fill on the next submit', async () => {
      const page = await newPage();
      await recordBars(page);
      let refuse = 1;
      await page.route(storePattern(signer), (route) => {
        if (refuse > 0 && route.request().postDataBuffer()?.includes('filename="b.bin"')) {
          refuse -= 1;
          return route.fulfill({
            status: 403,
            contentType: 'application/xml',
            headers: { 'Access-Control-Allow-Origin': '*' },
            body: '<Error><Code>AccessDenied</Code><Message>Invalid according to Policy</Message></Error>',
          });
        }
        return route.continue();
      });
      await openFixture(
        page,
        signer,
        'bars-later',
        `<form method="post" action="/s3file/finalize" data-s3file="" data-s3file-concurrency="1"
               data-s3file-progress="#form-bar" target="result" id="form">
           <button id="go">Send</button>
         </form>
         <progress id="form-bar"></progress>
         <main id="main"></main>
         <iframe name="result"></iframe>`,
      );
      // As a page that swaps in server-rendered markup would: the input and its bar come later.
      await page.evaluate(() => {
        document.getElementById('main').innerHTML = '<div id="late-bar"></div>';
        const input = document.createElement('input');
        input.type = 'file';
        input.name = 'late';
        input.id = 'late';
        input.multiple = true;
        input.setAttribute('data-s3file-progress', '#late-bar');
        document.getElementById('form').prepend(input);
      });
      const errors = page.evaluate(
        () => new Promise((resolve) => document.addEventListener('s3file:error', (event) => resolve(event.target.id))),
      );
      await page.setInputFiles('#late', [file('a.bin', 3000), file('b.bin', 2000)]);
      await page.click('#go');
      assert.equal(await errors, 'late');
      await page.waitForFunction(
        () =>
          document.getElementById('form-bar').getAttribute('value') === '0' &&
          document.getElementById('late-bar').getAttribute('aria-valuenow') === '0',
      );

      const first = await recorded(page);
      const ofForm = valuesOf(first.bars, 'form-bar', 'value');
      const ofInput = valuesOf(first.bars, 'late-bar', 'aria-valuenow');
      assert.deepEqual(ofForm, [...progressOf(first.progress, 'form'), 0], 'each number, then 0');
      assert.ok(ofForm.includes(0.6), `a.bin stored counts 3000 of 5000 bytes: ${ofForm}`);
      assert.deepEqual(ofInput, [...progressOf(first.progress, 'late').map((value) => Math.floor(value * 100)), 0]);
      assert.equal((await barState(page, 'late-bar')).custom, '0');

      await submitIntoFrame(page);
      await page.waitForFunction(() => document.getElementById('form-bar').getAttribute('value') === '1');
      const second = await recorded(page);
      assert.equal(progressOf(second.progress, 'late').at(-1), 1);
      assert.deepEqual(await barState(page, 'late-bar'), {
        value: null,
        role: 'progressbar',
        min: '0',
        max: '100',
        now: '100',
        custom: '1',
      });
      const names = await page.frameLocator('iframe[name=result]').locator('#files li[data-key] a').allTextContents();
      assert.deepEqual(names, ['a.bin', 'b.bin']);
      await page.context().close();
    });

    test('a data-s3file-progress that is not a CSS selector is reported once and the upload goes on', async () => {
      const page = await newPage();
      const errors = [];
      page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
      await openFixture(
        page,
        signer,
        'bars-bad-selector',
        `<form method="post" action="/s3file/finalize" data-s3file="" data-s3file-progress="#bar[" target="result">
           <input type="file" name="file" id="file" multiple>
           <button id="go">Send</button>
         </form>
         <progress id="bar"></progress>
         <iframe name="result"></iframe>`,
      );
      await page.setInputFiles('#file', [file('a.bin', 1000), file('b.bin', 1000)]);
      await submitIntoFrame(page);
      assert.deepEqual(errors, ['s3file: data-s3file-progress="#bar[" is not a CSS selector']);
      assert.equal(await page.$eval('#bar', (bar) => bar.getAttribute('value')), null, 'no bar is touched');
      const names = await page.frameLocator('iframe[name=result]').locator('#files li[data-key] a').allTextContents();
      assert.deepEqual(names, ['a.bin', 'b.bin']);
      await page.context().close();
    });
  });
}
