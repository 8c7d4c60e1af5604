// Multipart uploads on loopback, in one headless Chromium. Three measurements:
//
// 1. One big file (1 GiB by default) to SeaweedFS, in three ways, the order rotating:
//    a. through the widget on the demo page (a multipart upload, parts of the signer's default
//       16 MiB, 6 in flight, each with its Content-MD5, hashed in the widget's workers): click on
//       Upload → the form's last `progress` event (progress 1, the file is stored), and click →
//       the result page (finalize's server-side copy included); with the longest gap between
//       ticks of a 1 ms timer on the page meanwhile (how long its main thread went unanswered);
//    b. one plain XHR POST of the whole file with a POST policy from /s3file/sign, from a second
//       signer whose multipart threshold lies above the file's size, and no checksum
//       (S3FILE_CHECKSUM=off);
//    c. plain parallel presigned PUTs from the page, no widget, no checksum: /s3file/sign (a
//       multipart upload), /s3file/parts, each part a `Blob.slice` PUT with XHR, 6 in flight,
//       then /s3file/complete. The limit the widget is measured against; with the longest gap
//       between a 1 ms timer's ticks too, what the page's thread sees with no widget at all.
//    Each way has one untimed warm-up with a small file (just above the multipart threshold).
// 2. Many small files (500 × 64 KiB by default) in one form through the widget, 6 in flight,
//    against the signer's embedded dev store and SeaweedFS, with the checksums the store
//    verifies (S3FILE_CHECKSUM=auto) and with none (off): click → last `progress`, click →
//    result page; and the limit, plain XHR POSTs of the same files without checksums, 6 in
//    flight, timed from their one sign request to the last answer. The three rotate.
// 3. The memory of the page's renderer while the widget uploads a 2 GiB file (by default) to
//    SeaweedFS as a multipart upload: VmRSS of the renderer (from /proc; the renderer is found
//    with CDP's SystemInfo.getProcessInfo, as the one whose CPU time grows while the page spins)
//    and the page's JS heap (CDP Performance.getMetrics, JSHeapUsedSize), sampled every 250 ms
//    before, during and after the upload; the browser process and the network service too.
//
// It prints figures, not verdicts: the only checks are that each upload succeeded with the right
// size. The big files are written to a temporary directory on disk (random bytes, streamed; one
// file at a time, 2 GiB by default at most) and handed to the browser by path; every object the
// benchmark stores in SeaweedFS is deleted after its run, and SeaweedFS is asked to vacuum so the
// deleted bytes leave its disk too. Run it through `cargo xtask bench`, or by hand with what
// `cargo xtask seaweedfs` prints exported. Settings:
//
// - S3FILE_BENCH_BIG_MIB: the big file of 1, in MiB (default 1024); at most 5120;
// - S3FILE_BENCH_BIG_RUNS: timed runs per way in 1 (default 3);
// - S3FILE_BENCH_SMALL_FILES, S3FILE_BENCH_SMALL_KIB: the files of 2 (default 500 of 64 KiB);
// - S3FILE_BENCH_SMALL_RUNS: timed runs per store in 2 (default 3, after one warm-up);
// - S3FILE_BENCH_MEMORY_MIB: the file of 3, in MiB (default 2048); at most 5120;
// - S3FILE_BENCH_UPLINK_MIBPS: the page's upload throughput in 1, in MiB/s, as Chromium's network
//   emulation (CDP) limits it, the same for the three ways: an uplink slower than loopback, where
//   the widget's hashing can run while the transfers wait; unset, loopback's own.
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, statfs, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

import { launchBrowser } from '../e2e/support/browser.mjs';
import { s3Request } from '../e2e/support/s3.mjs';
import { WWW_DIR, startDevSigner, startSeaweedfsSigner } from '../e2e/support/signer.mjs';
import { positiveInteger, sleep, median, cpuModel, instrumentPage } from './support.mjs';

const MIB = 1024 * 1024;
const BIG_MIB = positiveInteger('S3FILE_BENCH_BIG_MIB', 1024);
const BIG_RUNS = positiveInteger('S3FILE_BENCH_BIG_RUNS', 3);
const SMALL_FILES = positiveInteger('S3FILE_BENCH_SMALL_FILES', 500);
const SMALL_KIB = positiveInteger('S3FILE_BENCH_SMALL_KIB', 64);
const SMALL_RUNS = positiveInteger('S3FILE_BENCH_SMALL_RUNS', 3);
const MEMORY_MIB = positiveInteger('S3FILE_BENCH_MEMORY_MIB', 2048);
const UPLINK_MIBPS = positiveInteger('S3FILE_BENCH_UPLINK_MIBPS', null);
// The signer's defaults, which the widget's runs use: multipart above 64 MiB, parts of 16 MiB.
const THRESHOLD_MIB = 64;
const PART_MIB = 16;
// Uploads in flight, the widget's (the demo form's data-s3file-concurrency, set by the page) and
// the plain parallel PUTs': as many as Chromium opens to one host.
const CONCURRENCY = 6;
// The warm-up file: just above the threshold, so the widget warms up its multipart path.
const WARM_UP_MIB = THRESHOLD_MIB + PART_MIB;
// The largest single POST (and so the highest multipart threshold the signer takes).
const MAX_SINGLE_MIB = 5 * 1024;
const SAMPLE_MS = 250;

