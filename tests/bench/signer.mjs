// The signer's own costs, on loopback, with the release build (S3FILE_SIGNER_BIN) against the
// run's SeaweedFS:
//
// 1. sign: requests/s and latency under `wrk` (tests/bench/sign.lua: the widget's sign request for
//    one file), for the signer and for the same endpoint written with Django + boto3's
//    `generate_presigned_post` under gunicorn (tests/bench/django_sign/), 2 and 4 sync workers;
// 2. credentials: the same load on a signer whose only credentials come from a fake ECS
//    container-credentials endpoint that takes 100 ms to answer, counting how often it is asked,
//    in rounds with signers on static keys (with and without a session token);
// 3. finalize: the server-side copy of a 1 KiB and of a 1 GiB object, uploaded to SeaweedFS with
//    a signed POST, and the signer's resident memory around it.
//
// It prints figures, not verdicts: the only checks are that every request succeeded. Each
// measurement first waits (15 s at most) for processes outside the benchmark to go quiet, and the
// tables say how much CPU they took anyway ("other load %"). Run it through
// `cargo xtask bench signer`, or by hand with what `cargo xtask seaweedfs` prints exported,
// S3FILE_SIGNER_BIN pointing at a release build, S3FILE_BENCH_PYTHON at a Python with
// tests/bench/django_sign/requirements.txt installed and wrk on PATH (or S3FILE_BENCH_WRK).
// Settings: S3FILE_BENCH_SECONDS (each wrk run, default 10), S3FILE_BENCH_CONNECTIONS (default
// 16), S3FILE_BENCH_CREDENTIAL_ROUNDS (default 3), S3FILE_BENCH_FINALIZE_RUNS (per size, default
// 3), S3FILE_BENCH_BIG_MIB (the large object, default 1024).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { availableParallelism, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';

import { answers } from '../e2e/support/service.mjs';
import {
  freePort,
  requireEnv,
  seaweedfsConfig,
  startSeaweedfsSigner,
  startSigner,
} from '../e2e/support/signer.mjs';
import { positiveInteger, sleep, median, cpuModel } from './support.mjs';

const KIB = 1024;
const MIB = 1024 * KIB;
const SECONDS = positiveInteger('S3FILE_BENCH_SECONDS', 10);
const CONNECTIONS = positiveInteger('S3FILE_BENCH_CONNECTIONS', 16);
const FINALIZE_RUNS = positiveInteger('S3FILE_BENCH_FINALIZE_RUNS', 3);
const CREDENTIAL_ROUNDS = positiveInteger('S3FILE_BENCH_CREDENTIAL_ROUNDS', 3);
const BIG_MIB = positiveInteger('S3FILE_BENCH_BIG_MIB', 1024);
const THREADS = 2;
const WARMUP_SECONDS = 2;
const CREDENTIALS_DELAY_MS = 100;
const REQUEST_TIMEOUT_MS = 300_000;
/** Everything, SeaweedFS's start and stop aside, stays well under this. */
const WATCHDOG_MS = 15 * 60_000;

const WRK_SCRIPT = fileURLToPath(new URL('./sign.lua', import.meta.url));
const DJANGO_DIR = fileURLToPath(new URL('./django_sign', import.meta.url));
const WRK = process.env.S3FILE_BENCH_WRK || 'wrk';
const CLOCK_TICKS = 100;
/** Before each measurement, wait (at most QUIET_WAIT_S) for other processes to calm down. */
const QUIET_PERCENT = 10;
const QUIET_WAIT_S = 15;

// Every process this script starts is signalled if it exits early (the watchdog, an exception).
const started = new Set();
process.on('exit', () => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/** Tracks a signer from the e2e helpers like the processes started here; `stop()` untracks it. */
function tracked(signer) {
  started.add(signer.pid);
  return {
    ...signer,
    async stop() {
      await signer.stop();
      started.delete(signer.pid);
    },
  };
}

// ---- CPU and memory of a process, from /proc ----------------------------------------------------

/** User + system CPU seconds of `pids` so far. */
function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields after the command name, which is in parentheses and may hold spaces.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Exited.
    }
  }
  return ticks / CLOCK_TICKS;
}

