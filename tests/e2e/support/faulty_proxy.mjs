// A TCP proxy that breaks some of the HTTP requests it carries, on purpose and reproducibly.
//
// It sits between the browser and a store (or serves the browser as its HTTP proxy, forwarding
// every request to the one target), reads the request heads that pass (method, path,
// Content-Length) and, for each request `faultable` accepts, draws a plan from a seeded PRNG:
//
//   pass      forward the request and its answer untouched
//   reset     forward the head and part of the body, then reset the browser's connection (RST)
//   stall     forward the head and part of the body, then forward nothing more for `stallMs`,
//             then reset the connection (`stallMs: Infinity` never resets)
//   hang      a stall that never ends: the request hangs until the browser gives up on it or
//             the proxy closes
//   error500  answer `500 InternalError` instead of forwarding (after reading the body)
//   error503  answer `503 SlowDown` instead of forwarding (after reading the body)
//   corrupt   forward the request with one bit of the file flipped: its last byte, before the
//             closing boundary of a multipart/form-data body (never drawn unless the mix
//             names it: a store that checks no checksum would keep the bytes)
//
// The 5xx answers carry `Connection: close`, a small S3-style XML body and
// `Access-Control-Allow-Origin: *`, so a cross-origin page sees their status. Requests
// `faultable` refuses (by default CORS preflights, `OPTIONS`) always pass. Plans are drawn in
// the order request heads arrive, so the same seed gives the same sequence of plans; which
// request gets which plan depends on that order. `choose` may impose a plan on a request
// instead (without drawing). Each request is logged with the file it carries: the `filename` of
// a multipart/form-data body (a reset, stall or hang of such a body waits until the proxy has
// seen it), or the last segment of a PUT's path (a presigned PUT or an S3 part, whose path is the
// key), with the part number and upload id of a part. No dependencies but Node's own.
import { connect, createServer } from 'node:net';

export const FAULT_KINDS = ['reset', 'stall', 'hang', 'error500', 'error503'];
export const PLAN_KINDS = ['pass', ...FAULT_KINDS, 'corrupt'];

/** A mix of plans by weight; the weights need not add up to 1. */
export const DEFAULT_MIX = { pass: 0.6, reset: 0.1, stall: 0.08, hang: 0.02, error500: 0.1, error503: 0.1 };

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
  if (!plan.sniffing || plan.entry.name !== null || plan.sniffed.length >= SNIFF_BYTES) return;
  plan.sniffed = Buffer.concat([plan.sniffed, chunk.subarray(0, SNIFF_BYTES - plan.sniffed.length)]);
  const match = FILE_NAME.exec(plan.sniffed.toString('latin1'));
  if (match) plan.entry.name = match[1];
}

/** Where in the body a reset or stall happens: `faultAt`, but not before the file name of a
 *  multipart body has come by (or the proxy gave up looking for it); `undefined` until then,
 *  and for other plans. */
function faultPoint(plan) {
  if (plan.faultAt === undefined) return undefined;
  const looking =
    plan.awaitName && plan.entry.name === null && plan.sniffed.length < Math.min(SNIFF_BYTES, plan.entry.length);
  return looking ? undefined : plan.faultAt;
}

