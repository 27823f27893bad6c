// Fan-out batching: frames sent to one connection in the same tick leave in one socket write (writev) instead of
// one per frame, in order and all of them; frames of a later tick are written after. Real ws server and client
// on loopback; the socket's write methods are wrapped only to count the calls (the bytes still go out).
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { Connection } from '../../src/relay/connection.js';
import { countSocketWrites } from '../support/socket-writes.js';
import { until } from '../support/until.js';

let wss: WebSocketServer | undefined;
afterEach(async () => {
  for (const c of wss?.clients ?? []) c.terminate();
  await new Promise<void>((r) => (wss ? wss.close(() => r()) : r()));
  wss = undefined;
});

/** A server-side Connection (with the upgrade socket, as the relay makes it) and a client reading from it. */
async function pair(withSocket: boolean) {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss!.once('listening', () => r()));
  const { port } = wss.address() as { port: number };
  const accepted = new Promise<{ conn: Connection; writes: () => number }>((resolve) =>
    wss!.once('connection', (ws: WebSocket, req: IncomingMessage) => {
      const socket = req.socket as Socket;
      const writeCount = countSocketWrites(socket);
      resolve({
        conn: new Connection('c1', ws, 'json', Number.POSITIVE_INFINITY, withSocket ? socket : undefined),
        writes: writeCount,
      });
    }),
  );
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  const received: string[] = [];
  client.on('message', (d) => received.push(String(d)));
  await new Promise((r) => client.once('open', r));
  return { ...(await accepted), client, received };
}

describe('Connection fan-out batching', () => {
  it('50 frames of one tick go out in one socket write, in order; the next tick writes again', async () => {
    const { conn, writes, client, received } = await pair(true);
    const before = writes();
    for (let i = 0; i < 50; i++) conn.sendText(`["EVENT","s",${i}]`);
    await until(() => received.length === 50);
    expect(received).toEqual(Array.from({ length: 50 }, (_, i) => `["EVENT","s",${i}]`));
    expect(writes() - before).toBe(1);
    conn.sendText('["EOSE","s"]');
    await until(() => received.length === 51);
    expect(received[50]).toBe('["EOSE","s"]');
    expect(writes() - before).toBe(2);
    client.close();
  });

  it('without the socket (as before) each frame is its own write: what the batching saves', async () => {
    const { conn, writes, client, received } = await pair(false);
    const before = writes();
    for (let i = 0; i < 50; i++) conn.sendText(`["EVENT","s",${i}]`);
    await until(() => received.length === 50);
    expect(writes() - before).toBe(50);
    client.close();
  });
});