function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Busy and total CPU ticks of the whole machine, all CPUs together (/proc/stat). */
function machineTicks() {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal (guest time is inside user already)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values.map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/**
 * CPU ticks of the process tree this benchmark belongs to: every live descendant of its parent
 * (`cargo xtask bench signer`, so SeaweedFS too), with what each has collected from the children
 * it reaped (wrk's time is in ours once it exits).
 */
function treeTicks() {
  const processes = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ');
      processes.set(Number(entry), {
        ppid: Number(fields[1]),
        ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
      });
    } catch {
      // Exited meanwhile.
    }
  }
  const children = new Map();
  for (const [pid, { ppid }] of processes) {
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(pid);
  }
  let ticks = 0;
  const pending = [process.ppid];
  while (pending.length > 0) {
    const pid = pending.pop();
    ticks += processes.get(pid)?.ticks ?? 0;
    pending.push(...(children.get(pid) ?? []));
  }
  return ticks;
}

/** Measures, from now on, how much of the machine's CPUs processes outside this benchmark use. */
function othersMeter() {
  const machine = machineTicks();
  const tree = treeTicks();
  return () => {
    const machineNow = machineTicks();
    const others = machineNow.busy - machine.busy - (treeTicks() - tree);
    return Math.max(0, (100 * others) / Math.max(1, machineNow.total - machine.total));
  };
}

/**
 * Waits, at most QUIET_WAIT_S, until processes outside this benchmark (a build, say) use less than
 * QUIET_PERCENT of the CPUs over one second; returns their share when it stopped waiting.
 */
async function waitForQuiet() {
  const deadline = Date.now() + QUIET_WAIT_S * 1000;
  for (;;) {
    const meter = othersMeter();
    await sleep(1000);
    const others = meter();
    if (others < QUIET_PERCENT || Date.now() > deadline) {
      if (others >= QUIET_PERCENT) {
        process.stderr.write(`  other processes still use ${others.toFixed(0)} % of the CPUs after ${QUIET_WAIT_S} s: measuring anyway\n`);
      }
      return others;
    }
  }
}

/** VmRSS and VmHWM (peak resident set) of a process, in MiB. */
function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))[1]);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

// ---- wrk ---------------------------------------------------------------------------------------

