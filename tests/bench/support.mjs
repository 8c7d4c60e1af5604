// What the benchmark scripts share: their settings from the environment, small statistics, the
// machine's description, and the page instrumentation of the browser benchmarks.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

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
          gap = Math.max(gap, tick - last);
          last = tick;
          sessionStorage.setItem('s3file-bench-gap', String(gap));
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
