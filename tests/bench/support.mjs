// What the benchmark scripts share: their settings from the environment, small statistics, the
// machine's description, and the page instrumentation of the browser benchmarks.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';

import { startDevSigner, startSeaweedfsSigner } from '../e2e/support/signer.mjs';

/** The positive integer in the environment variable `name`, or `fallback` when it is unset. */
export function positiveInteger(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return value;
}

export function sleep(ms) {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

/** The median of `values`: the mean of the middle two for an even count. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The CPU's model name, for the tables' headers. */
export function cpuModel() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1].trim();
  } catch {
    // Not Linux: fall back to Node's view.
  }
  return cpus()[0]?.model ?? 'unknown';
}

// Timestamps are `performance.timeOrigin + performance.now()` (milliseconds since the epoch), so
// they compare across the demo page, the result page and Node. They go to sessionStorage, which
// both pages share and which outlives the native submit that follows the last progress event.
export function instrumentPage() {
  const now = () => performance.timeOrigin + performance.now();
  const record = (name) => sessionStorage.setItem(`s3file-bench-${name}`, String(now()));
  document.addEventListener('DOMContentLoaded', () => {
    const form = document.getElementById('upload-form');
    if (form) {
      // The longest gap between ticks of a 1 ms timer from the click until the files are
      // stored: how long the page's main thread went unanswered.
      let timer;
      // Capture phase: the click is seen before the form's submit.
      document.addEventListener('click', (event) => {
        if (event.target.id !== 'submit') return;
        record('click');
        let last = performance.now();
        let gap = 0;
        clearInterval(timer);
        timer = setInterval(() => {
          const tick = performance.now();
          // Stored only when it grows: a write to sessionStorage is synchronous, and one at
          // every tick would add the bench's own work to the thread it measures.
          if (tick - last > gap) {
            gap = tick - last;
            sessionStorage.setItem('s3file-bench-gap', String(gap));
          }
          last = tick;
        }, 1);
      }, true);
      form.addEventListener('progress', (event) => {
        if (event.target !== form) return;
        window.__benchProgress = event.detail.progress;
        if (event.detail.progress === 1) {
          record('done');
          clearInterval(timer);
        }
      });
      document.addEventListener('s3file:error', (event) => {
        window.__benchError?.(`${event.detail.fileName ?? event.detail.field}: ${event.detail.message}`);
      });
    } else {
      record('result');
    }
  });
}

/** Uploads the file at `path` (named `name`) through the widget on the demo page of `signer`,
 *  on a page instrumented by `instrumentPage`. Resolves to seconds from the click to the last
 *  `progress` (`stored`) and to the result page (`result`, finalize included), and to the size
 *  the result page lists for the file (`storedBytes`: the compressed size when it went gzipped). */
export async function uploadThroughWidget(page, signer, path, { name, timeoutMs }) {
  await page.goto(`${signer.url}/`);
  await page.evaluate(() => sessionStorage.clear());
  // The widget listens once its module has loaded.
  await page.evaluate(() => import('/pkg/s3file.js').then(() => true));
  await page.setInputFiles('#file', path);
  await Promise.all([
    page.waitForURL('**/s3file/finalize', { timeout: timeoutMs, waitUntil: 'domcontentloaded' }),
    page.click('#submit'),
  ]);
  const times = await page.evaluate(() => {
    const read = (item) => Number(sessionStorage.getItem(`s3file-bench-${item}`));
    return { click: read('click'), done: read('done'), result: read('result') };
  });
  const files = await page.$$eval('#files li[data-key]', (items) =>
    items.map((item) => ({ name: item.querySelector('a').textContent, size: item.querySelector('.size').textContent })),
  );
  const storedBytes = Number(/^(\d+) bytes$/.exec(files[0]?.size ?? '')?.[1]);
  if (files.length !== 1 || files[0].name !== name || !(storedBytes > 0)) {
    throw new Error(`the result page does not list ${name} with its size: ${JSON.stringify(files)}`);
  }
  if (!(times.click > 0 && times.done >= times.click && times.result >= times.done)) {
    throw new Error(`incomplete timestamps (click, last progress, result page): ${JSON.stringify(times)}`);
  }
  return { stored: (times.done - times.click) / 1000, result: (times.result - times.click) / 1000, storedBytes };
}

/** The lines that open a browser benchmark's report: when, on what machine and browser, with
 *  which signer, and the command with its `settings` (`{NAME: value}`), `started` the run's
 *  start (`Date.now()`). */
export function runHeader({ browser, command, settings, started }) {
  const mib = 1024 * 1024;
  const set = Object.entries(settings).map(([name, value]) => `${name}=${value}`).join(', ');
  return [
    `- date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    `- machine: ${availableParallelism()} CPUs (nproc), ${cpuModel()}, ${Math.round(totalmem() / 1024 / mib)} GiB RAM`,
    `- browser: headless Chromium ${browser.version()}, loopback (127.0.0.1)`,
    `- signer: ${process.env.S3FILE_SIGNER_BIN}`,
    `- command: \`${command}\` (${set}), ${Math.round((Date.now() - started) / 1000)} s`,
  ].join('\n');
}

/** The stores the upload benchmarks run against, by name: the signer's embedded dev store and
 *  SeaweedFS. */
export const STORES = [
  ['dev store', startDevSigner],
  ['SeaweedFS', startSeaweedfsSigner],
];
