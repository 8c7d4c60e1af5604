// The npm package as a bundler sees it. Vite builds examples/vite, which imports 's3file' through
// package.json's `exports` (dist/, assembled by `cargo xtask test` or `cargo xtask dist`); the
// signer serves the built page and Chromium uploads through it, the widget's wasm being the
// bundle's own asset. `npm pack` must ship exactly dist/, the README and package.json.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { launchBrowser } from './support/browser.mjs';
import { startDevSigner } from './support/signer.mjs';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const DIST = join(ROOT, 'dist');
const EXAMPLE = join(ROOT, 'examples/vite');
const EXAMPLE_BUILD = join(EXAMPLE, 'dist');
const VITE = join(ROOT, 'node_modules/vite/bin/vite.js');
/** The widget's declarations, written with the widget; dist/ has them once they exist. */
const DECLARATIONS = join(ROOT, 'widget/js/s3file.d.ts');

const run = promisify(execFile);
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const exists = (path) => access(path).then(() => true, () => false);

async function requireDist() {
  if (!(await exists(join(DIST, 's3file.js')))) {
    throw new Error(`${DIST}/s3file.js is missing: run \`cargo xtask dist\` (\`cargo xtask test\` assembles it too)`);
  }
}

describe('the Vite example, built against the npm package', () => {
  let signer;
  let browser;

  before(async () => {
    await requireDist();
    // Always built: a page left from an older package would test nothing. The local Vite
    // (a devDependency), not npx, which may ask the registry first.
    await run(process.execPath, [VITE, 'build', EXAMPLE, '--logLevel', 'warn'], { cwd: ROOT, timeout: 60_000 });
    signer = await startDevSigner({ args: ['serve', '--www', EXAMPLE_BUILD] });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await signer?.stop();
  });

  test('the bundle has the widget\'s wasm and the checksum worker\'s as assets of their own', async () => {
    const html = await readFile(join(EXAMPLE_BUILD, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)].map((match) => match[1]);
    assert.equal(scripts.length, 1, `one script: ${scripts}`);
    assert.match(scripts[0], /^\/assets\/index-[\w-]+\.js$/, 'the page loads the bundle, not main.js');
    const { stdout } = await run('find', [EXAMPLE_BUILD, '-name', '*.wasm']);
    const emitted = stdout.trim().split('\n').sort();
    assert.equal(emitted.length, 2, `two wasm files in the build: ${emitted}`);
    for (const [path, name] of emitted.map((path, index) => [path, ['s3file_digest', 's3file_wasm_bg'][index]])) {
      assert.match(path, new RegExp(`/assets/${name}-[\\w-]+\\.wasm$`));
      const wasm = await readFile(join(DIST, `${name}.wasm`));
      assert.equal(sha256(await readFile(path)), sha256(wasm), `the package's ${name}.wasm, unchanged`);
    }
  });

  test('a file uploads through the built page, which loads the wasm from the bundle', async () => {
    const page = await browser.newPage();
    const responses = [];
    page.on('response', (response) => responses.push(response));
    const workers = [];
    page.on('worker', (worker) => workers.push(new URL(worker.url()).pathname));
    const warnings = [];
    page.on('console', (message) => message.type() === 'warning' && warnings.push(message.text()));
    const storeUploads = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && !request.url().includes('/s3file/')) storeUploads.push(request.url());
    });
    const bars = [];
    await page.exposeFunction('__recordBar', (value) => bars.push(value));
    await page.addInitScript(() => {
      // The example's handler sets the bar's value, which <progress> reflects as an attribute.
      document.addEventListener('DOMContentLoaded', () => {
        const bar = document.getElementById('progress');
        new MutationObserver(() => window.__recordBar(Number(bar.value))).observe(bar, {
          attributeFilter: ['value'],
        });
      });
    });
    const bytes = randomBytes(200 * 1024);

    await page.goto(`${signer.url}/`);
    // The bundle finishes evaluating once the widget listens (the package's entry awaits it):
    // importing the page's own module again resolves then.
    await page.evaluate(() => import(document.querySelector('script[type=module]').src).then(() => true));
    await page.setInputFiles('#file', { name: 'from vite.bin', mimeType: 'application/octet-stream', buffer: bytes });
    await Promise.all([page.waitForURL('**/s3file/finalize'), page.click('#submit')]);

    const files = await page.$$eval('#files li[data-key]', (items) =>
      items.map((item) => ({ name: item.querySelector('a').textContent, href: item.querySelector('a').href })),
    );
    assert.deepEqual(files.map((file) => file.name), ['from vite.bin']);
    assert.equal(storeUploads.length, 1, `the widget sent the file to the store: ${storeUploads}`);
    assert.match(storeUploads[0], /\/s3\//);
    const stored = await fetch(files[0].href);
    assert.equal(sha256(Buffer.from(await stored.arrayBuffer())), sha256(bytes));

    assert.ok(bars.length >= 1, 'the example\'s progress bar moved');
    assert.equal(bars.at(-1), 1, `the bar ends full: ${bars}`);
    for (let i = 1; i < bars.length; i += 1) assert.ok(bars[i] >= bars[i - 1], `never backwards: ${bars}`);

    const wasmResponses = responses.filter((response) => /\.wasm(\?|$)/.test(response.url()));
    assert.deepEqual(
      wasmResponses.map((response) => new URL(response.url()).pathname.replace(/-[\w-]+\.wasm$/, '-<hash>.wasm')),
      ['/assets/s3file_wasm_bg-<hash>.wasm', '/assets/s3file_digest-<hash>.wasm'],
      'each wasm came from the bundle\'s assets, once: the widget\'s, then the checksum worker\'s',
    );
    for (const [response, name] of wasmResponses.map((response, index) => [response, ['s3file_wasm_bg', 's3file_digest'][index]])) {
      assert.equal(response.status(), 200);
      const fetched = Buffer.from(await (await fetch(response.url())).arrayBuffer());
      assert.equal(sha256(fetched), sha256(await readFile(join(DIST, `${name}.wasm`))), name);
    }
    assert.equal(wasmResponses[0].headers()['content-type'], 'application/wasm');
    // Vite found the worker in the package and bundled it: the checksums were computed apart.
    assert.equal(workers.length, 1, `one checksum worker: ${workers}`);
    assert.match(workers[0], /^\/assets\/s3file_digest_worker-[\w-]+\.js$/);
    assert.deepEqual(warnings, []);
    assert.ok(!responses.some((response) => new URL(response.url()).pathname.startsWith('/pkg/')));
    await page.close();
  });
});

