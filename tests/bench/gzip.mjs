// Gzip for text types (`AWS_IS_GZIPPED`): what compressing a text file in the browser costs and
// saves. One headless Chromium uploads the same 64 MiB stylesheet through the widget on the demo
// page, alternately to a signer with `AWS_IS_GZIPPED=true` (the widget compresses it with
// `CompressionStream('gzip')` before the POST) and to one without, against the signer's embedded
// dev store and against SeaweedFS. Both signers take the file as one POST (gzip is for POST
// uploads only), so the multipart threshold is set above its size.
//
// It prints figures, not verdicts: the only checks are that each upload succeeded, stored
// compressed or not as asked. Run it through `cargo xtask bench`, or by hand with what
// `cargo xtask seaweedfs` prints exported. Settings: S3FILE_BENCH_GZIP_MIB (file size, default
// 64), S3FILE_BENCH_RUNS (timed runs per variant and store, default 3, after one warm-up each).
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';

import { launchBrowser } from '../e2e/support/browser.mjs';
import { STORES, instrumentPage, median, positiveInteger, runHeader, uploadThroughWidget } from './support.mjs';

const MIB = 1024 * 1024;
const SIZE_MIB = positiveInteger('S3FILE_BENCH_GZIP_MIB', 64);
const RUNS = positiveInteger('S3FILE_BENCH_RUNS', 3);
const SIZE = SIZE_MIB * MIB;
const FILE_NAME = `bench-${SIZE_MIB}MiB.css`;
const UPLOAD_TIMEOUT_MS = 300_000;

/** Writes a stylesheet of exactly `size` bytes to `path`: rules that vary as generated CSS does
 *  (class names, sizes, colours), so it compresses as real text does, not as one repeated line. */
async function writeStylesheet(path, size) {
  const out = createWriteStream(path);
  let written = 0;
  for (let index = 0; written < size; index += 1) {
    const colour = ((index * 2654435761) % 0xffffff).toString(16).padStart(6, '0');
    let rule = `.card-${index} > .title { margin: ${index % 17}px ${index % 5}em; color: #${colour}; }\n`;
    if (written + rule.length > size) rule = rule.slice(0, size - written);
    written += rule.length;
    if (!out.write(rule)) await new Promise((resolve) => out.once('drain', resolve));
  }
  out.end();
  await finished(out);
}

async function benchStore(browser, startSigner, path) {
  // Both take the file as one POST: gzip is offered for POST uploads only.
  const env = { S3FILE_MULTIPART_THRESHOLD: String(2 * SIZE) };
  const signers = {
    gzip: await startSigner({ env: { ...env, AWS_IS_GZIPPED: 'true' } }),
    plain: await startSigner({ env }),
  };
  const context = await browser.newContext();
  try {
    await context.addInitScript(instrumentPage);
    const page = await context.newPage();
    page.setDefaultTimeout(UPLOAD_TIMEOUT_MS);
    const upload = async (variant) => {
      const outcome = await uploadThroughWidget(page, signers[variant], path, { name: FILE_NAME, timeoutMs: UPLOAD_TIMEOUT_MS });
      const compressed = outcome.storedBytes < SIZE;
      if (compressed !== (variant === 'gzip')) {
        throw new Error(`${variant}: ${FILE_NAME} was stored with ${outcome.storedBytes} of its ${SIZE} bytes`);
      }
      return outcome;
    };
    const samples = { gzip: [], plain: [] };
    await upload('gzip');
    await upload('plain');
    for (let run = 0; run < RUNS; run += 1) {
      const order = run % 2 === 0 ? ['gzip', 'plain'] : ['plain', 'gzip'];
      for (const variant of order) {
        samples[variant].push(await upload(variant));
        process.stderr.write('.');
      }
    }
    return samples;
  } finally {
    await context.close();
    await signers.gzip.stop();
    await signers.plain.stop();
  }
}

function row(store, variant, samples) {
  const stored = samples.map((sample) => sample.stored);
  const result = samples.map((sample) => sample.result);
  const bytes = median(samples.map((sample) => sample.storedBytes));
  const range = `${Math.min(...stored).toFixed(3)}–${Math.max(...stored).toFixed(3)}`;
  const what = variant === 'gzip' ? '`AWS_IS_GZIPPED=true`' : 'gzip off';
  return `| ${store} | ${what} | ${median(stored).toFixed(3)} | ${range} | ${median(result).toFixed(3)} | ${bytes} (${((100 * bytes) / SIZE).toFixed(1)} %) |`;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 's3file-bench-gzip-'));
  const path = join(dir, FILE_NAME);
  await writeStylesheet(path, SIZE);
  const browser = await launchBrowser();
  const results = [];
  const started = Date.now();
  try {
    for (const [store, startSigner] of STORES) {
      process.stderr.write(`benchmarking gzip against ${store} `);
      results.push([store, await benchStore(browser, startSigner, path)]);
      process.stderr.write('\n');
    }
    const command = process.env.S3FILE_BENCH_COMMAND ?? 'node tests/bench/gzip.mjs';
    console.log(`Gzip for text types: one ${SIZE_MIB} MiB stylesheet (text/css) through the widget, ${RUNS} timed runs per row (after one warm-up), median`);
    console.log();
    console.log(runHeader({ browser, command, settings: { S3FILE_BENCH_GZIP_MIB: SIZE_MIB, S3FILE_BENCH_RUNS: RUNS }, started }));
    console.log();
    console.log('| store | signer | click → stored, median s | min–max s | click → result page, median s | bytes stored |');
    console.log('|---|---|---:|---:|---:|---:|');
    for (const [store, samples] of results) {
      console.log(row(store, 'gzip', samples.gzip));
      console.log(row(store, 'plain', samples.plain));
    }
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
