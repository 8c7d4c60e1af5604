// A real Django site with django-s3file 7.0.3 from PyPI (tests/django/), on the run's SeaweedFS,
// with nothing changed but the static file `s3file/js/s3file.js`: a static directory of the
// test's own comes before the apps' and holds our widget under that name. django-s3file renders
// its inputs, signs their upload folders and, in its middleware, turns the posted keys back into
// `request.FILES`; the page answers with `request.FILES` as JSON, each file read back from S3.
//
// The browser test runs twice: with django-s3file's own script, which shows that the test
// expects exactly what django-s3file does, and with ours in its place.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchBrowser } from './support/browser.mjs';
import { startService } from './support/service.mjs';
import { WWW_DIR, freePort, seaweedfsConfig } from './support/signer.mjs';

const DJANGO_DIR = resolve(fileURLToPath(new URL('../django', import.meta.url)));
const PKG_DIR = join(WWW_DIR, 'pkg');
/** Our widget's files, as the static directory names them. */
const WIDGET_ENTRY_FILES = [
  's3file.js',
  's3file_wasm_bg.wasm',
  's3file_digest.js',
  's3file_digest_worker.js',
  's3file_digest.wasm',
  's3file_progress.js',
  's3file_gzip.js',
];

/** What a page loads of the widget: the entry, the glue, the wasm, the checksums with their
 *  worker and its wasm, the progress bars, and the JS snippets the glue imports. */
async function widgetFiles() {
  const snippets = join(PKG_DIR, 'snippets');
  const entries = await readdir(snippets, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(PKG_DIR, join(entry.parentPath ?? entry.path, entry.name)));
  return [...WIDGET_ENTRY_FILES, ...files];
}
const SCRIPT_PATH = '/static/s3file/js/s3file.js';

const SUBMIT_TIMEOUT_MS = 20_000;

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** What the form posts: one file for `file`, several for the multiple-file field `files`. */
function sampleFiles() {
  return {
    file: [{ name: 'report.pdf', mimeType: 'application/pdf', buffer: randomBytes(256 * 1024) }],
    files: [
      { name: 'holiday photo.jpg', mimeType: 'image/jpeg', buffer: randomBytes(300 * 1024) },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('Dear diary,\n'.repeat(100)) },
      { name: 'data.bin', mimeType: 'application/octet-stream', buffer: randomBytes(5000) },
    ],
  };
}

/** The JSON the site answers once its form validates: `request.FILES`, read back from S3. */
function expectedFiles(files) {
  const describeFile = ({ name, buffer }) => ({ name, size: buffer.length, sha256: sha256(buffer) });
  return { files: { file: files.file.map(describeFile), files: files.files.map(describeFile) } };
}

/**
 * `manage.py runserver` of tests/django/ with the venv's Python (S3FILE_DJANGO_PYTHON, set by
 * `cargo xtask test`), on a free loopback port; `staticDir` comes before the apps' static files.
 * Resolves once GET / answers 200, to `{url, location, stop(), output()}`.
 */
async function startDjango({ staticDir } = {}) {
  const python = process.env.S3FILE_DJANGO_PYTHON;
  if (!python) {
    throw new Error('S3FILE_DJANGO_PYTHON is not set: run the e2e tests through `cargo xtask test`, or see tests/django/README.md');
  }
  const s3 = seaweedfsConfig();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const location = `django-e2e-${randomBytes(6).toString('hex')}`;
  const service = await startService({
    name: 'Django',
    command: python,
    args: ['manage.py', 'runserver', `127.0.0.1:${port}`, '--noreload'],
    cwd: DJANGO_DIR,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
      AWS_EC2_METADATA_DISABLED: 'true',
      S3FILE_TEST_S3_ENDPOINT: s3.endpoint,
      S3FILE_TEST_S3_BUCKET: s3.bucket,
      S3FILE_TEST_S3_ACCESS_KEY: s3.accessKey,
      S3FILE_TEST_S3_SECRET_KEY: s3.secretKey,
      S3FILE_TEST_S3_REGION: s3.region,
      S3FILE_DJANGO_AWS_LOCATION: location,
      S3FILE_DJANGO_SECRET_KEY: randomBytes(32).toString('hex'),
      ...(staticDir ? { S3FILE_DJANGO_STATIC_DIR: staticDir } : {}),
    },
    readyUrl: `${url}/`,
  });
  return { url, location, ...service };
}

