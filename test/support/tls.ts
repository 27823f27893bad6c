// Test certificates made at test time with the system `openssl`: a throwaway CA, a server certificate it signs for
// 127.0.0.1, ::1, localhost and relay.crosstown.test (subjectAltName; the last is a public name stand-in), and a second, unrelated CA to show a wrong CA is refused.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificates {
  /** PEM of the CA that signed `cert`: what a client configures as `tls.ca`. */
  ca: string;
  /** PEM of a CA that signed nothing here. */
  otherCa: string;
  /** Server certificate (PEM) for 127.0.0.1, ::1 and localhost, and its key. */
  cert: string;
  key: string;
  /** The same files on disk, for the path options. */
  paths: { ca: string; cert: string; key: string };
  /** Removes the files. */
  cleanup(): void;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    throw new Error(`openssl ${args[0]} failed (is openssl installed?): ${(err as Error).message}`);
  }
}

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), 'crosstown-tls-'));
  await makeCa(dir, 'crosstown-test-ca');
  await makeCa(dir, 'crosstown-other-ca');
  writeFileSync(
    join(dir, 'server.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:relay.crosstown.test',
      '',
    ].join('\n'),
  );
  await openssl(
    [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=localhost',
    ],
    dir,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'crosstown-test-ca.pem',
      '-CAkey',
      'crosstown-test-ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '2',
      '-extfile',
      'server.ext',
    ],
    dir,
  );
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    ca: read('crosstown-test-ca.pem'),
    otherCa: read('crosstown-other-ca.pem'),
    cert: read('server.pem'),
    key: read('server.key'),
    paths: {
      ca: join(dir, 'crosstown-test-ca.pem'),
      cert: join(dir, 'server.pem'),
      key: join(dir, 'server.key'),
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * An address of this machine that is not loopback, for the plain-ws warning tests: a non-internal IPv4 interface
 * when there is one, else 0.0.0.0 (on Linux, connecting to it reaches the local host).
 */
export function nonLoopbackAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '0.0.0.0';
}
