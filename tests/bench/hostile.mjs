// What hostile clients cost the signer, on loopback, in dev mode (S3FILE_SIGNER_BIN; no
// SeaweedFS needed):
//
// 1. memory: the signer's resident set (VmRSS from /proc/<pid>/status, sampled every 20 ms)
//    before, while and after a client POSTs a multipart/form-data form to /s3file/finalize whose
//    one text field is 100 MiB (S3FILE_BENCH_FIELD_MIB), streamed as it is written, as fast as
//    the signer reads it; what the signer answered, and how much of the form it had taken by then;
// 2. slow clients: GET /healthz latency over 200 sequential requests (S3FILE_BENCH_REQUESTS), each
//    on a new connection as a health probe makes them, first on an idle signer, then while 500
//    connections (S3FILE_BENCH_STALLED) that sent only part of a request head are held open; then
//    how long the signer keeps those connections (its header timeout, S3FILE_HEADER_TIMEOUT).
//
// It prints figures, not verdicts. Run it with `cargo xtask bench signer`, which runs it against
// the release build after tests/bench/signer.mjs, or by hand after `cargo build -p s3file-signer`:
// `S3FILE_SIGNER_BIN=<target dir>/debug/s3file-signer node tests/bench/hostile.mjs`.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { availableParallelism, totalmem } from 'node:os';

import { startDevSigner } from '../e2e/support/signer.mjs';
import { positiveInteger, sleep, median, cpuModel } from './support.mjs';

const MIB = 1024 * 1024;
const FIELD_MIB = positiveInteger('S3FILE_BENCH_FIELD_MIB', 100);
const REQUESTS = positiveInteger('S3FILE_BENCH_REQUESTS', 200);
const STALLED = positiveInteger('S3FILE_BENCH_STALLED', 500);
const SAMPLE_MS = 20;
const CHUNK = 64 * 1024;
/** Each part gives up after this: a signer that neither reads nor answers is a result too. */
const STEP_TIMEOUT_MS = 120_000;
/** How long to watch the held connections for the signer to close them. */
const HOLD_WATCH_MS = 60_000;

/** VmRSS of a process, in MiB. */
function rss(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/^VmRSS:\s+(\d+) kB/m)[1]) / 1024;
}

