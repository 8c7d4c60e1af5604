// Requests straight to the run's SeaweedFS, past the signer and the browser: what tests and
// benchmarks read or delete to check a result. SigV4 in the header, unsigned-payload-free: the
// bodies are empty, so their hash is that of ''.
import { createHash, createHmac } from 'node:crypto';

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** A key as a URL path, each segment percent-encoded as S3 expects. */
export const keyPath = (key) =>
  key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');

/** SigV4's signing key for S3 with `secret` on `date` (YYYYMMDD) in `region`. */
export function signingKey(secret, date, region) {
  const hmac = (key, text) => createHmac('sha256', key).update(text).digest();
  let key = hmac(`AWS4${secret}`, date);
  for (const part of [region, 's3', 'aws4_request']) key = hmac(key, part);
  return key;
}

/** `method` (GET, HEAD, DELETE) of `key` in the bucket of `s3` (`seaweedfsConfig()`), signed. */
export function s3Request(s3, method, key) {
  const url = new URL(`${s3.endpoint}/${s3.bucket}/${keyPath(key)}`);
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const date = amzDate.slice(0, 8);
  const payload = sha256('');
  const signedHeaders = 'host;x-amz-content-sha256;x-amz-date';
  const canonical = [
    method,
    url.pathname,
    '',
    `host:${url.host}\nx-amz-content-sha256:${payload}\nx-amz-date:${amzDate}\n`,
    signedHeaders,
    payload,
  ].join('\n');
  const scope = `${date}/${s3.region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const signature = createHmac('sha256', signingKey(s3.secretKey, date, s3.region)).update(toSign).digest('hex');
  return fetch(url, {
    method,
    headers: {
      'x-amz-content-sha256': payload,
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${s3.accessKey}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
  });
}