/** A static directory whose `s3file/js/` holds our widget, built into www/pkg/. */
async function widgetStaticDir() {
  const dir = await mkdtemp(join(tmpdir(), 's3file-django-static-'));
  const js = join(dir, 's3file', 'js');
  await mkdir(js, { recursive: true });
  try {
    for (const file of await widgetFiles()) {
      await mkdir(dirname(join(js, file)), { recursive: true });
      await copyFile(join(PKG_DIR, file), join(js, file));
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`cannot copy the widget from ${PKG_DIR} (\`cargo xtask test\` builds it): ${error.message}`);
  }
  return dir;
}

const HTML_ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#x27;': "'", '&#39;': "'" };

/** The attributes of each `<input type="file">` Django rendered, by name. */
function fileInputs(html) {
  const inputs = {};
  for (const [tag] of html.matchAll(/<input type="file"[^>]*>/g)) {
    const attributes = {};
    for (const [, name, value] of tag.matchAll(/([\w-]+)="([^"]*)"/g)) {
      attributes[name.toLowerCase()] = value.replace(/&(amp|lt|gt|quot|#x27|#39);/g, (entity) => HTML_ENTITIES[entity]);
    }
    inputs[attributes.name] = attributes;
  }
  return inputs;
}

/** Uploads one file as django-s3file's script does, and returns the key S3 answers with. */
async function uploadAsDjangoS3file(input, { name, mimeType, buffer }) {
  const body = new FormData();
  for (const [attribute, value] of Object.entries(input)) {
    if (attribute.startsWith('data-fields-')) body.append(attribute.slice('data-fields-'.length), value);
  }
  body.append('success_action_status', '201');
  body.append('Content-Type', mimeType);
  body.append('file', new Blob([buffer], { type: mimeType }), name);
  const response = await fetch(input['data-url'], { method: 'POST', body });
  const text = await response.text();
  assert.equal(response.status, 201, `S3 answers the upload of ${name} with 201: ${text}`);
  const key = /<Key>([^<]*)<\/Key>/.exec(text)?.[1];
  assert.ok(key, `S3's answer names the key: ${text}`);
  return key.replace(/&(amp|lt|gt|quot|#x27|#39);/g, (entity) => HTML_ENTITIES[entity]);
}

/** Records the README's progress bar in Node, every change, so its end survives navigation. */
async function recordProgressBar(page) {
  const states = [];
  await page.exposeFunction('__s3fileRecordProgressBar', (state) => states.push(state));
  await page.addInitScript(() => {
    document.addEventListener('DOMContentLoaded', () => {
      const bar = document.querySelector('.progress-bar');
      const record = () =>
        window.__s3fileRecordProgressBar({
          text: bar.textContent,
          style: bar.getAttribute('style'),
          valueNow: bar.getAttribute('aria-valuenow'),
        });
      new MutationObserver(record).observe(bar, { attributes: true, childList: true, characterData: true, subtree: true });
    });
  });
  return states;
}

describe('a Django site with django-s3file 7.0.3 on SeaweedFS', () => {
  let staticDir;
  let ours;
  let theirs;
  let browser;

  before(async () => {
    staticDir = await widgetStaticDir();
    [ours, theirs, browser] = await Promise.all([startDjango({ staticDir }), startDjango(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await Promise.all([ours?.stop(), theirs?.stop()]);
    if (staticDir) await rm(staticDir, { recursive: true, force: true });
  });

  test('the site serves our widget under the name of django-s3file\'s script', async () => {
    const page = await (await fetch(`${ours.url}/`)).text();
    assert.match(page, new RegExp(`<script src="${SCRIPT_PATH}" type="module"></script>`), 'django-s3file\'s form media');
    for (const file of await widgetFiles()) {
      const response = await fetch(`${ours.url}/static/s3file/js/${file}`);
      assert.equal(response.status, 200, file);
      assert.equal(sha256(Buffer.from(await response.arrayBuffer())), sha256(await readFile(join(PKG_DIR, file))), file);
      if (file.endsWith('.wasm')) assert.equal(response.headers.get('content-type'), 'application/wasm');
    }
    const original = await (await fetch(`${theirs.url}${SCRIPT_PATH}`)).text();
    assert.match(original, /function waitForAllFiles/, 'without the static directory, django-s3file\'s own script');
  });

  test('django-s3file\'s middleware accepts its hidden fields, posted by hand', async () => {
    const files = sampleFiles();
    const formPage = await fetch(`${ours.url}/`);
    const html = await formPage.text();
    const csrfCookie = formPage.headers.getSetCookie().find((cookie) => cookie.startsWith('csrftoken='))?.split(';')[0];
    const csrfToken = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(html)?.[1];
    assert.ok(csrfCookie && csrfToken, 'Django sets a CSRF cookie and token');
    const inputs = fileInputs(html);
    assert.deepEqual(Object.keys(inputs).sort(), ['file', 'files']);
    for (const input of Object.values(inputs)) {
      assert.match(input.class, /\bs3file\b/);
      assert.ok(input['data-url'].startsWith(seaweedfsConfig().endpoint), `data-url ${input['data-url']} is SeaweedFS`);
      assert.match(input['data-fields-key'], new RegExp(`^${ours.location}/tmp/s3file/[\\w-]+/\\$\\{filename\\}$`));
    }
    assert.match(html, /<input type="file" name="files"[^>]* multiple[ >]/);

    const keys = {};
    for (const [field, fieldFiles] of Object.entries(files)) {
      keys[field] = await Promise.all(fieldFiles.map((file) => uploadAsDjangoS3file(inputs[field], file)));
    }
    const submit = (signatures) => {
      const body = new FormData();
      body.append('csrfmiddlewaretoken', csrfToken);
      for (const field of Object.keys(files)) {
        body.append('s3file', field);
        for (const key of keys[field]) body.append(field, key);
        body.append(`${field}-s3f-signature`, signatures[field]);
      }
      return fetch(`${ours.url}/`, { method: 'POST', body, headers: { cookie: csrfCookie } });
    };

    const accepted = await submit({ file: inputs.file['data-s3f-signature'], files: inputs.files['data-s3f-signature'] });
    const answer = await accepted.text();
    assert.equal(accepted.status, 200, answer);
    assert.deepEqual(JSON.parse(answer), expectedFiles(files));

    // The signature of the other field's folder does not vouch for this one's keys.
    const forged = await submit({ file: inputs.files['data-s3f-signature'], files: inputs.files['data-s3f-signature'] });
    await forged.arrayBuffer();
    assert.equal(forged.status, 403, 'the middleware refuses a signature of another folder');
  });

  for (const [script, site] of [
    ['django-s3file\'s own script', () => theirs],
    ['our widget in place of django-s3file\'s script', () => ours],
  ]) {
    test(`with ${script}, Chromium uploads straight to SeaweedFS, Django gets request.FILES, and the README's progress bar ends at 100%`, { timeout: 60_000 }, async () => {
      const { url: djangoUrl } = site();
      const files = sampleFiles();
      const page = await browser.newPage();
      const bar = await recordProgressBar(page);
      const requests = [];
      page.on('request', (request) => requests.push(request));
      const problems = [];
      page.on('console', (message) => {
        if (['error', 'warning'].includes(message.type())) problems.push(`console.${message.type()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));

      await page.goto(`${djangoUrl}/`);
      // Our module resolves once the widget listens; django-s3file's has long since run.
      await page.evaluate((src) => import(src), SCRIPT_PATH);
      const inputs = await page.$$eval('input[type=file].s3file', (elements) =>
        elements.map((input) => ({ name: input.name, url: input.dataset.url, key: input.dataset.fieldsKey, signature: input.dataset.s3fSignature })),
      );
      assert.deepEqual(inputs.map((input) => input.name), ['file', 'files']);
      const input = Object.fromEntries(inputs.map((each) => [each.name, each]));
      await page.setInputFiles('#id_file', files.file);
      await page.setInputFiles('#id_files', files.files);

      const isFormPost = (request) => request.method() === 'POST' && request.url() === `${djangoUrl}/`;
      let response;
      try {
        [response] = await Promise.all([
          page.waitForResponse((candidate) => isFormPost(candidate.request()), { timeout: SUBMIT_TIMEOUT_MS }),
          page.click('button[type=submit]'),
        ]);
      } catch (error) {
        const seen = requests.map((request) => `${request.method()} ${request.url()}`);
        throw new Error(`the form was not posted to Django within ${SUBMIT_TIMEOUT_MS} ms (${error.message.split('\n')[0]});\n` +
          `requests: ${JSON.stringify(seen, null, 1)}\nprogress bar: ${JSON.stringify(bar.at(-1))}\n${problems.join('\n')}`);
      }
      const answer = await response.text();
      assert.equal(response.status(), 200, `Django accepts the form: ${answer}`);
      assert.deepEqual(JSON.parse(answer), expectedFiles(files), 'request.FILES holds exactly the chosen files');

      // Each file went from the browser to SeaweedFS, to the URL django-s3file signed for it.
      const uploads = requests.filter((request) => request.method() === 'POST' && !isFormPost(request));
      assert.deepEqual(
        uploads.map((request) => request.url()),
        [...files.file.map(() => input.file.url), ...files.files.map(() => input.files.url)],
        'one POST to SeaweedFS per file (none: the script left the inputs alone, and the browser sent the files to Django)',
      );
      assert.ok(uploads.every((request) => request.url().startsWith(seaweedfsConfig().endpoint)));
      for (const upload of uploads) {
        assert.equal((await upload.response())?.status(), 201, `SeaweedFS stored ${upload.url()}`);
      }

      // Django got django-s3file's hidden fields and no file bytes.
      const formPosts = requests.filter(isFormPost);
      assert.equal(formPosts.length, 1, 'one form submission');
      const body = formPosts[0].postDataBuffer() ?? Buffer.alloc(0);
      for (const { name, buffer } of [...files.file, ...files.files]) {
        assert.ok(!body.includes(buffer.subarray(0, 64)), `the bytes of ${name} did not go to Django`);
      }
      const posted = await new Response(body, { headers: { 'content-type': await formPosts[0].headerValue('content-type') } }).formData();
      assert.ok([...posted.values()].every((value) => typeof value === 'string'), 'no file parts');
      assert.deepEqual(posted.getAll('s3file').sort(), ['file', 'files']);
      for (const field of ['file', 'files']) {
        assert.equal(posted.get(`${field}-s3f-signature`), input[field].signature, `${field}-s3f-signature`);
        const folder = input[field].key.replace('${filename}', '');
        assert.deepEqual(
          posted.getAll(field),
          files[field].map(({ name }) => `${folder}${name}`),
          `${field}: one key per file, in the signed folder, in file order`,
        );
      }

      // The README's snippet, unchanged, drew the whole upload.
      assert.ok(bar.length > 0, `the progress bar moved; ${problems.join('\n')}`);
      assert.deepEqual(bar.at(-1), { text: '100%', style: 'width: 100%', valueNow: '100' });
      const percents = bar.map((state) => Number(state.valueNow));
      // The observer sees the bar as each task leaves it, which is what a person sees: the
      // snippet does not look at event.target, so the form's event must come last in each task.
      assert.deepEqual(percents, [...percents].sort((a, b) => a - b), 'the bar never goes back');
      await page.close();
    });
  }
});
