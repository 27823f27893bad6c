// A JSON-RPC proxy on 127.0.0.1 in front of a real node (anvil) that counts the calls passing through it, by
// method (a batch counts each call). Lets a test see how many RPC reads a peer's messages cost the node.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RpcCounter {
  url: string;
  /** Calls forwarded so far, all methods. */
  readonly total: number;
  /** Calls of one method (e.g. eth_call). */
  count(method: string): number;
  close(): Promise<void>;
}

export async function startRpcCounter(upstream: string): Promise<RpcCounter> {
  const byMethod = new Map<string, number>();
  let total = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const parsed = JSON.parse(body) as { method?: string } | { method?: string }[];
        for (const call of Array.isArray(parsed) ? parsed : [parsed]) {
          total++;
          const m = call.method ?? '?';
          byMethod.set(m, (byMethod.get(m) ?? 0) + 1);
        }
        const upstreamRes = await fetch(upstream, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        res.writeHead(upstreamRes.status, { 'content-type': 'application/json' });
        res.end(await upstreamRes.text());
      } catch (err) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`rpc counter: ${(err as Error).message}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get total() {
      return total;
    },
    count: (method) => byMethod.get(method) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