for (const [name, mib] of [['S3FILE_BENCH_BIG_MIB', BIG_MIB], ['S3FILE_BENCH_MEMORY_MIB', MEMORY_MIB]]) {
  if (mib <= WARM_UP_MIB || mib > MAX_SINGLE_MIB) {
    throw new Error(`${name} must lie above ${WARM_UP_MIB} (a multipart upload) and at most ${MAX_SINGLE_MIB} (a single POST), got ${mib}`);
  }
}

/** Generous: 2 MiB/s at least, two minutes at least. */
const timeoutFor = (bytes) => Math.max(120_000, Math.ceil(bytes / (2 * MIB)) * 1000);

// ---------------------------------------------------------------------------------------------
// Files on disk

/** Writes `bytes` random bytes to `path` a MiB at a time (every MiB distinct, never all in memory). */
async function writeRandomFile(path, bytes) {
  await ensureRoom(bytes);
  const handle = await open(path, 'w');
  try {
    for (let offset = 0; offset < bytes; offset += MIB) {
      await handle.write(randomBytes(Math.min(MIB, bytes - offset)));
    }
  } finally {
    await handle.close();
  }
}

/** Refuses to write `bytes` to the temporary directory unless 2 GiB stay free besides. */
async function ensureRoom(bytes) {
  const fs = await statfs(tmpdir());
  const free = fs.bavail * fs.bsize;
  if (free < bytes + 2 * 1024 * MIB) {
    throw new Error(`${tmpdir()} has ${(free / MIB).toFixed(0)} MiB free: too little for a ${(bytes / MIB).toFixed(0)} MiB file and 2 GiB to spare`);
  }
}

// ---------------------------------------------------------------------------------------------
// SeaweedFS, straight: deleting what a run stored

/** DELETE of `key` in the SeaweedFS bucket. */
async function deleteObject(s3, key) {
  const response = await s3Request(s3, 'DELETE', key);
  const text = await response.text();
  if (response.status !== 204 && response.status !== 200) {
    throw new Error(`DELETE ${key} answered ${response.status}: ${text.slice(0, 300)}`);
  }
}

/** How often vacuum() was asked for, and how often it succeeded. */
const vacuums = { asked: 0, done: 0 };

/**
 * Deletes `keys` in SeaweedFS, 8 at a time, then has SeaweedFS vacuum; does nothing for the dev
 * store (its directory goes with its signer).
 */
