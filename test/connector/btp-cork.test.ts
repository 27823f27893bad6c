// BTP frames answered in the same tick leave in one socket write (the FULFILLs of one group commit), in order and
// all of them; a later tick writes again. Real ws server and client on loopback with a BtpSession on each side;
// the server socket's write methods are wrapped only to count the calls (the bytes still go out).
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { BtpSession } from '../../src/connector/btp-session.js';
import { conditionOf, IlpPacketType, type IlpPrepare, type IlpReply } from '../../src/ilp/index.js';
import { countSocketWrites } from '../support/socket-writes.js';
import { until } from '../support/until.js';

let wss: WebSocketServer | undefined;
let client: WebSocket | undefined;
afterEach(async () => {
  client?.terminate();
  for (const c of wss?.clients ?? []) c.terminate();
  await new Promise<void>((r) => (wss ? wss.close(() => r()) : r()));
  wss = undefined;
  client = undefined;
});

const prepare = (i: number): IlpPrepare => ({
  type: IlpPacketType.Prepare,
  amount: BigInt(i + 1),
  expiresAt: new Date(Date.now() + 30_000),
  executionCondition: conditionOf(new Uint8Array(32).fill(i)),
  destination: 'g.test.sink',
  data: new Uint8Array(300).fill(i),
});

/** Server session whose PREPAREs wait for `release()`, so all answers are sent in one tick. */
async function pair() {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss!.once('listening', () => r()));
  const { port } = wss.address() as { port: number };
  let release: () => void = () => {};
  let gate = new Promise<void>((r) => {
    release = r;
  });
  let arrived = 0;
  const writes = new Promise<() => number>((resolve) =>
    wss!.once('connection', (ws: WebSocket, req: IncomingMessage) => {
      const writeCount = countSocketWrites(req.socket as Socket);
      const session = new BtpSession(ws, {
        onPrepare: async (p): Promise<IlpReply> => {
          arrived++;
          await gate;
          return {
            type: IlpPacketType.Fulfill,
            fulfillment: new Uint8Array(32).fill(Number(p.amount) - 1), // prepare(i)'s preimage: amount is i + 1
            data: p.data.subarray(0, 8),
          };
        },
      });
      ws.on('message', (d) => void session.handleFrame(new Uint8Array(d as Buffer)));
      resolve(writeCount);
    }),
  );
  client = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise((r) => client!.once('open', r));
  const mine = new BtpSession(client, {});
  client.on('message', (d) => void mine.handleFrame(new Uint8Array(d as Buffer)));
  const next = () => {
    gate = new Promise<void>((r) => {
      release = r;
    });
  };
  return { mine, writes: await writes, arrived: () => arrived, release: () => release(), next };
}

describe('BtpSession write batching', () => {
  it('50 answers of one tick go out in one socket write, each to its request; the next tick writes again', async () => {
    const { mine, writes, arrived, release, next } = await pair();
    const replies = Array.from({ length: 50 }, (_, i) => mine.sendPrepare(prepare(i), 10_000));
    await until(() => arrived() === 50);
    const before = writes();
    release();
    const got = await Promise.all(replies);
    expect(writes() - before).toBe(1);
    got.forEach((r, i) => {
      expect(r.type).toBe(IlpPacketType.Fulfill);
      if (r.type === IlpPacketType.Fulfill) {
        expect(r.fulfillment).toEqual(new Uint8Array(32).fill(i));
        expect(r.data).toEqual(new Uint8Array(8).fill(i));
      }
    });
    next();
    const one = mine.sendPrepare(prepare(7), 10_000);
    await until(() => arrived() === 51);
    release();
    expect((await one).type).toBe(IlpPacketType.Fulfill);
    expect(writes() - before).toBe(2);
  });
});