/** A request target as a path: browsers send their HTTP proxy absolute URLs. */
function originForm(target) {
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
  if (!absolute) return target;
  const rest = target.slice(absolute[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/** What the path says about the file a request carries: a PUT's name (the key's last
 *  segment), and the part number and upload id of an S3 part. */
function describePath(method, path) {
  let url;
  try {
    url = new URL(path, 'http://proxy.invalid');
  } catch {
    return { name: null, part: null, uploadId: null };
  }
  let name = null;
  if (method === 'PUT') {
    try {
      name = decodeURIComponent(url.pathname.split('/').at(-1)) || null;
    } catch {
      name = url.pathname.split('/').at(-1) || null;
    }
  }
  const part = Number.parseInt(url.searchParams.get('partNumber') ?? '', 10);
  return { name, part: Number.isInteger(part) ? part : null, uploadId: url.searchParams.get('uploadId') };
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
 *   CORS preflights). `path` is always origin-form (`/bucket/key?query`).
 * - `choose({method, path, headers, name, part, uploadId})`: a plan kind to impose on a
 *   faultable request, or undefined to draw one; it draws nothing from the PRNG. `name` is
 *   known here for PUTs only (a POST's comes with its body).
 * Resolves to `{host, port, url, seed, stats(), log, close()}`: `stats()` counts, per kind, the
 * plans carried out (a fault counts once it happened), and `exempt` requests and `connections`;
 * `log` lists each plan: `{request, connection, reuse, method, path, kind, forced, at, length,
 * name, part, uploadId, status, time}` (`reuse`: requests the connection carried before; `at`:
 * body bytes forwarded before the fault; `name`: the file's name, see above, when known; `part`,
 * `uploadId`: those of an S3 part, else null; `status`: the HTTP status the browser got, null
 * when none came; `time`: when the head arrived, in Unix milliseconds).
 */
export async function startFaultyProxy({
  target,
  seed = 1,
  mix = DEFAULT_MIX,
  cover = false,
  stallMs = 2_000,
  faultable = ({ method }) => method !== 'OPTIONS',
  choose = () => undefined,
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
    let carried = 0;
    // The start of the store's answer to the current request, until its status line is read.
    let answer = Buffer.alloc(0);

    /** Notes the status of the store's answer to the current request. Requests on one
     *  connection take turns (browsers do not pipeline), so an answer is the current plan's. */
    const readStatus = (chunk) => {
      if (!plan || plan.entry.status !== null || answer.length >= 16) return;
      answer = Buffer.concat([answer, chunk.subarray(0, 16 - answer.length)]);
      const status = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(answer.toString('latin1'));
      if (status) plan.entry.status = Number(status[1]);
    };

    const toUpstream = (chunk) => {
      if (!upstream) {
        upstream = connect(targetPort, targetHost);
        sockets.add(upstream);
        const socket = upstream;
        // A normal end of the store's side ends the browser's through the pipe; an abrupt one
        // drops the browser's connection too.
        socket.on('error', () => client.destroy());
        socket.on('close', () => sockets.delete(socket));
        socket.on('data', readStatus);
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
          plan = startRequest(head, connection, carried++);
          answer = Buffer.alloc(0);
          if (!plan.kind.startsWith('error')) toUpstream(head);
          if (plan.chunked) state = 'opaque';
          else if (!settle()) state = 'body';
        } else {
          // state === 'body'
          sniffName(plan, buffered.subarray(0, plan.remaining));
          let take = Math.min(buffered.length, plan.remaining);
          const faultAt = faultPoint(plan);
          if (faultAt !== undefined) take = Math.max(0, Math.min(take, faultAt - plan.forwarded));
          let part = buffered.subarray(0, take);
          const flip = plan.corruptAt - plan.forwarded;
          if (flip >= 0 && flip < take) {
            part = Buffer.from(part);
            part[flip] ^= 1;
            plan.entry.at = plan.corruptAt;
            counts.corrupt += 1;
          }
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
      const faultAt = faultPoint(plan);
      if (faultAt !== undefined && plan.forwarded >= faultAt) {
        plan.entry.at = plan.forwarded;
        counts[plan.kind] += 1;
        if (plan.kind === 'reset') {
          breakConnection();
        } else {
          state = 'dead';
          // Stop reading: what the browser sends from now on waits in socket buffers (which on
          // loopback may hold a whole body of a few MiB, so its upload can look complete), and
          // nothing comes back. The store, left with part of a body, is let go at once.
          client.pause();
          upstream?.unpipe(client);
          upstream?.destroy();
          const ms = plan.kind === 'hang' ? Infinity : stallMs;
          if (Number.isFinite(ms)) {
            const timer = setTimeout(() => {
              timers.delete(timer);
              breakConnection();
            }, ms);
            timers.add(timer);
          }
        }
        return true;
      }
      if (plan.remaining > 0) return false;
      if (plan.kind === 'error500' || plan.kind === 'error503') {
        counts[plan.kind] += 1;
        state = 'dead';
        plan.entry.status = Number(ERRORS[plan.kind].status.slice(0, 3));
        client.end(errorResponse(plan.kind, plan.entry.request));
        upstream?.destroy();
      } else if (plan.kind === 'pass') {
        counts[plan.exempt ? 'exempt' : 'pass'] += 1;
      }
      return true;
    }
  }

  /** Reads a request head and draws its plan; `reuse` is how many requests the connection
   *  carried before. */
  function startRequest(head, connection, reuse) {
    const lines = head.toString('latin1').split('\r\n');
    const [method = '', target = ''] = lines[0].split(' ');
    const path = originForm(target);
    const headers = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const chunked = /chunked/i.test(headers['transfer-encoding'] ?? '');
    const length = chunked ? 0 : Number.parseInt(headers['content-length'] ?? '0', 10) || 0;
    const exempt = chunked || !faultable({ method, path, headers });
    const { name, part, uploadId } = describePath(method, path);
    const forced = exempt ? undefined : choose({ method, path, headers, name, part, uploadId });
    if (forced !== undefined && !PLAN_KINDS.includes(forced)) throw new Error(`choose gave an unknown plan kind ${forced}`);
    const kind = exempt ? 'pass' : forced ?? draw();
    const request = ++requests;
    const entry = {
      request,
      connection,
      reuse,
      method,
      path,
      kind: exempt ? 'exempt' : kind,
      forced: forced !== undefined,
      at: null,
      length,
      name,
      part,
      uploadId,
      status: null,
      time: Date.now(),
    };
    log.push(entry);
    const sniffing = name === null;
    const awaitName = sniffing && /multipart\/form-data/i.test(headers['content-type'] ?? '');
    const plan = { kind, exempt, chunked, remaining: length, forwarded: 0, entry, sniffing, awaitName, sniffed: Buffer.alloc(0) };
    if (kind === 'reset' || kind === 'stall' || kind === 'hang') {
      // Somewhere in the body: at least one byte passes when there is a body, and never all of it.
      plan.faultAt = length > 1 ? 1 + random.below(length - 1) : 0;
    }
    if (kind === 'corrupt') {
      // The file's last byte: a multipart body closes with `\r\n--<boundary>--\r\n` after it.
      const boundary = /boundary=("?)([^";]+)\1/i.exec(headers['content-type'] ?? '')?.[2];
      plan.corruptAt = length - 1 - (boundary ? boundary.length + 8 : 0);
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