async function deleteObjects(signer, keys) {
  if (!signer.s3) return;
  const queue = [...keys];
  const worker = async () => {
    while (queue.length > 0) await deleteObject(signer.s3, queue.shift());
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  vacuums.asked += 1;
  if (await vacuum(signer.s3)) vacuums.done += 1;
}

/**
 * Asks SeaweedFS's master to vacuum, so what a run deleted leaves the disk now rather than at
 * its next automatic sweep (every 14 minutes): without it, a full run leaves some 16 GiB of
 * deleted bytes in the volume files. The master's port is read from the command line of the
 * `weed` process that serves the S3 endpoint's port. Best effort: returns whether it vacuumed.
 */
async function vacuum(s3) {
  const s3Port = new URL(s3.endpoint).port;
  let masterPort = null;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args;
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!/weed$/.test(args[0] ?? '') || !args.includes(`-s3.port=${s3Port}`)) continue;
    masterPort = args.find((arg) => arg.startsWith('-master.port='))?.slice('-master.port='.length) ?? null;
    break;
  }
  if (!masterPort) return false;
  try {
    const response = await fetch(`http://127.0.0.1:${masterPort}/vol/vacuum?garbageThreshold=0.1`, {
      signal: AbortSignal.timeout(120_000),
    });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The page

/** A browser context with the page instrumented; `failed` rejects when the widget reports an error. */
async function benchContext(browser) {
  const context = await browser.newContext();
  await context.addInitScript(instrumentPage);
  const watch = { reject: null };
  await context.exposeFunction('__benchError', (message) => watch.reject?.(new Error(`the widget reported an error: ${message}`)));
  const page = await context.newPage();
  return { context, page, watch };
}

/** The demo page of `signer`, with the widget loaded and nothing remembered from earlier runs. */
async function openDemo(page, signer) {
  await page.goto(`${signer.url}/`);
  // The widget remembers multipart uploads in localStorage, to resume them after a reload.
  await page.evaluate(() => {
    sessionStorage.clear();
    localStorage.clear();
  });
  // The widget listens once its module has loaded.
  await page.evaluate(() => import('/pkg/s3file.js').then(() => true));
  await page.evaluate((concurrency) => {
    document.getElementById('upload-form').setAttribute('data-s3file-concurrency', String(concurrency));
  }, CONCURRENCY);
}

/**
 * One upload through the widget: `paths` set on the demo's input, Upload clicked. Resolves to
 * {click, done, result} (epoch ms), {stored, finalized} (seconds) and the stored keys, once the
 * result page lists every file of `expected` ({name, size}) with its size. `beforeClick` runs
 * once the files are set.
 */
async function widgetRun({ page, watch }, signer, paths, expected, bytes, beforeClick = async () => {}) {
  await openDemo(page, signer);
  await page.setInputFiles('#file', paths);
  await beforeClick();
  const timeout = timeoutFor(bytes);
  const failed = new Promise((_, reject) => {
    watch.reject = reject;
  });
  const finished = Promise.all([
    page.waitForURL('**/s3file/finalize', { timeout, waitUntil: 'domcontentloaded' }),
    page.click('#submit'),
  ]);
  finished.catch(() => {});
  try {
    await Promise.race([finished, failed]);
  } catch (error) {
    const progress = await page.evaluate(() => window.__benchProgress).catch(() => undefined);
    throw new Error(`${error.message} (the form's last progress: ${progress})`);
  } finally {
    watch.reject = null;
  }
  const times = await page.evaluate(() => {
    const read = (name) => Number(sessionStorage.getItem(`s3file-bench-${name}`));
    return { click: read('click'), done: read('done'), result: read('result'), gap: read('gap') };
  });
  const files = await page.$$eval('#files li[data-key]', (items) =>
    items.map((item) => ({
      key: item.dataset.key,
      name: item.querySelector('a').textContent,
      size: item.querySelector('.size').textContent,
    })),
  );
  const listed = new Map(files.map((file) => [file.name, file.size]));
  const wrong = expected.filter(({ name, size }) => listed.get(name) !== `${size} bytes`);
  if (files.length !== expected.length || wrong.length > 0) {
    await deleteObjects(signer, files.map((file) => file.key));
    throw new Error(`the result page lists ${files.length} files, expected ${expected.length}; wrong or missing: ${JSON.stringify(wrong.slice(0, 5))}`);
  }
  if (!(times.click > 0 && times.done >= times.click && times.result >= times.done)) {
    throw new Error(`incomplete timestamps (click, last progress, result page): ${JSON.stringify(times)}`);
  }
  return {
    times,
    stored: (times.done - times.click) / 1000,
    finalized: (times.result - times.click) / 1000,
    gap: times.gap,
    keys: files.map((file) => file.key),
  };
}

/** One plain sign + XHR POST of the input's file; resolves to seconds {signAndUpload, upload} and the key. */
async function postRun(page, signer, path, bytes) {
  await openDemo(page, signer);
  await page.setInputFiles('#file', path);
  page.setDefaultTimeout(timeoutFor(bytes));
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
    if (!signed.fields) return { error: `sign did not answer a POST policy: ${JSON.stringify(signed).slice(0, 300)}` };
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
    await deleteObjects(signer, [outcome.key]);
    throw new Error(`the store answered ${outcome.status} for ${outcome.key}: ${outcome.text.slice(0, 500)}`);
  }
  return { signAndUpload: outcome.signAndUpload / 1000, upload: outcome.upload / 1000, keys: [outcome.key] };
}

/**
 * One multipart upload of the input's file by plain JS in the page: sign, ask for every part's
 * URL, PUT the parts (`Blob.slice`s, `concurrency` in flight) with XHR, complete. Resolves to
 * seconds {all, puts} and the key.
 */
