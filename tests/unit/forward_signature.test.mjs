// The Node verification example of X-S3File-Signature (examples/verify/node/) against the vector
// and cases the signer and the other examples share (examples/verify/vector.json).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import {
  MAX_AGE_SECONDS,
  MAX_FUTURE_SECONDS,
  VerificationError,
  contentSha256,
  sign,
  verify,
} from '../../examples/verify/node/s3file-verify.mjs';

const vector = JSON.parse(readFileSync(new URL('../../examples/verify/vector.json', import.meta.url), 'utf8'));
const encoder = new TextEncoder();

test('signs the known answer', () => {
  const header = sign(vector.secret, vector.timestamp, vector.method, vector.path, vector.body);
  assert.equal(header, vector.header);
  assert.equal(contentSha256(vector.body), vector.body_sha256);
  assert.equal(contentSha256(encoder.encode(vector.body)), vector.body_sha256);
});

test('the window is 60 seconds back and 5 ahead', () => {
  assert.equal(MAX_AGE_SECONDS, 60);
  assert.equal(MAX_FUTURE_SECONDS, 5);
});

test('the shared cases are there', () => {
  assert.ok(vector.cases.length > 20);
});

for (const c of vector.cases) {
  test(`shared case: ${c.name}`, () => {
    const run = () =>
      verify({
        secret: c.secret ?? vector.secret,
        header: c.header ?? vector.header,
        method: c.method ?? vector.method,
        path: c.path ?? vector.path,
        body: c.body ?? vector.body,
        now: c.now,
      });
    if (c.error === null) {
      assert.doesNotThrow(run);
    } else {
      assert.throws(run, (error) => {
        assert.ok(error instanceof VerificationError);
        assert.equal(error.code, c.error);
        assert.equal(error.message, vector.messages[c.error]);
        return true;
      });
    }
  });
}

test('takes the body as a string, bytes or a Buffer, and the secret as bytes', () => {
  const request = { header: vector.header, method: vector.method, path: vector.path, now: vector.timestamp };
  for (const body of [vector.body, encoder.encode(vector.body), Buffer.from(vector.body)]) {
    verify({ ...request, secret: encoder.encode(vector.secret), body });
  }
});

test('verifies against the clock when no time is given', () => {
  const now = Math.floor(Date.now() / 1000);
  const header = sign('secret', now, 'POST', '/p', 'a=1');
  verify({ secret: 'secret', header, method: 'POST', path: '/p', body: 'a=1' });
  const old = sign('secret', now - 3600, 'POST', '/p', 'a=1');
  assert.throws(() => verify({ secret: 'secret', header: old, method: 'POST', path: '/p', body: 'a=1' }), {
    code: 'expired',
  });
});

test('a fractional clock counts whole seconds', () => {
  const header = sign('secret', 1000, 'POST', '/p', '');
  verify({ secret: 'secret', header, method: 'POST', path: '/p', body: '', now: 1060.9 });
  assert.throws(() => verify({ secret: 'secret', header, method: 'POST', path: '/p', body: '', now: 1061 }), {
    code: 'expired',
  });
});

test('a missing header is malformed, not a crash', () => {
  for (const header of [undefined, null, ['t=1,v2=00']]) {
    assert.throws(() => verify({ secret: 's', header, method: 'POST', path: '/', body: '', now: 0 }), {
      code: 'malformed',
    });
  }
});

test('the body digest is SHA-256 of exactly the bytes', () => {
  const bytes = new Uint8Array([0, 255, 10, 13]);
  assert.equal(contentSha256(bytes), createHash('sha256').update(bytes).digest('hex'));
});
