// The relay over wss:// with a certificate from a throwaway CA (openssl at test time): a Nostr client with the CA
// reads and writes, one without it is refused with a certificate error; plain ws:// warns for remote hosts only.
import { get } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { generateSecretKey, getPublicKey } from '../../src/nostr/index.js';
import {
  connectWebSocket,
  isLoopbackHost,
  resetPlaintextWarnings,
  TransportError,
  warnIfPlaintext,
} from '../../src/transport/index.js';
import { makeTestCertificates, nonLoopbackAddress, type TestCertificates } from '../support/tls.js';
import { sign, startTestRelay, type TestRelay } from './helpers.js';

const alice = generateSecretKey();
let certs: TestCertificates;
let t: TestRelay;

beforeAll(async () => {
  certs = await makeTestCertificates();
  t = await startTestRelay({
    tls: { cert: certs.cert, key: certs.key },
    freeWrites: [{ pubkey: getPublicKey(alice), kinds: [1] }],
  });
});
afterAll(async () => {
  await t?.close();
  certs?.cleanup();
});

/** Frames of `ws` as parsed JSON, awaited one at a time. */
function reader(ws: WebSocket): (test: (f: unknown[]) => boolean) => Promise<unknown[]> {
  const frames: unknown[][] = [];
  const waiters: { test: (f: unknown[]) => boolean; resolve: (f: unknown[]) => void }[] = [];
  ws.on('message', (data) => {
    const f = JSON.parse(String(data)) as unknown[];
    const i = waiters.findIndex((w) => w.test(f));
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(f);
    else frames.push(f);
  });
  return (test) => {
    const i = frames.findIndex(test);
    if (i >= 0) return Promise.resolve(frames.splice(i, 1)[0]!);
    return new Promise((resolve) => waiters.push({ test, resolve }));
  };
}

describe('relay over TLS', () => {
  it('serves wss://; a client with the custom CA subscribes, writes and receives the event', async () => {
    expect(t.relay.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const ws = await connectWebSocket(t.relay.url, { tls: { ca: certs.ca } });
    const next = reader(ws);
    ws.send(JSON.stringify(['REQ', 'live', { kinds: [1] }]));
    expect(await next((f) => f[0] === 'EOSE')).toEqual(['EOSE', 'live']);
    const note = sign(alice, 1, [], 'over wss');
    ws.send(JSON.stringify(['EVENT', note]));
    expect(await next((f) => f[0] === 'OK')).toEqual(['OK', note.id, true, '']);
    expect(await next((f) => f[0] === 'EVENT')).toEqual(['EVENT', 'live', note]);
    ws.close();
  });

  it('serves NIP-11 over https on the same port, and reads the CA and certificate from files', async () => {
    const fromFiles = await startTestRelay({ tls: { certPath: certs.paths.cert, keyPath: certs.paths.key } });
    try {
      const url = fromFiles.relay.url.replace('wss://', 'https://').replace('127.0.0.1', 'localhost');
      const doc = await new Promise<Record<string, unknown>>((resolve, reject) => {
        get(url, { ca: certs.ca, headers: { accept: 'application/nostr+json' } }, (res) => {
          let body = '';
          res.on('data', (c) => {
            body += c;
          });
          res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
        }).on('error', reject);
      });
      expect(doc.supported_nips).toEqual([1, 9, 11, 42, 45]);
      const ws = await connectWebSocket(fromFiles.relay.url, { tls: { caPath: certs.paths.ca } });
      ws.close();
    } finally {
      await fromFiles.close();
    }
  });

  it('refuses a client without the CA (or with another CA) with a clear certificate error', async () => {
    for (const tls of [undefined, { ca: certs.otherCa }]) {
      const err = await connectWebSocket(t.relay.url, tls ? { tls } : {}).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TransportError);
      expect((err as TransportError).code).toBe('TLS_CERTIFICATE');
      expect((err as TransportError).message).toMatch(
        /^the TLS certificate of wss:\/\/127\.0\.0\.1:\d+ was refused \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/,
      );
      expect((err as TransportError).message).toContain('tls.ca');
    }
  });

  it('refuses a certificate that does not name the host', async () => {
    // The certificate names 127.0.0.1, ::1 and localhost; the same server reached as 127.0.0.2 does not match.
    const err = await connectWebSocket(t.relay.url.replace('127.0.0.1', '127.0.0.2'), {
      tls: { ca: certs.ca },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    // 127.0.0.2 reaches nothing (the relay listens on 127.0.0.1): the network error is not called a certificate one.
    expect((err as TransportError).code).toBe('CONNECT_FAILED');
    const anyHost = await startTestRelay({ host: '0.0.0.0', tls: { cert: certs.cert, key: certs.key } });
    try {
      const wrongName = await connectWebSocket(`wss://127.0.0.2:${anyHost.relay.port}`, {
        tls: { ca: certs.ca },
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((wrongName as TransportError).code).toBe('TLS_CERTIFICATE');
      expect((wrongName as TransportError).message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
    } finally {
      await anyHost.close();
    }
  });
});

describe('plain ws:// warning', () => {
  it('knows loopback hosts', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', '::1', 'LOCALHOST', 'app.localhost'])
      expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['192.0.2.1', 'relay.example.com', '0.0.0.0', '[2001:db8::1]', '128.0.0.1'])
      expect(isLoopbackHost(h)).toBe(false);
  });

  it('fires once per URL for a non-loopback host over a real connection, never for 127.0.0.1 or wss://', async () => {
    resetPlaintextWarnings();
    const plain = await startTestRelay({ host: '0.0.0.0' });
    const warnings: { msg: string; fields?: Record<string, unknown> }[] = [];
    const logger = {
      warn: (msg: string, fields?: Record<string, unknown>) => warnings.push({ msg, fields }),
    };
    try {
      const local = await connectWebSocket(`ws://127.0.0.1:${plain.relay.port}`, { logger });
      local.close();
      expect(warnings).toEqual([]);
      const remote = `ws://${nonLoopbackAddress()}:${plain.relay.port}/`;
      for (let i = 0; i < 3; i++) (await connectWebSocket(remote, { logger })).close();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.msg).toContain(`unencrypted connection to ${remote}`);
      expect(warnings[0]!.fields).toEqual({ url: remote });
      // Another URL warns again; a wss:// one never does.
      expect(warnIfPlaintext('ws://relay.example.com/', logger)).toBe(true);
      expect(warnIfPlaintext('wss://relay.example.com/', logger)).toBe(false);
      expect(warnings).toHaveLength(2);
    } finally {
      await plain.close();
    }
  });
});
