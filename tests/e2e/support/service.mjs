// A server process for a test: spawned with the environment it is given, its output kept for
// error messages, ready once a URL answers 200, stopped with SIGTERM (then SIGKILL).
import { spawn } from 'node:child_process';

const STARTUP_TIMEOUT_MS = 30_000;
const SHUTDOWN_TIMEOUT_MS = 5_000;

/**
 * Spawns `command args` and resolves once GET `readyUrl` answers 200, to `{pid, stop(),
 * output()}`; `output()` is what it printed so far. `name` says what it is in errors.
 */
export async function startService({ name, command, args, env, cwd, readyUrl }) {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  const collect = (chunk) => {
    printed += chunk;
  };
  child.stdout.setEncoding('utf8').on('data', collect);
  child.stderr.setEncoding('utf8').on('data', collect);
  const exited = new Promise((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
    child.once('error', (error) => resolveExit({ error }));
  });
  const output = () => printed;

  async function stop() {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), SHUTDOWN_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
  }

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    const exit = await Promise.race([exited, sleep(100).then(() => null)]);
    if (exit) {
      const why = exit.error ? String(exit.error) : `code ${exit.code}, signal ${exit.signal}`;
      throw new Error(`${name} (${command} ${args.join(' ')}) exited before it answered (${why}); it printed:\n${printed}`);
    }
    if (await answers(readyUrl)) {
      return { pid: child.pid, stop, output };
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not answer GET ${readyUrl} with 200 within ${STARTUP_TIMEOUT_MS} ms; it printed:\n${printed}`);
    }
  }
}

/** Whether GET `url` answers 200 within a second. */
export async function answers(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

function sleep(ms) {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}