/** One wrk run against `url`; resolves to its JSON summary. */
async function wrk(url, seconds) {
  const args = [`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, '--timeout', '5s', '-s', WRK_SCRIPT, url];
  const child = spawn(WRK, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  started.delete(child.pid);
  const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (code !== 0 || !line) {
    throw new Error(`${WRK} ${args.join(' ')} exited with ${code}:\n${stdout}\n${stderr}`);
  }
  const summary = JSON.parse(line.slice('WRK_JSON '.length));
  const failed = summary.status_errors + summary.connect_errors + summary.timeouts;
  if (summary.requests === 0 || failed > 0) {
    throw new Error(`wrk against ${url}: ${summary.requests} requests, ${failed} failed or timed out:\n${stdout}`);
  }
  return summary;
}

/**
 * A warm-up wrk run, then the timed one; adds the CPU time the server's processes used during
 * the timed run.
 */
async function load(name, url, serverPids) {
  process.stderr.write(`  ${name}: warm-up ${WARMUP_SECONDS} s, then ${SECONDS} s\n`);
  await waitForQuiet();
  await wrk(url, WARMUP_SECONDS);
  const cpuBefore = cpuSeconds(serverPids());
  const others = othersMeter();
  const summary = await wrk(url, SECONDS);
  const cpu = cpuSeconds(serverPids()) - cpuBefore;
  return {
    name,
    ...summary,
    rps: summary.requests / (summary.duration_us / 1e6),
    serverCpuUs: (cpu * 1e6) / summary.requests,
    othersPercent: others(),
  };
}

// ---- Django under gunicorn ----------------------------------------------------------------------

async function startGunicorn(workers, s3) {
  const python = requireEnv('S3FILE_BENCH_PYTHON');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [
    '-m', 'gunicorn',
    '--workers', String(workers),
    '--worker-class', 'sync',
    '--bind', `127.0.0.1:${port}`,
    '--chdir', DJANGO_DIR,
    '--no-control-socket',
    '--graceful-timeout', '3',
    'signapp:application',
  ];
  const child = spawn(python, args, {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      S3FILE_SECRET_KEY: randomBytes(32).toString('hex'),
      AWS_STORAGE_BUCKET_NAME: s3.bucket,
      AWS_S3_ENDPOINT_URL: s3.endpoint,
      AWS_S3_REGION_NAME: s3.region,
      AWS_ACCESS_KEY_ID: s3.accessKey,
      AWS_SECRET_ACCESS_KEY: s3.secretKey,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child.pid);
  let printed = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (printed += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (printed += chunk));
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    started.delete(child.pid);
  };
  const deadline = Date.now() + 30_000;
  // Ready once every worker has booted and answers.
  while (childPids(child.pid).length < workers || !(await answers(`${url}/healthz`))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`gunicorn (${python} ${args.join(' ')}) did not start:\n${printed}`);
    }
    await sleep(100);
  }
  return { url, pid: child.pid, pids: () => [child.pid, ...childPids(child.pid)], stop, output: () => printed };
}

// ---- the fake ECS container-credentials endpoint ------------------------------------------------

const CONTAINER_KEY_ID = 'ASIABENCHCONTAINERKEY';

/** Answers every GET after CREDENTIALS_DELAY_MS with credentials valid for an hour; counts calls. */
async function startCredentialsEndpoint() {
  const endpoint = { calls: 0 };
  const server = createServer((req, res) => {
    endpoint.calls += 1;
    setTimeout(() => {
      const body = JSON.stringify({
        AccessKeyId: CONTAINER_KEY_ID,
        SecretAccessKey: randomBytes(20).toString('hex'),
        Token: `bench-session-token-${endpoint.calls}`,
        Expiration: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
      });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    }, CREDENTIALS_DELAY_MS);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  endpoint.url = `http://127.0.0.1:${server.address().port}/creds`;
  endpoint.close = () => new Promise((resolveClose) => server.close(resolveClose));
  return endpoint;
}

// ---- sign, upload, finalize ---------------------------------------------------------------------

async function sign(signer, name, size, type) {
  const response = await fetch(`${signer.url}/s3file/sign`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ field: 'file', files: [{ name, size, type }] }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`sign answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

/**
 * POSTs `size` bytes to the store with the signed fields, streamed from memory: every MiB is
 * distinct (a random block with the MiB's number in front), so nothing in the store can share
 * chunks. Resolves to the seconds it took.
 */
async function upload(signed, size, type) {
  const boundary = `s3filebench${randomBytes(12).toString('hex')}`;
  const block = randomBytes(Math.min(size, MIB));
  // The file's chunks; read twice: for the checksum the policy requires, then to send.
  const chunks = function* () {
    for (let offset = 0, n = 0; offset < size; offset += block.length, n += 1) {
      const chunk = Buffer.allocUnsafe(Math.min(block.length, size - offset));
      block.copy(chunk);
      if (chunk.length >= 8) chunk.writeBigUInt64LE(BigInt(n), 0);
      yield chunk;
    }
  };
  let crc = 0;
  for (const chunk of chunks()) crc = crc32(chunk, crc);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc);
  const fields = { ...signed.fields, 'x-amz-checksum-crc32': checksum.toString('base64') };
  let head = '';
  for (const [name, value] of Object.entries(fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${signed.name}"\r\nContent-Type: ${type}\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const url = new URL(signed.url);
  const begun = performance.now();
  const req = request({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    headers: {
      'Content-Type': `multipart/form-data; boundary=${boundary}`,
      'Content-Length': Buffer.byteLength(head) + size + Buffer.byteLength(tail),
    },
    timeout: REQUEST_TIMEOUT_MS,
  });
  const answered = new Promise((resolveAnswer, reject) => {
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk) => (body += chunk));
      res.once('end', () => resolveAnswer({ status: res.statusCode, body }));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.once('timeout', () => req.destroy(new Error(`no answer from ${signed.url} within ${REQUEST_TIMEOUT_MS} ms`)));
  });
  req.write(head);
  for (const chunk of chunks()) {
    if (!req.write(chunk)) await Promise.race([once(req, 'drain'), answered]);
  }
  req.end(tail);
  const { status, body } = await answered;
  const seconds = (performance.now() - begun) / 1000;
  if (status !== 201 || !body.includes(signed.key)) {
    throw new Error(`the store answered ${status} for ${signed.key}: ${body.slice(0, 500)}`);
  }
  return seconds;
}

/** POST /s3file/finalize as the widget's form does; resolves to {seconds, file}. */
async function finalize(signer, key, signature) {
  const body = new URLSearchParams([['s3file', 'file'], ['file', key], ['file-s3f-signature', signature]]);
  const begun = performance.now();
  const response = await fetch(`${signer.url}/s3file/finalize`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: body.toString(),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  const seconds = (performance.now() - begun) / 1000;
  if (response.status !== 200) throw new Error(`finalize answered ${response.status}: ${text}`);
  return { seconds, file: JSON.parse(text).files.file[0] };
}

/** Deletes finalized objects with boto3 from the bench venv, so 1 GiB objects do not pile up. */
function deleteObjects(s3, keys) {
  const code = [
    'import json, os, sys, boto3',
    'from botocore.config import Config',
    "c = boto3.client('s3', endpoint_url=os.environ['E'], region_name=os.environ['R'], aws_access_key_id=os.environ['A'], aws_secret_access_key=os.environ['S'], config=Config(s3={'addressing_style': 'path'}))",
    "for key in json.loads(sys.argv[1]): c.delete_object(Bucket=os.environ['B'], Key=key)",
  ].join('\n');
  execFileSync(requireEnv('S3FILE_BENCH_PYTHON'), ['-c', code, JSON.stringify(keys)], {
    env: { PATH: process.env.PATH, E: s3.endpoint, R: s3.region, A: s3.accessKey, S: s3.secretKey, B: s3.bucket },
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 60_000,
  });
}

/** Sign, upload, finalize one object of `size` bytes; resolves to the seconds of each step. */
async function cycle(signer, s3, name, size) {
  const type = 'application/octet-stream';
  const others = othersMeter();
  const signed = await sign(signer, name, size, type);
  const file = signed.files[0];
  const uploadSeconds = await upload(file, size, type);
  const done = await finalize(signer, file.key, signed.signature);
  if (done.file.size !== size) {
    throw new Error(`finalize reports ${done.file.size} bytes for ${file.key}, not ${size}: ${JSON.stringify(done.file)}`);
  }
  const othersPercent = others();
  deleteObjects(s3, [done.file.key]);
  return { upload: uploadSeconds, finalize: done.seconds, othersPercent };
}

// ---- the three parts ----------------------------------------------------------------------------

async function benchSign(s3) {
  process.stderr.write('sign throughput\n');
  const rows = [];
  const signer = tracked(await startSeaweedfsSigner({ args: ['serve'] }));
  try {
    rows.push(await load('s3file-signer (release)', `${signer.url}/s3file/sign`, () => [signer.pid]));
  } finally {
    await signer.stop();
  }
  for (const workers of [2, 4]) {
    const django = await startGunicorn(workers, s3);
    try {
      rows.push(await load(`Django + boto3, gunicorn ${workers} sync workers`, `${django.url}/s3file/sign`, django.pids));
    } catch (error) {
      process.stderr.write(`gunicorn printed:\n${django.output().slice(-4000)}\n`);
      throw error;
    } finally {
      await django.stop();
    }
  }
  return rows;
}

async function benchCredentials(s3) {
  process.stderr.write(`credentials: ${CREDENTIAL_ROUNDS} rounds of static keys, static keys + token, container endpoint\n`);
  const endpoint = await startCredentialsEndpoint();
  const signers = [];
  try {
    signers.push({ name: 'static keys (AWS_ACCESS_KEY_ID)', signer: tracked(await startSeaweedfsSigner({ args: ['serve'] })) });
    // The endpoint's credentials carry a session token, which every policy then includes: static
    // keys with a token of the same length are the like-for-like comparison.
    signers.push({
      name: 'static keys + AWS_SESSION_TOKEN',
      signer: tracked(await startSeaweedfsSigner({ args: ['serve'], env: { AWS_SESSION_TOKEN: 'bench-session-token-1' } })),
    });
    const container = tracked(await startSigner({
      args: ['serve'],
      env: {
        AWS_STORAGE_BUCKET_NAME: s3.bucket,
        AWS_S3_ENDPOINT_URL: s3.endpoint,
        AWS_S3_REGION_NAME: s3.region,
        AWS_S3_ADDRESSING_STYLE: 'path',
        AWS_CONTAINER_CREDENTIALS_FULL_URI: endpoint.url,
        // No keys anywhere else in the default chain.
        AWS_CONFIG_FILE: '/nonexistent/s3file-bench/config',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/s3file-bench/credentials',
      },
    }));
    signers.push({ name: 'container endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI)', signer: container, endpoint: true });

    const callsAtStart = endpoint.calls;
    const begun = performance.now();
    const first = await sign(container, 'holiday.jpg', MIB, 'image/jpeg');
    const firstMs = performance.now() - begun;
    const credential = first.files[0].fields['x-amz-credential'] ?? '';
    if (!credential.startsWith(`${CONTAINER_KEY_ID}/`) || !first.files[0].fields['x-amz-security-token']) {
      throw new Error(`the policy is not signed with the endpoint's credentials: ${JSON.stringify(first.files[0].fields)}`);
    }
    const runs = new Map(signers.map(({ name }) => [name, []]));
    for (let round = 0; round < CREDENTIAL_ROUNDS; round += 1) {
      // The order rotates, so no variant always runs first.
      for (let i = 0; i < signers.length; i += 1) {
        const { name, signer } = signers[(i + round) % signers.length];
        runs.get(name).push(await load(`${name}, round ${round + 1}`, `${signer.url}/s3file/sign`, () => [signer.pid]));
      }
    }
    const rows = signers.map(({ name, endpoint: isEndpoint }) => ({ name, runs: runs.get(name), isEndpoint }));
    return { rows, callsAtStart, firstMs, calls: endpoint.calls };
  } catch (error) {
    for (const { signer } of signers) process.stderr.write(`a signer printed:\n${signer.output().slice(-2000)}\n`);
    throw error;
  } finally {
    for (const { signer } of signers) await signer.stop();
    await endpoint.close();
  }
}

