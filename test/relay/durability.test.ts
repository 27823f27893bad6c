// A write acknowledged (FULFILL or OK) survives SIGKILL of the relay process: the child runs the real relay
// on a SQLite file; the parent kills it the moment the acknowledgement arrives, then restarts it on the same file.
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { conditionOf, deriveFulfillment, IlpPacketType } from '../../src/ilp/index.js';
import { generateSecretKey, getPublicKey } from '../../src/nostr/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';
import { sign, TestClient } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'crosstown-durable-'));
const dbPath = join(dir, 'relay.db');
const secret = randomBytes(32);
const sk = generateSecretKey();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startChild(
  extraEnv: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(join(here, 'fixtures', 'relay-child.ts'), [dbPath], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, SECRET_HEX: secret.toString('hex'), FREE_PUBKEY: getPublicKey(sk), ...extraEnv },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`relay child exited early with code ${code}`)));
  });
  return { child, url };
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
}

describe('durability', () => {
  it('keeps a FULFILLed paid write and an OK-ed free write across SIGKILL and restart', async () => {
    // 1. Paid write through handlePrepare in the child; SIGKILL as soon as the FULFILL arrives.
    const paid = sign(sk, 5065, [['t', 'durable']], 'paid job');
    const data = encodeEventBytes(paid);
    const first = await startChild();
    const reply = new Promise<{ type: number; fulfillment: string }>((resolve) =>
      first.child.once('message', (m) => resolve(m as { type: number; fulfillment: string })),
    );
    first.child.send({
      prepare: {
        amount: String(data.length),
        expiresAt: new Date(Date.now() + 30_000).toISOString(),
        executionCondition: Buffer.from(conditionOf(deriveFulfillment(secret, data))).toString('hex'),
        destination: 'g.crosstown.relay.writer',
        data: Buffer.from(data).toString('hex'),
      },
    });
    const fulfilled = await reply;
    await kill(first.child);
    expect(fulfilled.type).toBe(IlpPacketType.Fulfill);

    // 2. Free write over WebSocket; SIGKILL as soon as OK true arrives.
    const free = sign(sk, 1, [], 'free note');
    const second = await startChild();
    const client = await TestClient.connect(second.url);
    const ok = await client.publish(free);
    await kill(second.child);
    expect(ok).toEqual([true, '']);

    // 3. Restart on the same file: both events are served.
    const third = await startChild();
    const reader = await TestClient.connect(third.url);
    const got = await reader.req('after', { ids: [paid.id, free.id] });
    reader.close();
    await kill(third.child);
    expect(got).toHaveLength(2);
    expect(new Set(got)).toEqual(new Set([paid, free]));
  });

  it('keeps every write acknowledged before a SIGKILL that lands in the middle of a stream of paid and free writes', async () => {
    const { child, url } = await startChild({ VERIFY_THREADS: '2' });
    const fulfilled = new Set<string>();
    const events = Array.from({ length: 600 }, (_, i) => sign(sk, 5065, [['t', 'stream']], `stream ${i}`));
    const bySeq = new Map(events.map((e, i) => [i, e]));
    child.on('message', (m) => {
      const reply = m as { seq?: number; type: number };
      if (reply.seq !== undefined && reply.type === IlpPacketType.Fulfill)
        fulfilled.add(bySeq.get(reply.seq)!.id);
    });
    // Free writes over WebSocket at the same time; OK true is an acknowledgement too.
    const client = await TestClient.connect(url);
    const okFree = new Set<string>();
    const freeWriter = (async () => {
      for (let i = 0; i < 200; i++) {
        const e = sign(sk, 1, [['t', 'stream-free']], `free ${i}`);
        try {
          const [ok] = await client.publish(e, e.id, 'EVENT');
          if (ok) okFree.add(e.id);
        } catch {
          return; // the relay died mid-answer
        }
      }
    })();
    // Keep ~32 paid writes in flight; SIGKILL once 150 have been fulfilled, with more still in flight.
    let next = 0;
    const killed = new Promise<void>((resolve) => {
      const pump = setInterval(() => {
        while (next < events.length && next - fulfilled.size < 32) {
          const data = encodeEventBytes(events[next]!);
          child.send({
            seq: next++,
            prepare: {
              amount: String(data.length),
              expiresAt: new Date(Date.now() + 30_000).toISOString(),
              executionCondition: Buffer.from(conditionOf(deriveFulfillment(secret, data))).toString('hex'),
              destination: 'g.crosstown.relay.writer',
              data: Buffer.from(data).toString('hex'),
            },
          });
        }
        if (fulfilled.size >= 150) {
          clearInterval(pump);
          child.kill('SIGKILL');
          resolve();
        }
      }, 1);
    });
    await killed;
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await freeWriter;
    const acknowledged = [...fulfilled, ...okFree];
    expect(fulfilled.size).toBeGreaterThanOrEqual(150);
    expect(next).toBeGreaterThan(fulfilled.size); // the kill landed while writes were in flight

    const restarted = await startChild();
    const reader = await TestClient.connect(restarted.url);
    const found = new Set<string>();
    for (let i = 0; i < acknowledged.length; i += 400) {
      const got = (await reader.req(`r${i}`, { ids: acknowledged.slice(i, i + 400) })) as { id: string }[];
      for (const e of got) found.add(e.id);
    }
    reader.close();
    await kill(restarted.child);
    expect(acknowledged.filter((id) => !found.has(id))).toEqual([]);
  });
});