describe('the npm package', () => {
  test('npm pack ships dist/, the README and package.json, and nothing else', async (t) => {
    await requireDist();
    const declarations = await exists(DECLARATIONS);
    // --ignore-scripts: `prepack` would build the widget again.
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    const [packed] = JSON.parse(stdout);
    const expected = [
      'README.md',
      'dist/s3file.js',
      'dist/s3file_wasm_bg.wasm',
      'dist/s3file_digest.js',
      'dist/s3file_digest_worker.js',
      'dist/s3file_digest.wasm',
      'dist/s3file_progress.js',
      'dist/s3file_gzip.js',
      'package.json',
      ...(declarations ? ['dist/s3file.d.ts'] : []),
    ];
    assert.deepEqual(packed.files.map((file) => file.path).sort(), expected.sort());
    if (!declarations) t.diagnostic(`${DECLARATIONS} does not exist yet: the package has no declarations`);
  });

  test('package.json points at files of the package', async (t) => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
    const entry = manifest.exports['.'];
    assert.equal(manifest.type, 'module');
    assert.equal(entry.default, './dist/s3file.js');
    assert.equal(entry.types, './dist/s3file.d.ts');
    await requireDist();
    assert.ok(await exists(join(ROOT, entry.default)));
    if (await exists(DECLARATIONS)) assert.ok(await exists(join(ROOT, entry.types)));
    else t.diagnostic(`${DECLARATIONS} does not exist yet: ${entry.types} is not checked`);
  });

  test('the packed wasm is the optimised build', async () => {
    await requireDist();
    const wasm = await readFile(join(DIST, 's3file_wasm_bg.wasm'));
    const module = await WebAssembly.compile(wasm);
    // wasm-opt strips what rustc and wasm-bindgen leave in: names and the producers section.
    assert.deepEqual(WebAssembly.Module.customSections(module, 'producers'), []);
    assert.deepEqual(WebAssembly.Module.customSections(module, 'name'), []);
  });
});