async function benchFinalize(s3) {
  const bigSize = BIG_MIB * MIB;
  const sizes = [
    { label: '1 KiB', size: KIB, name: 'bench-1KiB.bin' },
    { label: BIG_MIB % 1024 === 0 ? `${BIG_MIB / 1024} GiB` : `${BIG_MIB} MiB`, size: bigSize, name: `bench-${BIG_MIB}MiB.bin` },
  ];
  process.stderr.write(`finalize, ${FINALIZE_RUNS} runs of each size\n`);
  const signer = tracked(await startSeaweedfsSigner({ args: ['serve'] }));
  try {
    // Warm-up: connections to SeaweedFS, the first copy.
    await cycle(signer, s3, 'bench-warmup.bin', KIB);
    await waitForQuiet();
    const before = memory(signer.pid);
    const samples = new Map(sizes.map(({ label }) => [label, []]));
    for (let run = 0; run < FINALIZE_RUNS; run += 1) {
      for (const { label, size, name } of sizes) {
        samples.get(label).push(await cycle(signer, s3, name, size));
        process.stderr.write('.');
      }
    }
    process.stderr.write('\n');
    const after = memory(signer.pid);
    return { sizes, samples, before, after };
  } catch (error) {
    process.stderr.write(`the signer printed:\n${signer.output().slice(-4000)}\n`);
    throw error;
  } finally {
    await signer.stop();
  }
}

