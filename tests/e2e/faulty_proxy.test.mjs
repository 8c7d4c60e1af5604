// The fault-injecting proxy's own tests (support/faulty_proxy.mjs): each fault does what it says,
// plans are named by file, part and upload, and a seed gives the same plans again.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

import { FAULT_KINDS, prng, startFaultyProxy } from './support/faulty_proxy.mjs';
import { sleep, counts } from './support/fault_runs.mjs';

describe('the faulty proxy', () => {
  let server;
  let port;

  before(async () => {
    // A tiny HTTP server that answers how many body bytes it got.
    const { createServer } = await import('node:http');
    server = createServer((request, response) => {
      let length = 0;
      request.on('data', (chunk) => {
        length += chunk.length;
      });
      request.on('end', () => response.end(`got ${length}`));
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = server.address().port;
  });

  after(() => new Promise((resolve) => server.close(resolve)));

  /** A multipart/form-data body whose file part, named `name`, comes after `before` bytes of
   *  another field. */
  const formBody = (name, before = 0, size = 100_000) =>
    Buffer.concat([
      Buffer.from(`--b\r\nContent-Disposition: form-data; name="policy"\r\n\r\n${'p'.repeat(before)}\r\n`),
      Buffer.from(`--b\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n\r\n`),
      Buffer.alloc(size, 1),
      Buffer.from('\r\n--b--\r\n'),
    ]);
  const body = formBody('x.bin');

  /** A raw request, by default a POST of `body`, on a connection of its own: what came back,
   *  how, and when. */
  function post(proxy, { head = 'POST /bucket HTTP/1.1', payload = body, split = payload.length } = {}) {
    return new Promise((resolve) => {
      const started = Date.now();
      const socket = connect(proxy.port, '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk) => {
        answer += chunk.toString('latin1');
      });
      const done = (how) => () => resolve({ answer, how, ms: Date.now() - started });
      socket.on('error', (error) => done(error.code)());
      socket.on('end', done('end'));
      socket.write(`${head}\r\nHost: x\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${payload.length}\r\n\r\n`);
      // The body in two pieces, a moment apart, when `split` says where.
      socket.write(payload.subarray(0, split));
      if (split < payload.length) setTimeout(() => socket.writable && socket.write(payload.subarray(split)), 50);
    });
  }

  test('corrupt flips one bit of the file, its last byte, and forwards the rest untouched', async () => {
    const { createServer } = await import('node:http');
    const echo = createServer((request, response) => request.pipe(response));
    await new Promise((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const proxy = await startFaultyProxy({ target: { port: echo.address().port }, mix: { corrupt: 1 } });
    try {
      const form = formBody('x.bin', 10, 1000);
      const put = randomBytes(1000);
      const sent = [
        ['multipart/form-data; boundary=b', form, form.length - '\r\n--b--\r\n'.length - 1],
        ['application/octet-stream', put, put.length - 1],
      ];
      for (const [type, body, at] of sent) {
        const response = await fetch(`${proxy.url}/bucket/x.bin`, { method: 'PUT', headers: { 'Content-Type': type }, body });
        const echoed = Buffer.from(await response.arrayBuffer());
        const differing = [...echoed.keys()].filter((index) => echoed[index] !== body[index]);
        assert.deepEqual(differing, [at], `${type}: only the file's last byte differs`);
        assert.equal(echoed[at] ^ body[at], 1, 'by one bit');
      }
      assert.equal(proxy.stats().corrupt, 2);
    } finally {
      await proxy.close();
      await new Promise((resolve) => echo.close(resolve));
    }
  });

  test('each plan does what it says, and counts it', async () => {
    for (const kind of ['pass', ...FAULT_KINDS]) {
      const proxy = await startFaultyProxy({ target: { port }, seed: 1, mix: { [kind]: 1 }, stallMs: 200 });
      try {
        const options = await fetch(`${proxy.url}/bucket`, { method: 'OPTIONS' });
        assert.equal(await options.text(), 'got 0', 'a preflight passes');
        if (kind === 'pass') {
          const response = await fetch(`${proxy.url}/bucket`, { method: 'POST', body });
          assert.equal(await response.text(), `got ${body.length}`);
        } else if (kind === 'hang') {
          // Nothing comes back, and the connection stays open until the proxy closes.
          const result = post(proxy);
          const early = await Promise.race([result, sleep(500).then(() => null)]);
          assert.equal(early, null, `a hang ends only when the proxy closes: ${JSON.stringify(early)}`);
          assert.equal(proxy.stats().hang, 1);
          await proxy.close();
          const { answer, ms } = await result;
          assert.equal(answer, '');
          assert.ok(ms >= 490, `hung ${ms} ms`);
        } else {
          const { answer, how, ms } = await post(proxy);
          if (kind === 'reset' || kind === 'stall') {
            assert.equal(how, 'ECONNRESET', kind);
            assert.equal(answer, '');
            if (kind === 'stall') assert.ok(ms >= 190, `stalled ${ms} ms`);
            const [plan] = proxy.log.filter((entry) => entry.kind === kind);
            assert.ok(plan.at > 0 && plan.at < body.length, `${kind} after ${plan.at} of ${body.length} bytes`);
          } else {
            const status = kind === 'error500' ? '500' : '503';
            assert.match(answer, new RegExp(`^HTTP/1.1 ${status} `));
            assert.match(answer, /\r\nConnection: close\r\n/);
            assert.match(answer, /\r\nAccess-Control-Allow-Origin: \*\r\n/);
            assert.match(answer, /<Error><Code>\w+<\/Code><Message>[^<]+<\/Message>/);
          }
        }
        assert.deepEqual(
          Object.fromEntries(Object.entries(proxy.stats()).filter(([name]) => name !== 'connections')),
          { pass: 0, reset: 0, stall: 0, hang: 0, error500: 0, error503: 0, corrupt: 0, exempt: 1, [kind]: 1 },
        );
        const entry = proxy.log.find((plan) => plan.method === 'POST');
        assert.equal(entry.name, 'x.bin');
        const status = { pass: 200, error500: 500, error503: 503 }[kind] ?? null;
        assert.equal(entry.status, status, `the status the browser got from a ${kind}`);
      } finally {
        await proxy.close();
      }
    }
  });

  test('a reset or stall of a form waits for its file name', async () => {
    // The name comes after 12 KiB, and the body reaches the proxy in two pieces, the first
    // without the name: a fault drawn in it is put off until the proxy saw the name.
    const late = formBody('late.bin', 12 * 1024, 4096);
    for (let seed = 1; seed <= 12; seed += 1) {
      const proxy = await startFaultyProxy({ target: { port }, seed, mix: { reset: 1, stall: 1 }, stallMs: 10 });
      try {
        await post(proxy, { payload: late, split: 8 * 1024 });
        const [plan] = proxy.log;
        assert.equal(plan.name, 'late.bin', `seed ${seed}: ${JSON.stringify(plan)}`);
        assert.ok(plan.at > 0 && plan.at < late.length, `seed ${seed}: ${plan.kind} after ${plan.at} of ${late.length} bytes`);
      } finally {
        await proxy.close();
      }
    }
  });

  test('a PUT is named by its path, a part by its number and upload; absolute URLs too', async () => {
    const proxy = await startFaultyProxy({
      target: { port },
      mix: { pass: 1 },
      choose: ({ part }) => (part === 2 ? 'error503' : undefined),
    });
    try {
      const put = (path) => fetch(`${proxy.url}${path}`, { method: 'PUT', body: 'abc' }).then((response) => response.status);
      assert.equal(await put('/bucket/dir/a%20b.bin?partNumber=1&uploadId=u1'), 200);
      assert.equal(await put('/bucket/dir/a%20b.bin?partNumber=2&uploadId=u1'), 503);
      assert.equal(await put('/bucket/dir/c.bin'), 200);
      // As a browser's HTTP proxy: absolute URLs in the request line.
      const { answer } = await post(proxy, { head: `PUT http://127.0.0.1:${port}/bucket/d.bin?partNumber=7&uploadId=u2 HTTP/1.1`, payload: Buffer.from('xy') });
      assert.match(answer, /^HTTP\/1.1 200 /);
      const described = proxy.log.map(({ path, name, part, uploadId, kind, forced, status }) => ({ path, name, part, uploadId, kind, forced, status }));
      assert.deepEqual(described, [
        { path: '/bucket/dir/a%20b.bin?partNumber=1&uploadId=u1', name: 'a b.bin', part: 1, uploadId: 'u1', kind: 'pass', forced: false, status: 200 },
        { path: '/bucket/dir/a%20b.bin?partNumber=2&uploadId=u1', name: 'a b.bin', part: 2, uploadId: 'u1', kind: 'error503', forced: true, status: 503 },
        { path: '/bucket/dir/c.bin', name: 'c.bin', part: null, uploadId: null, kind: 'pass', forced: false, status: 200 },
        { path: '/bucket/d.bin?partNumber=7&uploadId=u2', name: 'd.bin', part: 7, uploadId: 'u2', kind: 'pass', forced: false, status: 200 },
      ]);
    } finally {
      await proxy.close();
    }
  });

  test('the same seed gives the same plans; cover puts every fault kind first; choose draws nothing', async () => {
    const plans = async (seed, cover, choose) => {
      const proxy = await startFaultyProxy({ target: { port }, seed, mix: { pass: 1, error500: 1, error503: 1 }, cover, choose });
      try {
        for (let i = 0; i < 12; i += 1) await fetch(`${proxy.url}/bucket`, { method: 'POST', body: 'x' }).then((r) => r.text());
        return proxy.log.map((entry) => entry.kind);
      } finally {
        await proxy.close();
      }
    };
    assert.deepEqual(await plans(7, false), await plans(7, false));
    assert.notDeepEqual(await plans(7, false), await plans(8, false));
    assert.deepEqual((await plans(7, true)).slice(0, 2).sort(), ['error500', 'error503']);
    // The first request's plan is imposed: the others get the plans drawn without it.
    let first = true;
    const imposed = await plans(7, false, () => (first ? ((first = false), 'error503') : undefined));
    assert.deepEqual(imposed, ['error503', ...(await plans(7, false)).slice(0, 11)]);
    const random = prng('a seed');
    assert.ok(random.next() >= 0 && random.next() < 1);
  });
});
