// Gzip for text types (`AWS_IS_GZIPPED`, `GZIP_CONTENT_TYPES`), in real Chromium against the
// signer's embedded store and against SeaweedFS: the widget compresses a file whose type is
// listed and sends it under the sign answer's gzip policy, progress still counts the file's own
// bytes, and the stored object carries `Content-Encoding: gzip`, so a plain GET of its download
// URL gives back the file's bytes. A listed file that gzip would not shrink, and a file of
// another type, go as they are; so do files above the multipart threshold. Without JavaScript
// the form posts the file to the signer, which stores it the same way.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { gunzipSync } from 'node:zlib';

import { launchBrowser } from './support/browser.mjs';
import { download, storedFiles } from './support/result_page.mjs';
import { startDevSigner, startSeaweedfsSigner } from './support/signer.mjs';

const MIB = 1024 * 1024;
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

const STORES = [
  { name: 'the embedded dev store', start: startDevSigner, storePattern: (signer) => `${signer.url}/s3/**` },
  { name: 'SeaweedFS', start: startSeaweedfsSigner, storePattern: (signer) => `${signer.s3.endpoint}/**` },
];

/** A stylesheet of about `size` bytes, as text compresses: repetitive, not random. */
function stylesheet(size) {
  const rules = [];
  for (let index = 0, length = 0; length < size; index += 1) {
    const rule = `.card-${index} { margin: ${index % 17}px; color: #${(index * 2654435761 % 0xffffff).toString(16).padStart(6, '0')}; }\n`;
    rules.push(rule);
    length += rule.length;
  }
  return Buffer.from(rules.join(''));
}

/** An object as stored: a GET of `href` with no decoding, `{status, encoding, bytes}`. */
function rawGet(href) {
  return new Promise((resolve, reject) => {
    get(href, { timeout: 30_000 }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode, encoding: response.headers['content-encoding'], bytes: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    })
      .on('timeout', function () {
        this.destroy(new Error(`GET ${href}: no answer in 30 s`));
      })
      .on('error', reject);
  });
}

/** The form's `progress` events, `{loaded, total, progress}` each. */
async function recordProgress(page) {
  const events = [];
  await page.exposeFunction('__s3fileGzipProgress', (event) => events.push(event));
  await page.addInitScript(() => {
    document.addEventListener('DOMContentLoaded', () => {
      document.getElementById('upload-form').addEventListener('progress', ({ detail }) =>
        window.__s3fileGzipProgress({ loaded: detail.loaded, total: detail.total, progress: detail.progress }),
      );
    });
  });
  return events;
}

/** The bodies of the POSTs to the store, as sent. */
async function watchPosts(page, pattern) {
  const bodies = [];
  await page.route(pattern, async (route) => {
    if (route.request().method() === 'POST') bodies.push(route.request().postDataBuffer());
    await route.continue();
  });
  return bodies;
}

