// Verifies the X-S3File-Signature header that s3file-signer in proxy mode puts on the forms it
// forwards, with node:crypto only. Copy this file into your application.
//
// The signer sends
//
//   X-S3File-Signature: t=<unix seconds>,v2=<hex HMAC-SHA256>
//   X-S3File-Content-SHA256: <hex SHA-256 of the body>
//
// with the MAC keyed with S3FILE_SECRET_KEY over
//
//   s3file-forward-v2\n<t>\n<METHOD>\n<path?query>\n<hex SHA-256 of the body>
//
// Trust the form's `<field>` keys and `<field>-s3file` descriptions only when `verify` returns
// (it throws a VerificationError otherwise), called with the method, the path and query exactly
// as the request line had them (`req.url` in node:http), and the exact bytes of the body. A
// signature is accepted from 60 seconds in the past to 5 seconds in the future of this clock.
// The signer's `forward_signature::verify` (Rust) is the reference; examples/verify/vector.json
// holds the known answer and the cases this file, the signer and the Python example all pass.
//
//   import { verify, VerificationError } from './s3file-verify.mjs'
//
//   try {
//     verify({ secret, header: req.headers['x-s3file-signature'], method: req.method,
//              path: req.url, body })
//   } catch (error) {
//     if (!(error instanceof VerificationError)) throw error
//     res.writeHead(403).end(error.message)
//   }

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const MAX_AGE_SECONDS = 60;
export const MAX_FUTURE_SECONDS = 5;

const CONTEXT = 's3file-forward-v2';
// The shape first: a version other than 2 is reported as such only in a header of this shape.
const SHAPE = /^t=([^,]*),v([0-9]+)=([\s\S]*)$/;
// At most 12 digits: exact as a JavaScript number, and the same limit as the other languages.
const TIMESTAMP = /^(?:0|[1-9][0-9]{0,11})$/;
const SIGNATURE = /^[0-9a-f]{64}$/;

const MESSAGES = {
  malformed: 'malformed X-S3File-Signature: expected t=<unix seconds>,v2=<64 lower-case hex digits>',
  unsupported_version: 'unsupported X-S3File-Signature version: expected v2',
  mismatch: 'X-S3File-Signature does not match this request',
  expired: 'X-S3File-Signature expired: signed more than 60 seconds ago',
  future: 'X-S3File-Signature is from the future: signed more than 5 seconds ahead of this clock',
};

/** The request is not one the signer forwarded just now; `code` says why: malformed,
 *  unsupported_version, mismatch, expired or future. */
export class VerificationError extends Error {
  constructor(code) {
    super(MESSAGES[code]);
    this.name = 'VerificationError';
    this.code = code;
  }
}

/** The X-S3File-Content-SHA256 of a body (bytes, or a string taken as UTF-8): SHA-256 of
 *  exactly its bytes, lower-case hex. */
export function contentSha256(body) {
  return createHash('sha256').update(body).digest('hex');
}

function mac(secret, timestamp, method, path, body) {
  const message = `${CONTEXT}\n${timestamp}\n${method}\n${path}\n${contentSha256(body)}`;
  return createHmac('sha256', secret).update(message, 'utf8').digest();
}

/** The header the signer sends; for tests, an application has no use for it. */
export function sign(secret, timestamp, method, path, body) {
  return `t=${timestamp},v2=${mac(secret, timestamp, method, path, body).toString('hex')}`;
}

/** Throws a VerificationError unless `header` is the signer's, made with `secret` (a string or
 *  bytes) for this method, path and query, and body (bytes, or a string taken as UTF-8), 60
 *  seconds old at most and 5 seconds ahead at most of `now` (unix seconds; the clock by
 *  default). */
export function verify({ secret, header, method, path, body, now = Date.now() / 1000 }) {
  const shape = SHAPE.exec(typeof header === 'string' ? header : '');
  if (!shape) throw new VerificationError('malformed');
  const [, timestamp, version, signature] = shape;
  if (version !== '2') throw new VerificationError('unsupported_version');
  if (!TIMESTAMP.test(timestamp) || !SIGNATURE.test(signature)) throw new VerificationError('malformed');
  const seconds = Number(timestamp);
  // Constant time, and before the clock: expired and future speak of genuine signatures.
  const expected = mac(secret, seconds, method, path, body);
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) throw new VerificationError('mismatch');
  const age = Math.floor(now) - seconds;
  if (age > MAX_AGE_SECONDS) throw new VerificationError('expired');
  if (age < -MAX_FUTURE_SECONDS) throw new VerificationError('future');
}