/** Samples `pid`'s RSS every SAMPLE_MS until `stop()`, which returns the samples (MiB). */
function sampleRss(pid) {
  const samples = [];
  const timer = setInterval(() => {
    try {
      samples.push(rss(pid));
    } catch {
      // Exited.
    }
  }, SAMPLE_MS);
  samples.push(rss(pid));
  return () => {
    clearInterval(timer);
    return samples;
  };
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

// ---- 1. a huge text field -----------------------------------------------------------------------

/**
 * POSTs the form on a plain socket, writing the field chunk by chunk as the socket drains, and
 * stops writing at the first byte of an answer: a signer that refuses early and closes the
 * connection still has its answer read (an HTTP client would report only the failed write).
 * Resolves when the connection ends, or after STEP_TIMEOUT_MS, to `{status, body, sent, total,
 * answeredAfter, seconds, error}`, `answeredAfter` being the form's bytes written when the answer
 * began.
 */
function postHugeField(url) {
  const { hostname, port } = new URL(url);
  const boundary = '----s3fileBenchBoundary7MA4YWxkTrZu0gW';
  const partHead = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="comment"\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const fieldBytes = FIELD_MIB * MIB;
  const total = partHead.length + fieldBytes + tail.length;
  const requestHead = Buffer.from(
    `POST /s3file/finalize HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: application/json\r\n` +
      `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${total}\r\n` +
      'Connection: close\r\n\r\n',
  );
  const chunk = Buffer.alloc(CHUNK, 'a');
  const started = performance.now();
  return new Promise((resolveDone) => {
    let sent = 0;
    let received = Buffer.alloc(0);
    let answeredAfter = null;
    let lastError = null;
    let finished = false;
    const socket = connect({ host: hostname, port: Number(port) });
    const done = (error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      const text = received.toString('latin1');
      const status = text.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? null;
      const body = text.split('\r\n\r\n').slice(1).join('\r\n\r\n');
      resolveDone({ status, body, sent, total, answeredAfter, seconds: (performance.now() - started) / 1000, error });
    };
    const timer = setTimeout(() => done(new Error(`no end within ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
    socket.on('data', (data) => {
      if (answeredAfter === null) answeredAfter = sent;
      if (received.length < 4096) received = Buffer.concat([received, data]);
    });
    // A write to a connection the signer closed after answering fails: the answer still counts.
    socket.on('error', (error) => {
      lastError = error;
    });
    socket.on('close', () => done(answeredAfter === null ? lastError ?? new Error('closed without an answer') : null));
    const write = () => {
      while (sent < total && answeredAfter === null && !finished) {
        let piece;
        if (sent === 0) {
          socket.write(requestHead);
          piece = partHead;
        } else if (sent < partHead.length + fieldBytes) {
          piece = chunk.subarray(0, Math.min(CHUNK, partHead.length + fieldBytes - sent));
        } else {
          piece = tail;
        }
        sent += piece.length;
        if (!socket.write(piece)) {
          socket.once('drain', write);
          return;
        }
      }
    };
    socket.once('connect', write);
  });
}

async function benchHugeField(signer) {
  process.stderr.write(`a ${FIELD_MIB} MiB text field to /s3file/finalize\n`);
  const stopIdle = sampleRss(signer.pid);
  await sleep(1000);
  const idle = stopIdle();
  const stopDuring = sampleRss(signer.pid);
  const outcome = await postHugeField(signer.url);
  const during = stopDuring();
  await sleep(1000);
  const after = rss(signer.pid);
  return { idle: median(idle), peak: Math.max(...during), samples: during.length, after, outcome };
}

// ---- 2. connections that never finish their request head ----------------------------------------

/** One GET /healthz on a new connection; resolves to its latency in ms. */
function healthz(url) {
  const started = performance.now();
  return new Promise((resolveLatency, reject) => {
    const req = request(`${url}/healthz`, { agent: false, timeout: STEP_TIMEOUT_MS }, (response) => {
      response.resume();
      response.on('end', () => {
        if (response.statusCode !== 200) reject(new Error(`/healthz answered ${response.statusCode}`));
        else resolveLatency(performance.now() - started);
      });
    });
    req.on('timeout', () => req.destroy(new Error('/healthz timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function healthzRound(url) {
  const latencies = [];
  for (let i = 0; i < REQUESTS; i += 1) latencies.push(await healthz(url));
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies) };
}

/** Opens `count` connections that each send part of a request head; resolves once all are open. */
async function holdStalled(url, count) {
  const { hostname, port } = new URL(url);
  const held = [];
  const opened = performance.now();
  for (let i = 0; i < count; i += 1) {
    const socket = connect({ host: hostname, port: Number(port) });
    const entry = { socket, closedAt: null };
    socket.on('close', () => {
      entry.closedAt = performance.now();
    });
    socket.on('error', () => {});
    socket.on('data', () => {});
    await new Promise((resolveOpen, reject) => {
      socket.once('connect', resolveOpen);
      socket.once('error', reject);
    });
    socket.write('GET /healthz HTTP/1.1\r\nHost: signer\r\nUser-Agent: stalled');
    held.push(entry);
  }
  return { held, opened };
}

async function benchStalled(signer) {
  process.stderr.write(`/healthz: ${REQUESTS} requests idle, then with ${STALLED} stalled connections held\n`);
  await healthzRound(signer.url); // warm-up
  const idle = await healthzRound(signer.url);
  const rssBefore = rss(signer.pid);
  const { held, opened } = await holdStalled(signer.url, STALLED);
  const openSeconds = (performance.now() - opened) / 1000;
  const rssHeld = rss(signer.pid);
  const during = await healthzRound(signer.url);
  const measuredBy = (performance.now() - opened) / 1000;
  const openAfterRound = held.filter((entry) => entry.closedAt === null).length;
  const deadline = performance.now() + HOLD_WATCH_MS;
  while (held.some((entry) => entry.closedAt === null) && performance.now() < deadline) await sleep(100);
  const closed = held.filter((entry) => entry.closedAt !== null).map((entry) => (entry.closedAt - opened) / 1000);
  for (const { socket } of held) socket.destroy();
  return { idle, during, rssBefore, rssHeld, openSeconds, measuredBy, openAfterRound, closed };
}

// ---- report -------------------------------------------------------------------------------------

function report({ field, stalled, seconds }) {
  const command = process.env.S3FILE_BENCH_COMMAND ?? 'node tests/bench/hostile.mjs';
  const f = (value, digits = 1) => value.toFixed(digits);
  console.log('Hostile clients');
  console.log();
  console.log(`- date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  console.log(`- machine: ${availableParallelism()} CPUs (nproc), ${cpuModel()}, ${Math.round(totalmem() / 1024 / MIB)} GiB RAM`);
  console.log(`- signer: ${process.env.S3FILE_SIGNER_BIN}, dev mode, default limits, loopback`);
  console.log(`- command: \`${command}\`, ${seconds} s`);
  console.log();
  const { outcome } = field;
  const answer = outcome.status === null
    ? `no answer (${outcome.error?.message ?? 'connection closed'})`
    : `${outcome.status} ${outcome.body.replace(/\s+/g, ' ').slice(0, 120)}`;
  console.log(`A ${FIELD_MIB} MiB text field POSTed to /s3file/finalize as multipart/form-data, streamed (RSS sampled every ${SAMPLE_MS} ms):`);
  console.log();
  console.log('| signer RSS idle MiB | peak while posting MiB | 1 s after MiB | answer | form bytes sent when answered | s |');
  console.log('|---:|---:|---:|---|---:|---:|');
  const sentWhenAnswered = outcome.answeredAfter === null ? '–' : `${f(outcome.answeredAfter / MIB)} MiB of ${f(outcome.total / MIB)} MiB`;
  console.log(`| ${f(field.idle)} | ${f(field.peak)} | ${f(field.after)} | ${answer} | ${sentWhenAnswered} | ${f(outcome.seconds, 2)} |`);
  console.log();
  console.log(`GET /healthz, ${REQUESTS} sequential requests, each on a new connection:`);
  console.log();
  console.log('| while | p50 ms | p99 ms | max ms | signer RSS MiB |');
  console.log('|---|---:|---:|---:|---:|');
  console.log(`| idle | ${f(stalled.idle.p50, 2)} | ${f(stalled.idle.p99, 2)} | ${f(stalled.idle.max, 2)} | ${f(stalled.rssBefore)} |`);
  console.log(`| ${STALLED} connections hold a partial request head | ${f(stalled.during.p50, 2)} | ${f(stalled.during.p99, 2)} | ${f(stalled.during.max, 2)} | ${f(stalled.rssHeld)} |`);
  console.log();
  const { closed } = stalled;
  const closedText = closed.length === 0
    ? `none closed within ${HOLD_WATCH_MS / 1000} s`
    : `${closed.length} of ${STALLED} closed by the signer, ${f(Math.min(...closed))}–${f(Math.max(...closed))} s after the first was opened`;
  console.log(`Opening the ${STALLED} stalled connections took ${f(stalled.openSeconds, 2)} s; the /healthz round ended ${f(stalled.measuredBy, 2)} s after the first, with ${stalled.openAfterRound} still open; ${closedText}.`);
}

async function main() {
  const begun = Date.now();
  const signer = await startDevSigner({ args: ['serve'] });
  try {
    const field = await benchHugeField(signer);
    const stalled = await benchStalled(signer);
    report({ field, stalled, seconds: Math.round((Date.now() - begun) / 1000) });
  } catch (error) {
    process.stderr.write(`the signer printed:\n${signer.output().slice(-4000)}\n`);
    throw error;
  } finally {
    await signer.stop();
  }
}

await main();
