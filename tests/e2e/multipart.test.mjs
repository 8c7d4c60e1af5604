
// Big files in real Chromium, against the embedded dev store and SeaweedFS: multipart uploads
// with parts in flight together, a part tried again alone, part URLs renewed when they expire,
// a reload that resumes from the parts S3 holds, abort, and PUT mode.
//
// The signers run with a lowered threshold (multipart above 6 MiB, parts of 5 MiB, S3's least).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { launchBrowser } from './support/browser.mjs';
import { WWW_DIR, startDevSigner, startSeaweedfsSigner } from './support/signer.mjs';
import { download, storedFiles } from './support/result_page.mjs';

const MIB = 1024 * 1024;
const MULTIPART = ['--multipart-threshold', String(6 * MIB), '--multipart-part-size', String(5 * MIB)];
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const md5 = (bytes) => createHash('md5').update(bytes).digest('base64');

/** CRC-64/NVME from its catalogue parameters (reflected polynomial 0x9a6c9329ac4bc9b5, all ones
 *  in and out), big-endian in base64 as S3 writes it; a byte at a time through a table. */
const CRC64_TABLE = Array.from({ length: 256 }, (_, index) => {
  let crc = BigInt(index);
  for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ 0x9a6c9329ac4bc9b5n : crc >> 1n;
  return crc;
});
function crc64nvme(bytes) {
  const mask = (1n << 64n) - 1n;
  let crc = mask;
  for (const byte of bytes) crc = CRC64_TABLE[Number((crc ^ BigInt(byte)) & 0xffn)] ^ (crc >> 8n);
  const value = Buffer.alloc(8);
  value.writeBigUInt64BE(crc ^ mask);
  return value.toString('base64');
}

/** Part uploads (PUTs with a part number) the page sends, with their outcome. */
function watchParts(page) {
  const parts = [];
  page.on('requestfinished', async (request) => {
    const url = new URL(request.url());
    if (request.method() !== 'PUT' || !url.searchParams.has('partNumber')) return;
    const response = await request.response();
    parts.push({ number: Number(url.searchParams.get('partNumber')), status: response?.status() });
  });
  page.on('requestfailed', (request) => {
    const url = new URL(request.url());
    if (request.method() === 'PUT' && url.searchParams.has('partNumber')) {
      parts.push({ number: Number(url.searchParams.get('partNumber')), failed: true });
    }
  });
  return parts;
}

/** Requests to the signer's own endpoints, by name (`sign`, `parts`, `complete`, `abort`), and
 *  the answers to sign requests (read at once: a later navigation discards them). */
function watchSigner(page, signer) {
  const calls = { sign: [], parts: [], complete: [], abort: [], signed: [] };
  page.on('request', (request) => {
    const match = /\/s3file\/(sign|parts|complete|abort)$/.exec(request.url());
    if (match && request.url().startsWith(signer.url)) calls[match[1]].push(request);
  });
  page.on('response', (response) => {
    if (response.url() === `${signer.url}/s3file/sign`) calls.signed.push(response.json());
  });
  return calls;
}

/** The signer's answers to its endpoint `name` (`parts`, `complete`), read on their way to the
 *  page (which submits its form right after completing, and the answer to a request it navigated
 *  away from cannot be read). `before`, if given, runs before each request goes to the signer;
 *  what it throws is kept in `answers.failures`, and the request goes on. */
async function watchAnswers(page, signer, name, before) {
  const answers = Object.assign([], { failures: [] });
  await page.route(`${signer.url}/s3file/${name}`, async (route) => {
    await Promise.resolve(before?.()).catch((error) => answers.failures.push(error));
    const response = await route.fetch();
    answers.push(await response.json());
    await route.fulfill({ response });
  });
  return answers;
}
const watchCompletions = (page, signer, before) => watchAnswers(page, signer, 'complete', before);

/** The most part uploads the page had in flight at once, as its lanes have them: each from its
 *  XHR's `send()` to its `loadend`. (The browser's network timings cannot tell: a lane sends its
 *  next part in the same task that ends the last, before the network process has timed its
 *  end.) Read `most` once the upload is done. */