async function partsRun(page, signer, path, bytes) {
  await openDemo(page, signer);
  await page.setInputFiles('#file', path);
  page.setDefaultTimeout(timeoutFor(bytes));
  const outcome = await page.evaluate(async (concurrency) => {
    const file = document.getElementById('file').files[0];
    const json = async (url, body) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${url} answered ${response.status}: ${text.slice(0, 300)}`);
      return JSON.parse(text);
    };
    let key;
    // The longest gap between ticks of a 1 ms timer, as the widget's runs measure it
    // (support.mjs, instrumentPage): what the page's thread goes through with no widget at all.
    let last = performance.now();
    let gap = 0;
    const timer = setInterval(() => {
      const tick = performance.now();
      gap = Math.max(gap, tick - last);
      last = tick;
    }, 1);
    try {
      const started = performance.now();
      const signed = (await json('/s3file/sign', { field: 'file', files: [{ name: file.name, size: file.size, type: file.type }] })).files[0];
      key = signed.key;
      const multipart = signed.multipart;
      if (!multipart) return { key, error: `sign did not answer a multipart upload: ${JSON.stringify(signed).slice(0, 300)}` };
      const upload = { key, uploadId: multipart.uploadId, ticket: multipart.ticket };
      const numbers = Array.from({ length: multipart.partCount }, (_, index) => index + 1);
      const parts = [];
      for (let from = 0; from < numbers.length; from += 1000) {
        parts.push(...(await json('/s3file/parts', { ...upload, parts: numbers.slice(from, from + 1000) })).parts);
      }
      const putsStarted = performance.now();
      const put = (part) =>
        new Promise((resolve, reject) => {
          const start = (part.n - 1) * multipart.partSize;
          const xhr = new XMLHttpRequest();
          xhr.open('PUT', part.url);
          for (const [name, value] of part.headers ?? []) xhr.setRequestHeader(name, value);
          // As the widget does: an upload listener.
          xhr.upload.addEventListener('progress', () => {});
          xhr.addEventListener('load', () => {
            if (xhr.status >= 200 && xhr.status < 300) resolve();
            else reject(new Error(`part ${part.n} answered ${xhr.status}: ${xhr.responseText.slice(0, 300)}`));
          });
          xhr.addEventListener('error', () => reject(new Error(`part ${part.n}: network error`)));
          xhr.send(file.slice(start, Math.min(start + multipart.partSize, file.size)));
        });
      let next = 0;
      const worker = async () => {
        while (next < parts.length) await put(parts[next++]);
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      const putsDone = performance.now();
      const completed = await json('/s3file/complete', upload);
      const finished = performance.now();
      return { key, size: completed.size, partCount: parts.length, all: finished - started, puts: putsDone - putsStarted, gap };
    } catch (error) {
      return { key, error: String(error?.message ?? error) };
    } finally {
      clearInterval(timer);
    }
  }, CONCURRENCY);
  if (outcome.error) {
    // An unfinished multipart upload holds no object; a sweep or lifecycle rule aborts it.
    throw new Error(outcome.error);
  }
  if (outcome.size !== bytes) {
    await deleteObjects(signer, [outcome.key]);
    throw new Error(`complete reported ${outcome.size} bytes for ${outcome.key}, expected ${bytes}`);
  }
  return { all: outcome.all / 1000, puts: outcome.puts / 1000, gap: outcome.gap, keys: [outcome.key] };
}

/**
 * The input's files POSTed by plain JS in the page, no widget, no checksum: one sign request for
 * all of them, then one XHR POST each, `concurrency` in flight. Resolves to seconds {all} (sign
 * included) and the keys.
 */
async function plainPostsRun(page, signer, paths, bytes) {
  await openDemo(page, signer);
  await page.setInputFiles('#file', paths);
  page.setDefaultTimeout(timeoutFor(bytes));
  const outcome = await page.evaluate(async (concurrency) => {
    const files = [...document.getElementById('file').files];
    const started = performance.now();
    const response = await fetch('/s3file/sign', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ field: 'file', files: files.map(({ name, size, type }) => ({ name, size, type })) }),
    });
    if (!response.ok) return { error: `sign answered ${response.status}: ${await response.text()}` };
    const signed = (await response.json()).files;
    const post = (index) =>
      new Promise((resolve, reject) => {
        const body = new FormData();
        for (const [name, value] of Object.entries(signed[index].fields)) body.append(name, value);
        body.append('file', files[index], signed[index].name);
        const xhr = new XMLHttpRequest();
        xhr.open('POST', signed[index].url);
        // As the widget does: an upload listener (it makes a cross-origin POST preflighted).
        xhr.upload.addEventListener('progress', () => {});
        xhr.addEventListener('load', () =>
          xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(`${signed[index].key}: ${xhr.status}`)),
        );
        xhr.addEventListener('error', () => reject(new Error(`${signed[index].key}: network error`)));
        xhr.send(body);
      });
    let next = 0;
    const lane = async () => {
      while (next < files.length) await post(next++);
    };
    try {
      await Promise.all(Array.from({ length: concurrency }, lane));
    } catch (error) {
      return { error: String(error.message), keys: signed.map((file) => file.key) };
    }
    return { all: performance.now() - started, keys: signed.map((file) => file.key) };
  }, CONCURRENCY);
  if (outcome.error) {
    await deleteObjects(signer, outcome.keys ?? []);
    throw new Error(outcome.error);
  }
  return { all: outcome.all / 1000, keys: outcome.keys };
}

// ---------------------------------------------------------------------------------------------
// 1. One big file

async function benchBigFile(browser, dir) {
  const big = { name: `bench-${BIG_MIB}MiB.bin`, size: BIG_MIB * MIB };
  const warm = { name: `warm-up-${WARM_UP_MIB}MiB.bin`, size: WARM_UP_MIB * MIB };
  big.path = join(dir, big.name);
  warm.path = join(dir, warm.name);
  await writeRandomFile(warm.path, warm.size);
  await writeRandomFile(big.path, big.size);
  // The widget and the parts: the signer's defaults. The single POST: a threshold above the file.
  const multipartSigner = await startSeaweedfsSigner();
  const postSigner = await startSeaweedfsSigner({
    args: ['serve', '--www', WWW_DIR, '--multipart-threshold', String(MAX_SINGLE_MIB * MIB), '--checksum', 'off'],
  });
  const bench = await benchContext(browser);
  const samples = { widget: [], post: [], parts: [] };
  try {
    if (UPLINK_MIBPS) {
      const cdp = await bench.context.newCDPSession(bench.page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: UPLINK_MIBPS * MIB,
      });
    }
    const ways = {
      widget: async (file) => {
        const outcome = await widgetRun(bench, multipartSigner, file.path, [file], file.size);
        await deleteObjects(multipartSigner, outcome.keys);
        return outcome;
      },
      post: async (file) => {
        const outcome = await postRun(bench.page, postSigner, file.path, file.size);
        await deleteObjects(postSigner, outcome.keys);
        return outcome;
      },
      parts: async (file) => {
        const outcome = await partsRun(bench.page, multipartSigner, file.path, file.size);
        await deleteObjects(multipartSigner, outcome.keys);
        return outcome;
      },
    };
    const names = Object.keys(ways);
    for (const name of names) await ways[name](warm);
    for (let run = 0; run < BIG_RUNS; run += 1) {
      // Rotating, so no way always goes first.
      for (let index = 0; index < names.length; index += 1) {
        const name = names[(run + index) % names.length];
        samples[name].push(await ways[name](big));
        process.stderr.write('.');
      }
    }
    return samples;
  } catch (error) {
    process.stderr.write(`\nthe signers printed:\n${multipartSigner.output().slice(-3000)}\n${postSigner.output().slice(-3000)}\n`);
    throw error;
  } finally {
    await bench.context.close();
    await multipartSigner.stop();
    await postSigner.stop();
    await rm(big.path, { force: true });
    await rm(warm.path, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Many small files in one form

async function benchSmallFiles(browser, dir, startSigner) {
  // The checksums the store verifies (auto), and none: the widget's cost of checking; and plain
  // POSTs without the widget, the limit.
  const signers = { checked: await startSigner(), unchecked: await startSigner({ env: { S3FILE_CHECKSUM: 'off' } }) };
  signers.plain = signers.unchecked;
  const bench = await benchContext(browser);
  const files = Array.from({ length: SMALL_FILES }, (_, index) => {
    const name = `small-${String(index).padStart(4, '0')}.bin`;
    return { name, size: SMALL_KIB * 1024, path: join(dir, name) };
  });
  const paths = files.map((file) => file.path);
  const bytes = SMALL_FILES * SMALL_KIB * 1024;
  const samples = { checked: [], unchecked: [], plain: [] };
  try {
    const run = async (way) => {
      const outcome =
        way === 'plain'
          ? await plainPostsRun(bench.page, signers.plain, paths, bytes)
          : await widgetRun(bench, signers[way], paths, files, bytes);
      await deleteObjects(signers[way], outcome.keys);
      return outcome;
    };
    const ways = Object.keys(samples);
    for (const way of ways) await run(way);
    for (let index = 0; index < SMALL_RUNS; index += 1) {
      // Rotating, so no way always goes first.
      for (let offset = 0; offset < ways.length; offset += 1) {
        const way = ways[(index + offset) % ways.length];
        samples[way].push(await run(way));
        process.stderr.write('.');
      }
    }
    return samples;
  } catch (error) {
    process.stderr.write(`\nthe signer printed:\n${signers.checked.output().slice(-4000)}\n`);
    throw error;
  } finally {
    await bench.context.close();
    await signers.checked.stop();
    await signers.unchecked.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Renderer memory during a big multipart upload

/** VmRSS of process `pid` in bytes (as `{rss}`), or null when it is gone. */
function processMemory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { rss: Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) * 1024 };
  } catch {
    return null;
  }
}

/** Chromium's processes by CDP: `[{type, id, cpuTime}]`. */
async function chromiumProcesses(browserSession) {
  return (await browserSession.send('SystemInfo.getProcessInfo')).processInfo;
}

/** The page's renderer: the renderer whose CPU time grows most while the page spins for 0.5 s. */
async function findRenderer(page, browserSession) {
  const cpu = async () =>
    new Map((await chromiumProcesses(browserSession)).filter((p) => p.type === 'renderer').map((p) => [p.id, p.cpuTime]));
  const before = await cpu();
  await page.evaluate(() => {
    const end = performance.now() + 500;
    while (performance.now() < end);
  });
  const after = await cpu();
  let best = null;
  for (const [pid, time] of after) {
    const grew = time - (before.get(pid) ?? 0);
    if (!best || grew > best.grew) best = { pid, grew };
  }
  if (!best || best.grew < 0.2) throw new Error(`cannot tell the page's renderer: CPU times ${JSON.stringify([...after])}`);
  return best.pid;
}

async function benchMemory(browser, dir) {
  const file = { name: `memory-${MEMORY_MIB}MiB.bin`, size: MEMORY_MIB * MIB };
  file.path = join(dir, file.name);
  await writeRandomFile(file.path, file.size);
  const signer = await startSeaweedfsSigner();
  const bench = await benchContext(browser);
  const browserSession = await browser.newBrowserCDPSession();
  const pageSession = await bench.context.newCDPSession(bench.page);
  let sampling = null;
  try {
    const samples = [];
    let renderer = null;
    let baselineEnd = null;
    const collectGarbage = () => pageSession.send('HeapProfiler.collectGarbage');
    const sample = async (pids) => {
      const t = Date.now();
      let heap = null;
      try {
        const { metrics } = await pageSession.send('Performance.getMetrics');
        heap = metrics.find((metric) => metric.name === 'JSHeapUsedSize')?.value ?? null;
      } catch {
        // Between two documents.
      }
      let all = 0;
      const processes = await chromiumProcesses(browserSession).catch(() => []);
      for (const p of processes) all += processMemory(p.id)?.rss ?? 0;
      samples.push({
        t,
        heap,
        count: processes.length,
        renderer: processMemory(renderer),
        browser: processMemory(pids.browser)?.rss ?? null,
        network: processMemory(pids.network)?.rss ?? null,
        all,
      });
    };
    // Baseline: the demo page with the widget loaded and the file set, after a garbage
    // collection, for 2 s; then the click, and sampling goes on.
    const beforeClick = async () => {
      await pageSession.send('Performance.enable');
      renderer = await findRenderer(bench.page, browserSession);
      const processes = await chromiumProcesses(browserSession);
      const pids = {
        browser: processes.find((p) => p.type === 'browser')?.id,
        network: processes.find((p) => /NetworkService/.test(p.type))?.id,
      };
      await collectGarbage();
      let busy = false;
      sampling = setInterval(() => {
        if (busy) return;
        busy = true;
        sample(pids).finally(() => {
          busy = false;
        });
      }, SAMPLE_MS);
      await sleep(2000);
      baselineEnd = Date.now();
    };
    const outcome = await widgetRun(bench, signer, file.path, [file], file.size, beforeClick);
    // After: the result page, after a garbage collection, for 2 s.
    await collectGarbage().catch(() => {});
    const afterStart = Date.now();
    await sleep(2000);
    clearInterval(sampling);
    await sleep(SAMPLE_MS);
    await deleteObjects(signer, outcome.keys);
    const { click, done } = outcome.times;
    return {
      samples,
      phases: {
        baseline: samples.filter((s) => s.t <= baselineEnd),
        upload: samples.filter((s) => s.t >= click && s.t <= done),
        after: samples.filter((s) => s.t >= afterStart),
      },
      rendererAlive: processMemory(renderer) !== null,
      stored: outcome.stored,
      finalized: outcome.finalized,
    };
  } catch (error) {
    process.stderr.write(`\nthe signer printed:\n${signer.output().slice(-4000)}\n`);
    throw error;
  } finally {
    clearInterval(sampling);
    await bench.context.close();
    await browserSession.detach().catch(() => {});
    await signer.stop();
    await rm(file.path, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Output

const range = (values) => `${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)}`;

function timeRow(what, seconds, mib) {
  const mid = median(seconds);
  return `| ${what} | ${mid.toFixed(3)} | ${range(seconds)} | ${(mib / mid).toFixed(0)} |`;
}

const mibText = (bytes) => (bytes === null || Number.isNaN(bytes) ? '–' : (bytes / MIB).toFixed(1));

function printBigFile(samples) {
  const uplink = UPLINK_MIBPS ? `, the page's uploads limited to ${UPLINK_MIBPS} MiB/s (Chromium's network emulation)` : '';
  console.log(`### One ${BIG_MIB} MiB file to SeaweedFS${uplink}`);
  console.log();
  console.log(`${BIG_RUNS} timed runs per row (the ways rotating, after one ${WARM_UP_MIB} MiB warm-up each), median. Parts of ${PART_MIB} MiB (${Math.ceil(BIG_MIB / PART_MIB)} parts), ${CONCURRENCY} in flight. The widget sends each part's Content-MD5, hashed in its workers; the plain XHRs send no checksum.`);
  console.log();
  console.log('| what is timed | median s | min–max s | MiB/s |');
  console.log('|---|---:|---:|---:|');
  console.log(timeRow('widget (multipart, checksums): click → last `progress` (stored)', samples.widget.map((s) => s.stored), BIG_MIB));
  console.log(timeRow('widget (multipart, checksums): click → result page (finalized)', samples.widget.map((s) => s.finalized), BIG_MIB));
  console.log(timeRow('plain XHR, one POST: sign + POST', samples.post.map((s) => s.signAndUpload), BIG_MIB));
  console.log(timeRow('plain XHR, one POST: POST only', samples.post.map((s) => s.upload), BIG_MIB));
  console.log(timeRow(`plain XHR, parallel PUTs: sign + parts + ${CONCURRENCY} PUTs in flight + complete`, samples.parts.map((s) => s.all), BIG_MIB));
  console.log(timeRow('plain XHR, parallel PUTs: PUTs only', samples.parts.map((s) => s.puts), BIG_MIB));
  console.log();
  const ratio = median(samples.widget.map((s) => s.stored)) / median(samples.parts.map((s) => s.all));
  const gaps = samples.widget.map((s) => s.gap);
  console.log(`- widget with checksums ÷ plain parallel PUTs (stored, medians): **${ratio.toFixed(2)}×**`);
  console.log(`- longest main-thread gap during the widget's upload (a 1 ms timer's ticks, click → stored): median **${median(gaps).toFixed(1)} ms**, ${Math.min(...gaps).toFixed(1)}–${Math.max(...gaps).toFixed(1)} ms`);
  const plainGaps = samples.parts.map((s) => s.gap);
  console.log(`- the same during the plain parallel PUTs, no widget on the page (sign → complete): median **${median(plainGaps).toFixed(1)} ms**, ${Math.min(...plainGaps).toFixed(1)}–${Math.max(...plainGaps).toFixed(1)} ms`);
}

function printSmallFiles(results) {
  const mib = (SMALL_FILES * SMALL_KIB) / 1024;
  console.log(`### ${SMALL_FILES} files of ${SMALL_KIB} KiB in one form, through the widget`);
  console.log();
  console.log(`${SMALL_RUNS} timed runs per row (after one warm-up each, the ways rotating), median; each file its own POST, ${CONCURRENCY} in flight. Checksums: those the store verifies (S3FILE_CHECKSUM=auto: Content-MD5 on the dev store, x-amz-checksum-crc32 on SeaweedFS), or none (off). The plain POSTs: one sign request for all the files, then an XHR POST each, no widget, no checksum.`);
  console.log();
  console.log('| store | checksums | what is timed | median s | min–max s | files/s | MiB/s |');
  console.log('|---|---|---|---:|---:|---:|---:|');
  for (const [store, samples] of results) {
    for (const [way, label] of [['checked', 'auto'], ['unchecked', 'off']]) {
      for (const [what, seconds] of [
        ['widget: click → last `progress` (stored)', samples[way].map((s) => s.stored)],
        ['widget: click → result page (finalized)', samples[way].map((s) => s.finalized)],
      ]) {
        const mid = median(seconds);
        console.log(`| ${store} | ${label} | ${what} | ${mid.toFixed(3)} | ${range(seconds)} | ${(SMALL_FILES / mid).toFixed(0)} | ${(mib / mid).toFixed(1)} |`);
      }
    }
    const plain = samples.plain.map((s) => s.all);
    const mid = median(plain);
    console.log(`| ${store} | none | plain XHR POSTs: sign + ${CONCURRENCY} POSTs in flight | ${mid.toFixed(3)} | ${range(plain)} | ${(SMALL_FILES / mid).toFixed(0)} | ${(mib / mid).toFixed(1)} |`);
  }
  console.log();
  for (const [store, samples] of results) {
    const stored = (way) => median(samples[way].map((s) => s.stored));
    const plain = median(samples.plain.map((s) => s.all));
    console.log(
      `- ${store}: widget with checksums ÷ without (stored, medians): **${(stored('checked') / stored('unchecked')).toFixed(2)}×**; ` +
        `with checksums ÷ plain POSTs: **${(stored('checked') / plain).toFixed(2)}×**`,
    );
  }
}

function printMemory(memory) {
  const { baseline, upload, after } = memory.phases;
  const rows = [
    ['page renderer, VmRSS', (s) => s.renderer?.rss ?? null],
    ['page JS heap (JSHeapUsedSize)', (s) => s.heap],
    ['browser process, VmRSS', (s) => s.browser],
    ['network service, VmRSS', (s) => s.network],
    ['all Chromium processes, sum of VmRSS', (s) => s.all || null],
  ];
  const values = (phase, read) => phase.map(read).filter((v) => v !== null && !Number.isNaN(v));
  console.log(`### Memory while the widget uploads ${MEMORY_MIB} MiB to SeaweedFS (multipart)`);
  console.log();
  console.log(`Sampled every ${SAMPLE_MS} ms: ${baseline.length} samples before (the demo page, widget loaded, after a GC), ${upload.length} during (click → last \`progress\`: ${memory.stored.toFixed(1)} s, ${(MEMORY_MIB / memory.stored).toFixed(0)} MiB/s), ${after.length} after (the result page, after a GC). Baseline and after are medians, peak the highest sample; growth is peak − baseline.`);
  console.log();
  console.log('| what | baseline MiB | peak during upload MiB | growth MiB | after MiB |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [what, read] of rows) {
    const base = values(baseline, read);
    const during = values(upload, read);
    const later = values(after, read);
    const b = base.length ? median(base) : null;
    const peak = during.length ? Math.max(...during) : null;
    const a = later.length ? median(later) : null;
    console.log(`| ${what} | ${mibText(b)} | ${mibText(peak)} | ${b !== null && peak !== null ? mibText(peak - b) : '–'} | ${mibText(a)} |`);
  }
  const counts = (phase) => phase.map((s) => s.count).filter((n) => n > 0);
  console.log();
  console.log(`Chromium processes (SystemInfo.getProcessInfo): ${Math.max(...counts(baseline))} before, ${Math.min(...counts(upload))}–${Math.max(...counts(upload))} during, ${Math.max(...counts(after))} after.`);
  if (!memory.rendererAlive) {
    console.log();
    console.log('The page\'s renderer had gone by the end: the result page ran in another process, so the renderer\'s "after" is missing.');
  }
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 's3file-bench-multipart-'));
  const browser = await launchBrowser();
  const started = Date.now();
  const load = loadavg()[0];
  try {
    process.stderr.write(`one ${BIG_MIB} MiB file `);
    const big = await benchBigFile(browser, dir);
    process.stderr.write('\n');

    const smallDir = join(dir, 'small');
    await mkdir(smallDir);
    for (let index = 0; index < SMALL_FILES; index += 1) {
      await writeFile(join(smallDir, `small-${String(index).padStart(4, '0')}.bin`), randomBytes(SMALL_KIB * 1024));
    }
    const small = [];
    for (const [store, startSigner] of [
      ['dev store', startDevSigner],
      ['SeaweedFS', startSeaweedfsSigner],
    ]) {
      process.stderr.write(`${SMALL_FILES} small files, ${store} `);
      small.push([store, await benchSmallFiles(browser, smallDir, startSigner)]);
      process.stderr.write('\n');
    }
    await rm(smallDir, { recursive: true, force: true });

    process.stderr.write(`memory while uploading ${MEMORY_MIB} MiB\n`);
    const memory = await benchMemory(browser, dir);

    const command = process.env.S3FILE_BENCH_COMMAND ?? 'node tests/bench/multipart.mjs';
    const settings = [
      `S3FILE_BENCH_BIG_MIB=${BIG_MIB}`,
      `S3FILE_BENCH_BIG_RUNS=${BIG_RUNS}`,
      `S3FILE_BENCH_SMALL_FILES=${SMALL_FILES}`,
      `S3FILE_BENCH_SMALL_KIB=${SMALL_KIB}`,
      `S3FILE_BENCH_SMALL_RUNS=${SMALL_RUNS}`,
      `S3FILE_BENCH_MEMORY_MIB=${MEMORY_MIB}`,
      ...(UPLINK_MIBPS ? [`S3FILE_BENCH_UPLINK_MIBPS=${UPLINK_MIBPS}`] : []),
    ].join(', ');
    console.log('Multipart uploads');
    console.log();
    console.log(`- date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`);
    console.log(`- machine: ${availableParallelism()} CPUs (nproc), ${cpuModel()}, ${Math.round(totalmem() / 1024 / MIB)} GiB RAM; load average ${load.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end`);
    console.log(`- browser: headless Chromium ${browser.version()}, loopback (127.0.0.1)`);
    console.log(`- signer: ${process.env.S3FILE_SIGNER_BIN} (defaults: multipart above ${THRESHOLD_MIB} MiB, parts of ${PART_MIB} MiB); demo form: data-s3file-concurrency ${CONCURRENCY}`);
    console.log(`- command: \`${command}\` (${settings}), ${Math.round((Date.now() - started) / 1000)} s`);
    console.log(`- SeaweedFS: every object a run stored deleted after it, then a vacuum asked of the master (${vacuums.done} of ${vacuums.asked} done)`);
    console.log();
    printBigFile(big);
    console.log();
    printSmallFiles(small);
    console.log();
    printMemory(memory);
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
