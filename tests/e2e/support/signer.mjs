// Starts the signer binary (S3FILE_SIGNER_BIN, set by `cargo xtask test`) on a free loopback
// port, in dev mode (its embedded store) or against the run's SeaweedFS.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { startService } from './service.mjs';

export const WWW_DIR = resolve(fileURLToPath(new URL('../../../www', import.meta.url)));

/** A required variable, or an error that says how to get it. */
export function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the e2e tests through \`cargo xtask test\`, or start SeaweedFS with \`cargo xtask seaweedfs\` and export what it prints`);
  }
  return value;
}

/** The run's SeaweedFS, as `cargo xtask test` describes it. */
export function seaweedfsConfig() {
  return {
    endpoint: requireEnv('S3FILE_TEST_S3_ENDPOINT'),
    bucket: requireEnv('S3FILE_TEST_S3_BUCKET'),
    accessKey: requireEnv('S3FILE_TEST_S3_ACCESS_KEY'),
    secretKey: requireEnv('S3FILE_TEST_S3_SECRET_KEY'),
    region: requireEnv('S3FILE_TEST_S3_REGION'),
  };
}

/** The secret key of the dev store of a signer whose S3FILE_SECRET_KEY is `secretKey` (the
 *  signer derives it so that replicas share it). */
export const devStoreSecret = (secretKey) =>
  createHmac('sha256', secretKey).update('s3file dev store credentials').digest('hex');

/** The signer in dev mode (asked for: without it, no bucket is an error): its embedded store in
 *  a fresh temporary directory. */
export async function startDevSigner({ env = {}, args } = {}) {
  const storeDir = await mkdtemp(join(tmpdir(), 's3file-dev-store-'));
  let signer;
  try {
    signer = await startSigner({ env: { S3FILE_DEV: 'true', S3FILE_DEV_STORE_DIR: storeDir, ...env }, args });
  } catch (error) {
    await rm(storeDir, { recursive: true, force: true });
    throw error;
  }
  return {
    ...signer,
    storeDir,
    async stop() {
      await signer.stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

/** The signer against the run's SeaweedFS bucket, with django-storages' setting names. */
export async function startSeaweedfsSigner({ env = {}, args } = {}) {
  const s3 = seaweedfsConfig();
  const signer = await startSigner({
    env: {
      AWS_STORAGE_BUCKET_NAME: s3.bucket,
      AWS_S3_ENDPOINT_URL: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.accessKey,
      AWS_SECRET_ACCESS_KEY: s3.secretKey,
      AWS_S3_REGION_NAME: s3.region,
      AWS_S3_ADDRESSING_STYLE: 'path',
      ...env,
    },
    args,
  });
  return { ...signer, s3 };
}

/**
 * Spawns the signer with only the variables given here (and PATH, HOME, RUST_LOG), so nothing
 * from the caller's environment, an AWS profile say, changes what it does. Resolves once
 * GET /healthz answers 200, to `{url, secretKey, pid, stop(), output()}`; `output()` is what it
 * printed so far, `secretKey` its S3FILE_SECRET_KEY.
 */
export async function startSigner({ env = {}, args = ['serve', '--www', WWW_DIR] } = {}) {
  const bin = requireEnv('S3FILE_SIGNER_BIN');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const secretKey = env.S3FILE_SECRET_KEY ?? randomBytes(32).toString('hex');
  const service = await startService({
    name: 'the signer',
    command: bin,
    args,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      RUST_LOG: process.env.RUST_LOG ?? 'info',
      RUST_BACKTRACE: '1',
      S3FILE_LISTEN: `127.0.0.1:${port}`,
      AWS_EC2_METADATA_DISABLED: 'true',
      ...env,
      S3FILE_SECRET_KEY: secretKey,
    },
    readyUrl: `${url}/healthz`,
  });
  return { url, secretKey, ...service };
}

/** A loopback port that was free a moment ago. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}