async function partsInFlight(page) {
  const counts = { most: 0 };
  // Told by the page, which the form's submission replaces: the count lives here.
  await page.exposeFunction('s3fileTestPartsInFlight', (now) => (counts.most = Math.max(counts.most, now)));
  await page.addInitScript(() => {
    let now = 0;
    const { open, send } = XMLHttpRequest.prototype;
    XMLHttpRequest.prototype.open = function (method, url, ...rest) {
      this.isPart = method === 'PUT' && new URL(url, location.href).searchParams.has('partNumber');
      return open.call(this, method, url, ...rest);
    };
    XMLHttpRequest.prototype.send = function (body) {
      if (this.isPart) {
        window.s3fileTestPartsInFlight((now += 1));
        this.addEventListener('loadend', () => (now -= 1), { once: true });
      }
      return send.call(this, body);
    };
  });
  return counts;
}

/** Waits until `condition()` holds, for at most a minute. */
async function until(condition, what) {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `waited a minute for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What `/s3file/complete` answers for the multipart upload of `file` (from a sign answer),
 *  asked again for up to 10 s until it says 404: an abort request outlives the page's own
 *  requests, so it may still be on its way. */
async function completeOnceGone(signer, file) {
  const body = JSON.stringify({ key: file.key, uploadId: file.multipart.uploadId, ticket: file.multipart.ticket });
  const headers = { 'Content-Type': 'application/json' };
  const deadline = Date.now() + 10_000;
  let status;
  do {
    await new Promise((resolve) => setTimeout(resolve, 100));
    status = (await fetch(`${signer.url}/s3file/complete`, { method: 'POST', headers, body })).status;
  } while (status !== 404 && Date.now() < deadline);
  return status;
}

/** Records the form's `progress` values on the demo page. */
async function recordProgress(page) {
  const values = [];
  await page.exposeFunction('__progress', (value) => values.push(value));
  await page.addInitScript(() => {
    document.addEventListener('DOMContentLoaded', () => {
      document.getElementById('upload-form').addEventListener('progress', (event) => window.__progress(event.detail.loaded));
    });
  });
  return values;
}

/** Slows the page's uploads down, so that parts take long enough to overlap and to be seen. */
async function throttle(page, bytesPerSecond) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
  return cdp;
}

for (const [storeName, startSigner] of [
  ['the embedded dev store', startDevSigner],
  ['SeaweedFS', startSeaweedfsSigner],
]) {
  describe(`multipart uploads against ${storeName}`, () => {
    let signer;
    let shortUrls;
    let putSigner;
    let browser;
    let dir;

    before(async () => {
      const args = (extra = []) => ['serve', '--www', WWW_DIR, ...MULTIPART, ...extra];
      [signer, shortUrls, putSigner] = await Promise.all([
        startSigner({ args: args() }),
        // Part URLs valid for 2 seconds: a slow upload outlives them.
        startSigner({ args: args(['--upload-expire', '2']) }),
        startSigner({ args: args(['--upload-method', 'put']) }),
      ]);
      browser = await launchBrowser();
      dir = await mkdtemp(join(tmpdir(), 's3file-multipart-'));
    });

    after(async () => {
      await browser?.close();
      await Promise.all([signer, shortUrls, putSigner].map((s) => s?.stop()));
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    /** A file on disk (so its lastModified stays the same when chosen again). */
    async function fileOnDisk(name, size) {
      const bytes = randomBytes(size);
      const path = join(dir, name);
      await writeFile(path, bytes);
      return { path, bytes };
    }

    test('a big file goes up in parts, several at once, and arrives byte-identical', async () => {
      const page = await browser.newPage();
      const parts = watchParts(page);
      const calls = watchSigner(page, signer);
      const completions = await watchCompletions(page, signer);
      const progress = await recordProgress(page);
      const inFlight = await partsInFlight(page);
      const { path, bytes } = await fileOnDisk('film.bin', 23 * MIB + 11);
      await page.goto(`${signer.url}/`);
      await throttle(page, 40 * MIB);
      await page.setInputFiles('#file', path);
      const finalized = page.waitForURL('**/s3file/finalize', { timeout: 120_000 });
      await page.click('#submit');
      // Editing another field while the parts go up leaves the upload alone.
      await until(() => calls.parts.length > 0, 'part URLs to be asked for');
      await page.$eval('#title', (title) => {
        title.value = 'edited';
        title.dispatchEvent(new Event('change', { bubbles: true }));
      });
      await finalized;

      assert.equal(calls.abort.length, 0, 'nothing was aborted');
      assert.deepEqual(parts.map((part) => part.number).sort((a, b) => a - b), [1, 2, 3, 4, 5]);
      assert.ok(parts.every((part) => part.status === 200), JSON.stringify(parts));
      assert.ok(inFlight.most >= 2, `parts overlap in time (at most ${inFlight.most} at once)`);
      assert.ok(inFlight.most <= 4, `no more than the form's concurrency (${inFlight.most})`);
      assert.equal(calls.sign.length, 1);
      assert.equal(calls.complete.length, 1);
      // Each part's CRC-64/NVME went with the completion, and the store checked the file's.
      const sent = JSON.parse(calls.complete[0].postData()).crc64nvme;
      const partCrcs = [0, 1, 2, 3, 4].map((index) => crc64nvme(bytes.subarray(index * 5 * MIB, (index + 1) * 5 * MIB)));
      assert.deepEqual(sent, partCrcs);
      assert.equal(completions[0].crc64nvme, crc64nvme(bytes));
      for (let i = 1; i < progress.length; i += 1) {
        assert.ok(progress[i] >= progress[i - 1], `progress went from ${progress[i - 1]} to ${progress[i]}`);
      }
      assert.equal(progress.at(-1), bytes.length, 'progress ends at exactly the file size');
      const [stored] = await storedFiles(page);
      assert.equal(stored.name, 'film.bin');
      assert.equal(sha256(await download(stored.href)), sha256(bytes));
      await page.close();
    });

    test('a part replaced through its URL after it went up never becomes part of the object', async (t) => {
      const page = await browser.newPage();
      const calls = watchSigner(page, signer);
      const errors = [];
      await page.exposeFunction('__error', (message) => errors.push(message));
      await page.addInitScript(() =>
        document.addEventListener('s3file:error', (event) => window.__error(event.detail.message), true),
      );
      const partAnswers = await watchAnswers(page, signer, 'parts');
      const { path, bytes } = await fileOnDisk('replaced.bin', 12 * MIB);
      // Once the browser has sent every part, someone holding part 2's URL puts other bytes of
      // the same length there, with their own Content-MD5, before the upload is completed.
      let replaced;
      const completions = await watchCompletions(page, signer, async () => {
        if (replaced) return;
        replaced = 'trying';
        const part = partAnswers.flatMap((answer) => answer.parts).find((url) => url.n === 2);
        const other = randomBytes(5 * MIB);
        const headers = [...part.headers, ['Content-MD5', md5(other)]];
        replaced = (await fetch(part.url, { method: 'PUT', headers, body: other })).status;
      });
      await page.goto(`${signer.url}/`);
      await page.setInputFiles('#file', path);
      await page.click('#submit');
      await until(() => completions.length > 0, 'the upload to be completed');
      assert.deepEqual(completions.failures, []);
      assert.equal(replaced, 200, 'the part URL took other bytes of its length');
      const finalize = '**/s3file/finalize';
      await until(() => errors.length > 0 || page.url().includes('/s3file/finalize'), 'the upload to end');
      t.diagnostic(errors.length ? 'refused at completion' : 'the store completed with the first upload of part 2');
      if (errors.length) {
        assert.match(errors[0], /CRC-64\/NVME/);
        assert.equal(calls.complete.length, 1, 'the completion is not tried again');
        // Sent again, the file goes up as a new upload and arrives intact.
        await Promise.all([page.waitForURL(finalize, { timeout: 60_000 }), page.click('#submit')]);
        const [first, second] = await Promise.all(calls.signed.slice(0, 2));
        assert.notEqual(second.files[0].multipart.uploadId, first.files[0].multipart.uploadId);
        assert.equal(completions.length, 2);
      } else {
        // SeaweedFS at times keeps a part number's first upload when it is sent twice, and
        // completes with it: then the replacement never became part of the object.
        assert.equal(storeName, 'SeaweedFS', 'the dev store keeps the last upload of a part, as S3 does');
        await page.waitForURL(finalize);
      }
      assert.equal(completions.at(-1).crc64nvme, crc64nvme(bytes));
      const [stored] = await storedFiles(page);
      assert.equal(sha256(await download(stored.href)), sha256(bytes));
      await page.close();
    });

    test('a part that fails is tried again alone, and progress loses only its bytes', async () => {
      const page = await browser.newPage();
      const parts = watchParts(page);
      const progress = await recordProgress(page);
      const { path, bytes } = await fileOnDisk('retried.bin', 12 * MIB);
      let failures = 1;
      await page.route('**/*partNumber=2*', (route) => {
        if (route.request().method() === 'PUT' && failures-- > 0) return route.abort('connectionreset');
        return route.continue();
      });
      await page.goto(`${signer.url}/`);
      await page.setInputFiles('#file', path);
      await Promise.all([page.waitForURL('**/s3file/finalize', { timeout: 60_000 }), page.click('#submit')]);

      const tries = (number) => parts.filter((part) => part.number === number).length;
      assert.deepEqual([tries(1), tries(2), tries(3)], [1, 2, 1], JSON.stringify(parts));
      for (let i = 1; i < progress.length; i += 1) {
        assert.ok(progress[i] >= progress[i - 1] - 5 * MIB, `progress fell by more than a part: ${progress[i - 1]} → ${progress[i]}`);
      }
      assert.equal(progress.at(-1), bytes.length);
      const [stored] = await storedFiles(page);
      assert.equal(sha256(await download(stored.href)), sha256(bytes));
      await page.close();
    });

    test('part URLs that expire during the upload are renewed and the upload completes', async () => {
      const page = await browser.newPage();
      const parts = watchParts(page);
      const calls = watchSigner(page, shortUrls);
      const { path, bytes } = await fileOnDisk('slow.bin', 16 * MIB);
      await page.goto(`${shortUrls.url}/`);
      // One part at a time, about 4 seconds in all: twice the URLs' lifetime.
      await page.evaluate(() => document.querySelector('form').setAttribute('data-s3file-concurrency', '1'));
      await throttle(page, 4 * MIB);
      await page.setInputFiles('#file', path);
      await Promise.all([page.waitForURL('**/s3file/finalize', { timeout: 120_000 }), page.click('#submit')]);

      assert.ok(calls.parts.length >= 2, `part URLs were asked for ${calls.parts.length} time(s)`);
      assert.ok(parts.filter((part) => part.status === 200).length === 4, JSON.stringify(parts));
      const [stored] = await storedFiles(page);
      assert.equal(sha256(await download(stored.href)), sha256(bytes));
      await page.close();
    });

    test('after a reload, choosing the file again sends only the parts S3 does not have', async () => {
      const page = await browser.newPage();
      const parts = watchParts(page);
      const calls = watchSigner(page, signer);
      const completions = await watchCompletions(page, signer);
      const { path, bytes } = await fileOnDisk('resumed.bin', 22 * MIB);
      await page.goto(`${signer.url}/`);
      await page.evaluate(() => document.querySelector('form').setAttribute('data-s3file-concurrency', '1'));
      await throttle(page, 8 * MIB);
      await page.setInputFiles('#file', path);
      await page.click('#submit');
      // Two parts stored, then the page goes away mid-upload.
      await until(() => parts.filter((part) => part.status === 200).length >= 2, 'two parts to be stored');
      const firstSign = await calls.signed[0];
      await page.reload();
      const before = parts.length;
      await page.setInputFiles('#file', path);
      await Promise.all([page.waitForURL('**/s3file/finalize', { timeout: 120_000 }), page.click('#submit')]);

      const resumedSign = calls.sign[1];
      const asked = JSON.parse(resumedSign.postData());
      assert.equal(asked.files[0].uploadId, firstSign.files[0].multipart.uploadId, 'the page asked to resume its upload');
      const answer = await calls.signed[1];
      const done = answer.files[0].multipart.done;
      assert.ok(done.length >= 2, `S3 held ${done.length} parts`);
      assert.equal(answer.files[0].key, firstSign.files[0].key);
      const sentAfter = parts.slice(before).filter((part) => part.status === 200).map((part) => part.number);
      assert.deepEqual(
        [...sentAfter].sort((a, b) => a - b),
        [1, 2, 3, 4, 5].filter((number) => !done.includes(number)),
        'only the missing parts were sent again',
      );
      // Parts stored before the reload were not read again: the store checked each part's MD5
      // only, and the resumed upload takes no whole-object checksum.
      assert.equal(completions.at(-1).crc64nvme, null);
      const [stored] = await storedFiles(page);
      assert.equal(sha256(await download(stored.href)), sha256(bytes));
      assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith('s3file:')).length), 0,
        'nothing is kept once the upload is complete');
      await page.close();
    });

    test('abort() stops the parts and aborts the multipart upload on S3', async () => {
      const page = await browser.newPage();
      const parts = watchParts(page);
      const calls = watchSigner(page, signer);
      const { path } = await fileOnDisk('abandoned.bin', 22 * MIB);
      await page.goto(`${signer.url}/`);
      await throttle(page, 4 * MIB);
      await page.setInputFiles('#file', path);
      await page.click('#submit');
      await page.waitForFunction(() => document.querySelector('form').getAttribute('aria-busy') === 'true');
      await until(() => calls.parts.length > 0, 'part URLs to be asked for');
      const signed = await calls.signed[0];
      const aborted = await page.evaluate(async () => (await import('/pkg/s3file.js')).abort(document.querySelector('form')));
      assert.equal(aborted, true);
      await page.waitForFunction(() => document.querySelector('form').getAttribute('aria-busy') === null);
      const status = await completeOnceGone(signer, signed.files[0]);
      assert.equal(calls.abort.length, 1);
      assert.equal(status, 404, 'S3 no longer has the upload');
      assert.ok(parts.filter((part) => part.status === 200).length < 5, 'the upload was stopped before its end');
      assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith('s3file:')).length), 0);
      await page.close();
    });

    test('choosing other files during an upload stops it and aborts its multipart upload', async () => {
      const page = await browser.newPage();
      const calls = watchSigner(page, signer);
      const { path } = await fileOnDisk('replaced.bin', 22 * MIB);
      await page.goto(`${signer.url}/`);
      await throttle(page, 4 * MIB);
      await page.setInputFiles('#file', path);
      await page.click('#submit');
      await until(() => calls.parts.length > 0, 'part URLs to be asked for');
      await page.setInputFiles('#file', { name: 'other.txt', mimeType: 'text/plain', buffer: Buffer.from('other') });
      await page.waitForFunction(() => document.querySelector('form').getAttribute('aria-busy') === null);
      const status = await completeOnceGone(signer, (await calls.signed[0]).files[0]);
      assert.equal(status, 404, 'S3 no longer has the upload');
      assert.equal(calls.abort.length, 1, 'the page asked the signer to abort it');
      assert.equal(calls.complete.length, 0, 'the upload was not completed');
      assert.ok(!page.url().includes('/s3file/finalize'), 'the form was not submitted');
      await page.close();
    });

    test('going offline pauses the upload, and coming back finishes it without spending retries', async () => {
      const page = await browser.newPage();
      const errors = [];
      await page.exposeFunction('__error', (message) => errors.push(message));
      await page.addInitScript(() =>
        document.addEventListener('s3file:error', (event) => window.__error(event.detail.message), true),
      );
      const parts = watchParts(page);
      const { path, bytes } = await fileOnDisk('offline.bin', 16 * MIB);
      await page.goto(`${signer.url}/`);
      // No retries at all: only failures that do not count can be survived. One part at a
      // time, slowly, so that going offline catches one on its way.
      await page.evaluate(() => {
        const form = document.querySelector('form');
        form.setAttribute('data-s3file-retries', '0');
        form.setAttribute('data-s3file-concurrency', '1');
      });
      const cdp = await throttle(page, 2 * MIB);
      await page.setInputFiles('#file', path);
      await page.click('#submit');
      await until(() => parts.some((part) => part.status === 200), 'a part to be stored');
      await cdp.send('Network.emulateNetworkConditions', { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await page.waitForFunction(() => !navigator.onLine);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(await page.$eval('form', (form) => form.getAttribute('aria-busy')), 'true', 'still uploading, paused');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 8 * MIB });
      await page.waitForURL('**/s3file/finalize', { timeout: 60_000 });
      assert.deepEqual(errors, []);
      const [stored] = await storedFiles(page);
      assert.equal(sha256(await download(stored.href)), sha256(bytes));
      await page.close();
    });

    test('PUT mode uploads small files with a presigned PUT', async () => {
      const page = await browser.newPage();
      const methods = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(`${putSigner.url}/s3file/`) && request.method() !== 'GET') methods.push(request.method());
      });
      const bytes = randomBytes(300 * 1024);
      await page.goto(`${putSigner.url}/`);
      await page.setInputFiles('#file', { name: 'note.bin', mimeType: 'application/octet-stream', buffer: bytes });
      await Promise.all([page.waitForURL('**/s3file/finalize'), page.click('#submit')]);
      assert.ok(methods.includes('PUT') && !methods.includes('POST'), `store requests: ${methods}`);
      const [stored] = await storedFiles(page);
      assert.equal(sha256(await download(stored.href)), sha256(bytes));
      await page.close();
    });
  });
}
