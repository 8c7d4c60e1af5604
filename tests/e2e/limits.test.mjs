// Hostile bodies against the signer binary: each is refused with a 4xx while the process's
// memory stays flat, because every field is counted while it streams.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';

import { startDevSigner } from './support/signer.mjs';

const MIB = 1024 * 1024;
const CHUNK = Buffer.alloc(MIB, 'a');

/** The resident set of process `pid`, in bytes. */
async function rss(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)[1]) * 1024;
}

/**
 * POSTs a multipart form whose one text field is `mib` MiB long, a chunk at a time so the test
 * holds only one chunk. Resolves to the status once the signer answers, and stops writing as
 * soon as it has; resolves to `null` when the connection broke before an answer was read.
 *
 * The signer answers early and drains the rest for a while (server.rs, `linger`), so the
 * writes go on succeeding until the answer is read; each chunk waits for the one before and
 * lets the event loop take its turn, as a browser's upload does.
 */
function postHugeField(url, mib) {
  return new Promise((resolve) => {
    const boundary = 'hostile-boundary';
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, accept: 'application/json' },
    });
    let answered = false;
    req.on('response', (response) => {
      answered = true;
      response.resume();
      response.on('end', () => resolve(response.statusCode));
    });
    req.on('error', () => answered || resolve(null));
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n`);
    let sent = 0;
    const writeMore = () => {
      if (answered || req.destroyed) return;
      if (sent === mib) {
        req.end(`\r\n--${boundary}--\r\n`);
        return;
      }
      sent += 1;
      req.write(CHUNK, () => setImmediate(writeMore));
    };
    writeMore();
  });
}

describe('hostile bodies', () => {
  let signer;

  before(async () => {
    signer = await startDevSigner();
  });

  after(async () => {
    await signer?.stop();
  });

  test('a 100 MiB text field gets a 4xx while the signer grows by less than 16 MiB', async () => {
    // Warm up, so what the first request allocates once is not counted.
    await fetch(`${signer.url}/healthz`);
    const before = await rss(signer.pid);
    let peak = before;
    const sampler = setInterval(() => {
      rss(signer.pid).then((now) => (peak = Math.max(peak, now)), () => {});
    }, 10);
    let status;
    try {
      status = await postHugeField(`${signer.url}/s3file/finalize`, 100);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, await rss(signer.pid));
    assert.ok(status >= 400 && status < 500, `expected a 4xx, got ${status}`);
    const grown = (peak - before) / MIB;
    assert.ok(grown < 16, `the signer grew by ${grown.toFixed(1)} MiB while refusing the field`);
    const health = await fetch(`${signer.url}/healthz`);
    assert.equal(health.status, 200, 'the signer still answers');
  });
});