for (const store of STORES) {
  describe(`gzip for text types against ${store.name}`, () => {
    let browser;
    let signer;

    before(async () => {
      browser = await launchBrowser();
      signer = await store.start({
        env: { AWS_IS_GZIPPED: 'true', S3FILE_MULTIPART_THRESHOLD: String(6 * MIB), S3FILE_MULTIPART_PART_SIZE: String(5 * MIB) },
      });
    });

    after(async () => {
      await browser?.close();
      await signer?.stop();
    });

    /** Uploads `files` through the demo page; answers what was stored, the store's POST bodies,
     *  the progress events and the widget's modules the page fetched. */
    async function upload(files) {
      const page = await browser.newPage();
      const posts = await watchPosts(page, store.storePattern(signer));
      const progress = await recordProgress(page);
      const fetched = [];
      page.on('request', (request) => fetched.push(new URL(request.url()).pathname));
      await page.goto(`${signer.url}/`);
      await page.setInputFiles('#file', files);
      await Promise.all([page.waitForURL('**/s3file/finalize', { timeout: 120_000 }), page.click('#submit')]);
      const stored = await storedFiles(page);
      await page.close();
      return { stored, posts, progress, fetched };
    }

    test('a stylesheet goes up gzipped, progress counts its own bytes, and a plain GET gives it back', async () => {
      const css = stylesheet(300_000);
      const { stored, posts, progress, fetched } = await upload([{ name: 'site.css', mimeType: 'text/css', buffer: css }]);

      assert.ok(fetched.includes('/pkg/s3file_gzip.js'), 'the widget fetched its gzip module');
      assert.equal(posts.length, 1);
      const sent = posts[0].toString('latin1');
      assert.match(sent, /name="Content-Encoding"\r\n\r\ngzip\r\n/, 'the form carries Content-Encoding: gzip');
      assert.ok(posts[0].length < css.length / 2, `the body (${posts[0].length} B) is the compressed file, not the ${css.length} B one`);

      const last = progress.at(-1);
      assert.deepEqual(last, { loaded: css.length, total: css.length, progress: 1 }, 'progress ends at the file size, 100 %');
      for (let index = 1; index < progress.length; index += 1) {
        assert.ok(progress[index].loaded >= progress[index - 1].loaded, 'progress never goes backwards');
      }

      assert.equal(stored.length, 1);
      const raw = await rawGet(stored[0].href);
      assert.equal(raw.status, 200);
      assert.equal(raw.encoding, 'gzip', 'the object is served with Content-Encoding: gzip');
      assert.ok(raw.bytes.length < css.length / 2, `stored compressed (${raw.bytes.length} B)`);
      assert.equal(sha256(gunzipSync(raw.bytes)), sha256(css));
      assert.equal(sha256(await download(stored[0].href)), sha256(css), 'a plain GET gives back the file');
    });

    test('a listed type that gzip would not shrink, and another type, go as they are', async () => {
      const noise = randomBytes(50_000);
      const text = stylesheet(50_000);
      const { stored, posts, progress } = await upload([
        { name: 'noise.css', mimeType: 'text/css', buffer: noise },
        { name: 'notes.txt', mimeType: 'text/plain', buffer: text },
      ]);

      assert.equal(posts.length, 2);
      for (const post of posts) assert.doesNotMatch(post.toString('latin1'), /name="Content-Encoding"/);
      assert.equal(progress.at(-1).loaded, noise.length + text.length);
      const byName = Object.fromEntries(stored.map((file) => [file.name, file.href]));
      for (const [name, bytes] of [['noise.css', noise], ['notes.txt', text]]) {
        const raw = await rawGet(byName[name]);
        assert.equal(raw.encoding, undefined, `${name}: no Content-Encoding`);
        assert.equal(sha256(raw.bytes), sha256(bytes), `${name}: stored as chosen`);
      }
    });

    test('a stylesheet above the multipart threshold goes up in parts, as it is', async () => {
      const css = stylesheet(7 * MIB);
      const { stored, posts, progress } = await upload([{ name: 'big.css', mimeType: 'text/css', buffer: css }]);
      assert.equal(posts.filter((body) => body.includes('name="Content-Encoding"')).length, 0);
      assert.equal(progress.at(-1).loaded, css.length);
      const raw = await rawGet(stored[0].href);
      assert.equal(raw.encoding, undefined);
      assert.equal(sha256(raw.bytes), sha256(css));
    });

    test('without JavaScript the signer stores a stylesheet gzipped, as the widget would', async () => {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      const css = stylesheet(100_000);
      await page.goto(`${signer.url}/`);
      await page.setInputFiles('#file', { name: 'plain.css', mimeType: 'text/css', buffer: css });
      await Promise.all([page.waitForURL('**/s3file/finalize'), page.click('#submit')]);
      const [file] = await storedFiles(page);
      await context.close();

      const raw = await rawGet(file.href);
      assert.equal(raw.encoding, 'gzip');
      assert.ok(raw.bytes.length < css.length / 2, `stored compressed (${raw.bytes.length} B)`);
      assert.equal(sha256(await download(file.href)), sha256(css));
    });
  });
}
