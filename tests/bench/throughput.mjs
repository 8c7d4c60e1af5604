// Upload throughput on loopback, in one headless Chromium, against the signer's embedded dev
// store and against SeaweedFS. For each store it uploads the same file, alternately:
//
// - through the widget on the demo page: click on Upload → the form's last `progress` event
//   (progress 1, the file is stored), and click → the result page (finalize's server-side copy
//   included);
// - with a plain XHR from the same page: fetch /s3file/sign, then POST the policy fields and the
//   File to the store, with no checksum (a second signer with S3FILE_CHECKSUM=off, whose
//   policies ask for none); timed from the sign request, and the POST alone.
//
// It prints figures, not verdicts: the only checks are that each upload succeeded with the right
// size. Run it through `cargo xtask bench`, or by hand with what `cargo xtask seaweedfs` prints
// exported. Settings: S3FILE_BENCH_MIB (file size, default 64), S3FILE_BENCH_RUNS (timed runs per
// variant and store, default 5; one untimed warm-up run of each comes first).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { launchBrowser } from '../e2e/support/browser.mjs';
import { STORES, instrumentPage, median, positiveInteger, runHeader, uploadThroughWidget } from './support.mjs';

const MIB = 1024 * 1024;
const SIZE_MIB = positiveInteger('S3FILE_BENCH_MIB', 64);
const RUNS = positiveInteger('S3FILE_BENCH_RUNS', 5);
const SIZE = SIZE_MIB * MIB;
const FILE_NAME = `bench-${SIZE_MIB}MiB.bin`;
const UPLOAD_TIMEOUT_MS = 120_000;

/** One upload through the widget; resolves to seconds {stored, result}. */
async function widgetRun(page, signer, path) {
  const outcome = await uploadThroughWidget(page, signer, path, { name: FILE_NAME, timeoutMs: UPLOAD_TIMEOUT_MS });
  if (outcome.storedBytes !== SIZE) throw new Error(`${FILE_NAME} was stored with ${outcome.storedBytes} bytes, not ${SIZE}`);
  return outcome;
}

/** One plain sign + XHR upload from the demo page; resolves to seconds {signAndUpload, upload}. */
async function rawRun(page, signer, path) {
  await page.goto(`${signer.url}/`);
  await page.setInputFiles('#file', path);
  const outcome = await page.evaluate(async () => {
    const file = document.getElementById('file').files[0];
    const started = performance.now();
    const response = await fetch('/s3file/sign', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ field: 'file', files: [{ name: file.name, size: file.size, type: file.type }] }),
    });
    if (!response.ok) return { error: `sign answered ${response.status}: ${await response.text()}` };
    const signed = (await response.json()).files[0];
    const body = new FormData();
    for (const [name, value] of Object.entries(signed.fields)) body.append(name, value);
    body.append('file', file, signed.name);
    const uploadStarted = performance.now();
    const { status, text } = await new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', signed.url);
      // As the widget does: an upload listener (it makes a cross-origin POST preflighted).
      xhr.upload.addEventListener('progress', () => {});
      xhr.addEventListener('load', () => resolve({ status: xhr.status, text: xhr.responseText }));
      xhr.addEventListener('error', () => resolve({ status: 0, text: 'network error' }));
      xhr.send(body);
    });
    const finished = performance.now();
    return { status, text, key: signed.key, signAndUpload: finished - started, upload: finished - uploadStarted };
  });
  if (outcome.error) throw new Error(outcome.error);
  if (outcome.status < 200 || outcome.status >= 300 || !outcome.text.includes(outcome.key)) {
    throw new Error(`the store answered ${outcome.status} for ${outcome.key}: ${outcome.text.slice(0, 500)}`);
  }
  return { signAndUpload: outcome.signAndUpload / 1000, upload: outcome.upload / 1000 };
}

async function benchStore(browser, startSigner, path) {
  const signer = await startSigner();
  const plainSigner = await startSigner({ env: { S3FILE_CHECKSUM: 'off' } });
  const context = await browser.newContext();
  try {
    await context.addInitScript(instrumentPage);
    const page = await context.newPage();
    page.setDefaultTimeout(UPLOAD_TIMEOUT_MS);
    const variants = { widget: () => widgetRun(page, signer, path), raw: () => rawRun(page, plainSigner, path) };
    const samples = { widget: [], raw: [] };
    // Warm-up (untimed), then the runs, the order alternating so neither always goes first.
    await variants.widget();
    await variants.raw();
    for (let run = 0; run < RUNS; run += 1) {
      const order = run % 2 === 0 ? ['widget', 'raw'] : ['raw', 'widget'];
      for (const variant of order) {
        samples[variant].push(await variants[variant]());
        process.stderr.write('.');
      }
    }
    return samples;
  } catch (error) {
    process.stderr.write(`\nthe signer printed:\n${signer.output().slice(-4000)}\n`);
    throw error;
  } finally {
    await context.close();
    await signer.stop();
    await plainSigner.stop();
  }
}

function row(store, what, seconds) {
  const mid = median(seconds);
  const range = `${Math.min(...seconds).toFixed(3)}–${Math.max(...seconds).toFixed(3)}`;
  return `| ${store} | ${what} | ${mid.toFixed(3)} | ${range} | ${(SIZE_MIB / mid).toFixed(0)} |`;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 's3file-bench-'));
  const path = join(dir, FILE_NAME);
  // A path, not a buffer: Playwright refuses buffers over 50 MB in setInputFiles.
  await writeFile(path, randomBytes(SIZE));
  const browser = await launchBrowser();
  const results = [];
  const started = Date.now();
  try {
    for (const [store, startSigner] of STORES) {
      process.stderr.write(`benchmarking ${store} `);
      results.push([store, await benchStore(browser, startSigner, path)]);
      process.stderr.write('\n');
    }
    const command = process.env.S3FILE_BENCH_COMMAND ?? `node tests/bench/throughput.mjs`;
    console.log(`Upload throughput: one ${SIZE_MIB} MiB file, ${RUNS} timed runs per row (after one warm-up), median`);
    console.log();
    console.log(runHeader({ browser, command, settings: { S3FILE_BENCH_MIB: SIZE_MIB, S3FILE_BENCH_RUNS: RUNS }, started }));
    console.log();
    console.log('| store | what is timed | median s | min–max s | MiB/s |');
    console.log('|---|---|---:|---:|---:|');
    for (const [store, samples] of results) {
      console.log(row(store, 'widget: click → last `progress` (stored)', samples.widget.map((s) => s.stored)));
      console.log(row(store, 'widget: click → result page (finalized)', samples.widget.map((s) => s.result)));
      console.log(row(store, 'plain XHR, no checksum: sign + POST', samples.raw.map((s) => s.signAndUpload)));
      console.log(row(store, 'plain XHR, no checksum: POST only', samples.raw.map((s) => s.upload)));
    }
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
