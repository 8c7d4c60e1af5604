// A TCP proxy that breaks some of the HTTP requests it carries, on purpose and reproducibly.
//
// It sits between the browser and a store, reads the request heads that pass (method, path,
// Content-Length) and, for each request `faultable` accepts, draws a plan from a seeded PRNG:
//
//   pass      forward the request and its answer untouched
//   reset     forward the head and part of the body, then reset the browser's connection (RST)
//   stall     forward the head and part of the body, then forward nothing more for `stallMs`,
//             then reset the connection (`stallMs: Infinity` never resets: the request hangs
//             until the proxy closes)
//   error500  answer `500 InternalError` instead of forwarding (after reading the body)
//   error503  answer `503 SlowDown` instead of forwarding (after reading the body)
//
// The 5xx answers carry `Connection: close`, a small S3-style XML body and
// `Access-Control-Allow-Origin: *`, so a cross-origin page sees their status. Requests
// `faultable` refuses (by default CORS preflights, `OPTIONS`) always pass. Plans are drawn in
// the order request heads arrive, so the same seed gives the same sequence of plans; which
// request gets which plan depends on that order. No dependencies but Node's own.
import { connect, createServer } from 'node:net';

export const FAULT_KINDS = ['reset', 'stall', 'error500', 'error503'];
export const PLAN_KINDS = ['pass', ...FAULT_KINDS];

/** A mix of plans by weight; the weights need not add up to 1. */
export const DEFAULT_MIX = { pass: 0.6, reset: 0.1, stall: 0.1, error500: 0.1, error503: 0.1 };

const MAX_HEAD_BYTES = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

const ERRORS = {
  error500: {
    status: '500 Internal Server Error',
    code: 'InternalError',
    message: 'We encountered an internal error. Please try again.',
  },
  error503: {
    status: '503 Service Unavailable',
    code: 'SlowDown',
    message: 'Please reduce your request rate.',
  },
};

const SNIFF_BYTES = 16 * 1024;
const FILE_NAME = /filename="([^"\r\n]*)"/;

/** Notes the name of the file a multipart body carries, from the bytes at hand of its start. */
function sniffName(plan, chunk) {
  if (plan.entry.name !== null || plan.sniffed.length >= SNIFF_BYTES) return;
  plan.sniffed = Buffer.concat([plan.sniffed, chunk.subarray(0, SNIFF_BYTES - plan.sniffed.length)]);
  const match = FILE_NAME.exec(plan.sniffed.toString('latin1'));
  if (match) plan.entry.name = match[1];
}

/** A 32-bit seed from a number or a string. */
export function parseSeed(value) {
  const number = Number(value);
  if (Number.isInteger(number)) return number >>> 0;
  let hash = 2166136261;
  for (const char of String(value)) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619);
  return hash >>> 0;
}

/** mulberry32: a small, fast PRNG; `next()` returns a float in [0, 1). */
export function prng(seed) {
  let state = parseSeed(seed);
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** An integer in [0, bound). */
    below: (bound) => Math.floor(next() * bound),
  };
}

/**
 * Starts the proxy on 127.0.0.1 (a free port) in front of `target` (`{host, port}` or a URL).
 * Options:
 * - `seed` (number or string): the PRNG's seed.
 * - `mix`: weight of each plan kind (see DEFAULT_MIX); missing kinds weigh 0.
 * - `cover`: the first faultable requests take each fault kind of the mix once, in a seeded
 *   order, so a short run injects every kind; then plans are drawn by weight.
 * - `stallMs`: how long a stall lasts before the reset (Infinity: until `close()`).
 * - `faultable({method, path, headers})`: which requests may be broken (default: all but
 *   CORS preflights).
 * Resolves to `{host, port, url, seed, stats(), log, close()}`: `stats()` counts, per kind, the
 * plans carried out (a fault counts once it happened), and `exempt` requests and `connections`;
 * `log` lists each plan: `{request, connection, method, path, kind, at, length, name}` (`at`:
 * body bytes forwarded before the fault; `name`: the file name of a multipart body, when its
 * first 16 KiB that reached the proxy say it).
 */
