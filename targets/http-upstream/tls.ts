// A throwaway self-signed certificate for the http-upstream target's TLS mode. Node cannot make one by
// itself, so the openssl CLI does it; the upstream writes it where the api (a separate process) finds it.
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * The folder holding the certificate of the upstream listening on `port` (`cert.pem`, `key.pem`). Both
 * processes derive it from the upstream's port, so `port` may be a template such as `{{port}}`. The uid
 * keeps two users' runs on one machine apart.
 */
export function tlsDir(port: number | string, tmpDir: string = os.tmpdir()): string {
  return path.join(tmpDir, `pooltune-http-upstream-${process.getuid?.() ?? 0}-${port}`);
}

/** The certificate file inside a {@link tlsDir} (the api trusts it as its CA). */
export const certFileName = 'cert.pem';
/** The private key file inside a {@link tlsDir}. */
export const keyFileName = 'key.pem';

function run(command: string, args: readonly string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ ok: error === null, output: `${stdout}${stderr}`.trim() || String(error?.message ?? '') });
    });
  });
}

/** True when the `openssl` CLI runs (TLS mode needs it to make the certificate). */
export async function opensslAvailable(): Promise<boolean> {
  return (await run('openssl', ['version'])).ok;
}

/**
 * Makes a one-day self-signed P-256 certificate for 127.0.0.1 in a fresh `dir` (mode 700). The IP goes
 * into subjectAltName because Node checks an IP host against the SAN, never the CN.
 */
export async function makeSelfSignedCert(dir: string): Promise<{ certFile: string; keyFile: string }> {
  if (!(await opensslAvailable())) {
    throw new Error(
      'TLS needs the openssl CLI to make a self-signed certificate: install openssl or turn tls off',
    );
  }
  // A stale folder from a killed run on the same port is replaced, never reused.
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const certFile = path.join(dir, certFileName);
  const keyFile = path.join(dir, keyFileName);
  const made = await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  if (!made.ok) throw new Error(`openssl could not make a certificate: ${made.output}`);
  return { certFile, keyFile };
}
