// The widget's checksums (widget/js/digest.js) in headless Chromium: how fast MD5 (every PUT and
// part carries its Content-MD5) and CRC-32 (every POST's x-amz-checksum-crc32) read a Blob, next
// to reading it alone, and how long the page's main thread goes unanswered meanwhile (the
// longest gap between ticks of a 1 ms timer: a stalled page would show it). Prints figures,
// asserts nothing. Settings: S3FILE_BENCH_DIGEST_MIB (default 256), S3FILE_BENCH_DIGEST_RUNS
// (default 3, after one warm-up).
import { availableParallelism, cpus, loadavg } from 'node:os';

import { launchBrowser } from '../e2e/support/browser.mjs';
import { DIGEST_SOURCE } from '../e2e/support/digest.mjs';

const SIZE_MIB = Number(process.env.S3FILE_BENCH_DIGEST_MIB || 256);
const RUNS = Number(process.env.S3FILE_BENCH_DIGEST_RUNS || 3);

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const browser = await launchBrowser();
try {
  const page = await browser.newPage();
  const version = browser.version();
  const results = await page.evaluate(
    async ({ source, mib, runs }) => {
      const digest = await import(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
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
      const ways = { 'read only': readOnly, MD5: digest.md5, 'CRC-32': digest.crc32 };
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
    { source: DIGEST_SOURCE, mib: SIZE_MIB, runs: RUNS },
  );

  console.log(`## Checksums in the browser (${SIZE_MIB} MiB Blob)\n`);
  console.log(`- date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  console.log(`- machine: ${availableParallelism()} CPUs, ${cpus()[0]?.model ?? 'unknown CPU'}; load average ${loadavg()[0].toFixed(2)}`);
  console.log(`- browser: headless Chromium ${version}`);
  console.log(`- command: \`node tests/bench/digest.mjs\` (S3FILE_BENCH_DIGEST_MIB=${SIZE_MIB}, S3FILE_BENCH_DIGEST_RUNS=${RUNS})\n`);
  console.log(`${RUNS} runs each after a 16 MiB warm-up, median.\n`);
  console.log('| what | median s | MiB/s | longest main-thread gap, ms |');
  console.log('|---|---:|---:|---:|');
  for (const [name, { seconds, gaps }] of Object.entries(results)) {
    const time = median(seconds);
    console.log(`| ${name} | ${time.toFixed(3)} | ${Math.round(SIZE_MIB / time)} | ${median(gaps).toFixed(1)} |`);
  }
} finally {
  await browser.close();
}