export async function startFaultyProxy({
  target,
  seed = 1,
  mix = DEFAULT_MIX,
  cover = false,
  stallMs = 2_000,
  faultable = ({ method }) => method !== 'OPTIONS',
} = {}) {
  const { host: targetHost, port: targetPort } = parseTarget(target);
  const random = prng(seed);
  const weights = PLAN_KINDS.map((kind) => Math.max(0, mix[kind] ?? 0));
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  if (!(totalWeight > 0)) throw new Error('the fault mix has no weight');
  for (const kind of Object.keys(mix)) {
    if (!PLAN_KINDS.includes(kind)) throw new Error(`unknown plan kind ${kind}`);
  }
  // With `cover`, every fault kind of the mix comes first, in a seeded order.
  const upfront = cover ? shuffle(FAULT_KINDS.filter((kind) => (mix[kind] ?? 0) > 0), random) : [];

  const counts = Object.fromEntries([...PLAN_KINDS, 'exempt', 'connections'].map((kind) => [kind, 0]));
  const log = [];
  const sockets = new Set();
  const timers = new Set();
  let requests = 0;
  let connections = 0;

  function draw() {
    if (upfront.length > 0) return upfront.shift();
    let roll = random.next() * totalWeight;
    for (const [index, weight] of weights.entries()) {
      if (roll < weight) return PLAN_KINDS[index];
      roll -= weight;
    }
    return PLAN_KINDS[weights.findLastIndex((weight) => weight > 0)];
  }

  function handle(client) {
    const connection = ++connections;
    counts.connections += 1;
    sockets.add(client);
    let upstream = null;
    let buffered = Buffer.alloc(0);
    // 'head': reading a request head; 'body': forwarding or swallowing a body; 'opaque': no
    // longer parsing (chunked bodies, oversized heads); 'dead': the connection is being broken.
    let state = 'head';
    let plan = null;

    const toUpstream = (chunk) => {
      if (!upstream) {
        upstream = connect(targetPort, targetHost);
        sockets.add(upstream);
        const socket = upstream;
        // A normal end of the store's side ends the browser's through the pipe; an abrupt one
        // drops the browser's connection too.
        socket.on('error', () => client.destroy());
        socket.on('close', () => sockets.delete(socket));
        socket.pipe(client);
      }
      if (chunk.length > 0) upstream.write(chunk);
    };

    const breakConnection = () => {
      state = 'dead';
      if (!client.destroyed) client.resetAndDestroy();
      upstream?.destroy();
    };

    client.on('error', () => upstream?.destroy());
    client.on('close', () => {
      sockets.delete(client);
      upstream?.destroy();
    });
    client.on('end', () => {
      if (state !== 'dead') upstream?.end();
    });
    client.on('data', (chunk) => {
      buffered = buffered.length > 0 ? Buffer.concat([buffered, chunk]) : chunk;
      while (buffered.length > 0 && state !== 'dead') {
        if (state === 'opaque') {
          toUpstream(buffered);
          buffered = Buffer.alloc(0);
        } else if (state === 'head') {
          const end = buffered.indexOf(HEAD_END);
          if (end < 0) {
            if (buffered.length <= MAX_HEAD_BYTES) return;
            state = 'opaque';
            continue;
          }
          const head = buffered.subarray(0, end + HEAD_END.length);
          buffered = buffered.subarray(head.length);
          plan = startRequest(head, connection);
          if (plan.kind === 'pass' || plan.kind === 'reset' || plan.kind === 'stall') toUpstream(head);
          if (plan.chunked) state = 'opaque';
          else if (!settle()) state = 'body';
        } else {
          // state === 'body'
          sniffName(plan, buffered.subarray(0, plan.remaining));
          let take = Math.min(buffered.length, plan.remaining);
          if (plan.faultAt !== undefined) take = Math.min(take, plan.faultAt - plan.forwarded);
          const part = buffered.subarray(0, take);
          buffered = buffered.subarray(take);
          plan.remaining -= take;
          plan.forwarded += take;
          if (plan.kind !== 'error500' && plan.kind !== 'error503') toUpstream(part);
          if (settle()) state = state === 'dead' ? 'dead' : 'head';
        }
      }
    });

    /** Carries out what the plan does once its body is where it should be; whether the request is over. */
    function settle() {
      if (plan.faultAt !== undefined && plan.forwarded >= plan.faultAt) {
        if (plan.kind === 'reset') {
          plan.entry.at = plan.forwarded;
          counts.reset += 1;
          breakConnection();
        } else {
          plan.entry.at = plan.forwarded;
          counts.stall += 1;
          state = 'dead';
          // Stop reading: what the browser sends from now on waits in socket buffers (which on
          // loopback may hold a whole body of a few MiB, so its upload can look complete), and
          // nothing comes back. The store, left with part of a body, is let go at once.
          client.pause();
          upstream?.unpipe(client);
          upstream?.destroy();
          if (Number.isFinite(stallMs)) {
            const timer = setTimeout(() => {
              timers.delete(timer);
              breakConnection();
            }, stallMs);
            timers.add(timer);
          }
        }
        return true;
      }
      if (plan.remaining > 0) return false;
      if (plan.kind === 'error500' || plan.kind === 'error503') {
        counts[plan.kind] += 1;
        state = 'dead';
        client.end(errorResponse(plan.kind, plan.entry.request));
        upstream?.destroy();
      } else if (plan.kind === 'pass') {
        counts[plan.exempt ? 'exempt' : 'pass'] += 1;
      }
      return true;
    }
  }

  /** Reads a request head and draws its plan. */
  function startRequest(head, connection) {
    const lines = head.toString('latin1').split('\r\n');
    const [method = '', path = ''] = lines[0].split(' ');
    const headers = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const chunked = /chunked/i.test(headers['transfer-encoding'] ?? '');
    const length = chunked ? 0 : Number.parseInt(headers['content-length'] ?? '0', 10) || 0;
    const exempt = chunked || !faultable({ method, path, headers });
    const kind = exempt ? 'pass' : draw();
    const request = ++requests;
    const entry = { request, connection, method, path, kind: exempt ? 'exempt' : kind, at: null, length, name: null };
    log.push(entry);
    const plan = { kind, exempt, chunked, remaining: length, forwarded: 0, entry, sniffed: Buffer.alloc(0) };
    if (kind === 'reset' || kind === 'stall') {
      // Somewhere in the body: at least one byte passes when there is a body, and never all of it.
      plan.faultAt = length > 1 ? 1 + random.below(length - 1) : 0;
    }
    if (chunked) counts.exempt += 1;
    return plan;
  }

  const server = createServer(handle);
  await new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolveListen);
  });
  const { port } = server.address();

  return {
    host: '127.0.0.1',
    port,
    url: `http://127.0.0.1:${port}`,
    seed: parseSeed(seed),
    log,
    stats: () => ({ ...counts }),
    /** Stops listening, ends stalls and drops every connection. */
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise((resolveClose) => server.close(resolveClose));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function errorResponse(kind, request) {
  const { status, code, message } = ERRORS[kind];
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>faulty-proxy-${request}</RequestId></Error>`;
  return [
    `HTTP/1.1 ${status}`,
    'Content-Type: application/xml',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    'Access-Control-Allow-Origin: *',
    '',
    body,
  ].join('\r\n');
}

function parseTarget(target) {
  if (typeof target === 'string') {
    const url = new URL(target);
    return { host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
  }
  if (!target?.port) throw new Error('the proxy needs a target {host, port} or URL');
  return { host: target.host ?? '127.0.0.1', port: Number(target.port) };
}

function shuffle(items, random) {
  const shuffled = [...items];
  for (let i = shuffled.length - 1; i > 0; i -= 1) {
    const j = random.below(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  return shuffled;
}
