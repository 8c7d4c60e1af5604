// The widget's checksums in headless Chromium: how fast a Blob is hashed in the widget's workers
// (MD5 for every Content-MD5, CRC-32 for every x-amz-checksum-crc32; a multipart part's MD5 and
// CRC-64/NVME are one pass, measured for CPU time below) and, where no worker can
// start, on the page in slices; next to reading the Blob alone; and how long the page's main
// thread goes unanswered meanwhile (the longest gap between ticks of a 1 ms timer). Then the CPU
// time hashing costs per GiB, measured in Node (the same V8 engine) on the same wasm with
// process.cpuUsage. The page is the demo's, served by a dev-mode signer, so digest.js, its
// worker and its wasm are the built ones (www/pkg). Prints figures, asserts nothing. Settings:
// S3FILE_BENCH_DIGEST_MIB (default 256), S3FILE_BENCH_DIGEST_RUNS (default 3, after one
// warm-up).
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';

import { launchBrowser } from '../e2e/support/browser.mjs';
import { WWW_DIR, startDevSigner } from '../e2e/support/signer.mjs';

const SIZE_MIB = Number(process.env.S3FILE_BENCH_DIGEST_MIB || 256);
const RUNS = Number(process.env.S3FILE_BENCH_DIGEST_RUNS || 3);
const MIB = 1024 * 1024;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Seconds of CPU (user + system) this process spends hashing `mib` MiB with the built wasm. */
async function cpuPerGib(code, mib = 1024) {
  const { instance } = await WebAssembly.instantiate(readFileSync(`${WWW_DIR}/pkg/s3file_digest.wasm`));
  const wasm = instance.exports;
  const piece = new Uint8Array(1 << 18);
  for (let at = 0; at < piece.length; at += 65536) crypto.getRandomValues(piece.subarray(at, at + 65536));
  const before = process.cpuUsage();
  wasm.start(0, code);
  for (let done = 0; done < mib * MIB; done += piece.length) {
    new Uint8Array(wasm.memory.buffer, wasm.input(), piece.length).set(piece);
    wasm.update(0, piece.length);
  }
  wasm.finish(0);
  const { user, system } = process.cpuUsage(before);
  return ((user + system) / 1e6) * (1024 / mib);
}

const signer = await startDevSigner();
const browser = await launchBrowser();
try {
  const page = await browser.newPage();
  await page.goto(`${signer.url}/`);
  const version = browser.version();
  const results = await page.evaluate(
    async ({ mib, runs }) => {
      const digest = await import('/pkg/s3file_digest.js');
      const onPage = await digest.instantiate();
      const chunk = new Uint8Array(1024 * 1024);
      const parts = [];
      for (let index = 0; index < mib; index += 1) {
        crypto.getRandomValues(chunk.subarray(0, 65536));
        chunk.copyWithin(65536, 0);
        parts.push(new Blob([chunk]));
      }
      const blob = new Blob(parts);
      const readOnly = async (file) => {
        const reader = file.stream().getReader();
        while (!(await reader.read()).done);
      };
      const ways = {
        'read only, on the page': readOnly,
        'MD5, in a worker': (file) => digest.checksum(file, 'Content-MD5'),
        'CRC-32, in a worker': (file) => digest.checksum(file, 'x-amz-checksum-crc32'),
        'MD5, on the page in slices (no worker)': (file) => digest.hash(onPage, file, 0, undefined, true),
        'CRC-32, on the page in slices (no worker)': (file) => digest.hash(onPage, file, 1, undefined, true),
      };
      const out = {};
      for (const [name, run] of Object.entries(ways)) {
        await run(blob.slice(0, 16 * 1024 * 1024));
        const seconds = [];
        const gaps = [];
        for (let index = 0; index < runs; index += 1) {
          let last = performance.now();
          let gap = 0;
          const timer = setInterval(() => {
            const now = performance.now();
            gap = Math.max(gap, now - last);
            last = now;
          }, 1);
          const started = performance.now();
          await run(blob);
          const ended = performance.now();
          seconds.push((ended - started) / 1000);
          clearInterval(timer);
          // A timer that never fired after the start leaves a gap up to the end.
          gaps.push(Math.max(gap, ended - last));
        }
        out[name] = { seconds, gaps };
      }
      return out;
    },
    { mib: SIZE_MIB, runs: RUNS },
  );
  const cpu = {
    MD5: await cpuPerGib(0),
    'CRC-32': await cpuPerGib(1),
    "MD5 and CRC-64/NVME (a multipart part's, one pass)": await cpuPerGib(2),
  };

  console.log(`## Checksums in the browser (${SIZE_MIB} MiB Blob)\n`);
  console.log(`- date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  console.log(`- machine: ${availableParallelism()} CPUs, ${cpus()[0]?.model ?? 'unknown CPU'}; load average ${loadavg()[0].toFixed(2)}`);
  console.log(`- browser: headless Chromium ${version}; Node ${process.version}`);
  console.log(`- command: \`node tests/bench/digest.mjs\` (S3FILE_BENCH_DIGEST_MIB=${SIZE_MIB}, S3FILE_BENCH_DIGEST_RUNS=${RUNS})\n`);
  console.log(`${RUNS} runs each after a 16 MiB warm-up, median.\n`);
  console.log('| what | median s | MiB/s | longest main-thread gap, ms |');
  console.log('|---|---:|---:|---:|');
  for (const [name, { seconds, gaps }] of Object.entries(results)) {
    const time = median(seconds);
    console.log(`| ${name} | ${time.toFixed(3)} | ${Math.round(SIZE_MIB / time)} | ${median(gaps).toFixed(1)} |`);
  }
  console.log('\nCPU time hashing costs (Node, the same wasm, 1 GiB hashed in 256 KiB pieces):\n');
  for (const [name, seconds] of Object.entries(cpu)) console.log(`- ${name}: ${seconds.toFixed(2)} CPU s per GiB`);
} finally {
  await browser.close();
  await signer.stop();
}