// ---- report -------------------------------------------------------------------------------------

const ms = (us) => (us / 1000).toFixed(2);

function versions() {
  // `wrk -v` prints its version and usage, and exits with 1.
  const wrkVersion = spawnSync(WRK, ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0];
  const python = execFileSync(
    requireEnv('S3FILE_BENCH_PYTHON'),
    ['-c', 'import sys, django, boto3, gunicorn; print(f"Python {sys.version.split()[0]}, Django {django.__version__}, boto3 {boto3.__version__}, gunicorn {gunicorn.__version__}")'],
    { encoding: 'utf8' },
  ).trim();
  return { wrk: wrkVersion.replace(/\s*Copyright.*$/, '').trim(), python };
}

function report({ signRows, credentials, finalized, seconds, tools }) {
  const command = process.env.S3FILE_BENCH_COMMAND ?? 'node tests/bench/signer.mjs';
  console.log('Signer benchmark');
  console.log();
  console.log(`- date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  console.log(`- machine: ${availableParallelism()} CPUs (nproc), ${cpuModel()}, ${Math.round(totalmem() / 1024 / MIB)} GiB RAM; wrk, the server under test and SeaweedFS share the CPUs`);
  console.log(`- signer: ${process.env.S3FILE_SIGNER_BIN}, S3 mode against SeaweedFS on loopback (sign does not talk to S3)`);
  console.log(`- tools: ${tools.wrk}; ${tools.python}`);
  console.log(`- load: \`wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s -s tests/bench/sign.lua\` after a ${WARMUP_SECONDS} s warm-up; one file per sign request`);
  console.log(`- command: \`${command}\`, ${seconds} s`);
  console.log(`- other load %: the share of the ${availableParallelism()} CPUs that processes outside the benchmark (a build, say) used during the measurement; before each measurement it waits up to ${QUIET_WAIT_S} s for that share to fall under ${QUIET_PERCENT} %`);
  console.log();

  const [signer] = signRows;
  console.log('| server | req/s | p50 ms | p90 ms | p99 ms | max ms | server CPU µs/req | signer req/s ÷ this | other load % |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of signRows) {
    console.log(
      `| ${row.name} | ${row.rps.toFixed(0)} | ${ms(row.p50_us)} | ${ms(row.p90_us)} | ${ms(row.p99_us)} | ${ms(row.max_us)} | ${row.serverCpuUs.toFixed(0)} | ${(signer.rps / row.rps).toFixed(1)} | ${row.othersPercent.toFixed(0)} |`,
    );
  }
  console.log();

  console.log(
    `Credentials: static keys vs a container-credentials endpoint that answers after ${CREDENTIALS_DELAY_MS} ms (credentials valid 1 h); ${CREDENTIAL_ROUNDS} rounds, the order rotating, median (min–max) over rounds`,
  );
  console.log();
  console.log('| credentials | req/s | p50 ms | p99 ms | max ms | requests | endpoint calls | other load % |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const { name, runs, isEndpoint } of credentials.rows) {
    const spread = (values, digits) =>
      `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
    const requests = runs.reduce((sum, run) => sum + run.requests, 0);
    console.log(
      `| ${name} | ${spread(runs.map((r) => r.rps), 0)} | ${ms(median(runs.map((r) => r.p50_us)))} | ${spread(runs.map((r) => r.p99_us / 1000), 2)} | ${ms(Math.max(...runs.map((r) => r.max_us)))} | ${requests} | ${isEndpoint ? credentials.calls : '–'} | ${Math.max(...runs.map((r) => r.othersPercent)).toFixed(0)} |`,
    );
  }
  console.log();
  console.log(`The endpoint was called ${credentials.callsAtStart} times by start-up and ${credentials.calls} times in all (the first sign request, then every warm-up and timed run); the first sign request took ${credentials.firstMs.toFixed(0)} ms. Other load % is the largest of the rounds.`);
  console.log();

  const { sizes, samples, before, after } = finalized;
  console.log(`Finalize (server-side copy and delete in SeaweedFS), ${FINALIZE_RUNS} runs per size, interleaved, median (min–max)`);
  console.log();
  console.log('| object | finalize s | upload s (not the signer) | other load % |');
  console.log('|---|---:|---:|---:|');
  for (const { label } of sizes) {
    const runs = samples.get(label);
    const cell = (values) => `${median(values).toFixed(3)} (${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)})`;
    console.log(`| ${label} | ${cell(runs.map((r) => r.finalize))} | ${cell(runs.map((r) => r.upload))} | ${median(runs.map((r) => r.othersPercent)).toFixed(0)} |`);
  }
  console.log();
  console.log(`Signer memory: RSS ${before.rss.toFixed(1)} MiB before the first large object, ${after.rss.toFixed(1)} MiB after the last; peak RSS (VmHWM) over the signer's life ${after.peak.toFixed(1)} MiB.`);
}

async function main() {
  const watchdog = setTimeout(() => {
    console.error(`the signer benchmark did not finish within ${WATCHDOG_MS / 60_000} minutes: stopping`);
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  requireEnv('S3FILE_SIGNER_BIN');
  requireEnv('S3FILE_BENCH_PYTHON');
  const s3 = seaweedfsConfig();
  const tools = versions();
  const begun = Date.now();
  const signRows = await benchSign(s3);
  const credentials = await benchCredentials(s3);
  const finalized = await benchFinalize(s3);
  report({ signRows, credentials, finalized, seconds: Math.round((Date.now() - begun) / 1000), tools });
}

await main();
