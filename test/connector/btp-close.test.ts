// A BTP client's close() answers the requests it is already answering before the socket closes. A Mayor that
// detaches while it accepts a node's claim (provider mode stopping) used to close mid-answer: the claim was
// accepted and recorded on its side, the node saw "the BTP connection closed" and held the packets as owed until
// its next session's resync (test/node/sigkill-provider-earnings.test.ts failed on that once in CI). Real
// WebSockets on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest';
import { BtpClient } from '../../src/connector/btp-client.js';
import { BtpServer } from '../../src/connector/btp-server.js';
import type { BtpSessionHandlers } from '../../src/connector/btp-session.js';
import type { ClaimMessage } from '../../src/connector/claim-message.js';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s().catch(() => {});
});

const claim: ClaimMessage = {
  channelId: `0x${'11'.repeat(32)}`,
  cumulativeAmount: 5n,
  signature: `0x${'22'.repeat(65)}`,
  pays: ['33'.repeat(32)],
};

async function pair(clientHandlers: BtpSessionHandlers) {
  const server = await BtpServer.start({
    port: 0,
    host: '127.0.0.1',
    authenticate: (t) => (t === 'token' ? 'peer' : undefined),
    handlersFor: () => ({}),
  });
  stops.push(() => server.close());
  const client = await BtpClient.connect({ url: server.url, authToken: 'token', ...clientHandlers });
  stops.push(() => client.close());
  return { server, client };
}

describe('BtpClient.close', () => {
  it('answers a claim it is accepting before it closes the socket', async () => {
    let started!: () => void;
    const accepting = new Promise<void>((r) => {
      started = r;
    });
    const accepted: ClaimMessage[] = [];
    const { server, client } = await pair({
      onClaim: async (m) => {
        started();
        await new Promise((r) => setTimeout(r, 150)); // e.g. the earnings ledger's fsync
        accepted.push(m);
      },
    });
    const sent = server.session('peer')!.sendClaim(claim);
    sent.catch(() => {}); // asserted below; a rejection before that is not unhandled
    await accepting;
    await client.close();
    await expect(sent).resolves.toBeUndefined();
    expect(accepted).toEqual([claim]);
    expect(client.connected).toBe(false);
  });

  it('does not wait past its bound for a handler that hangs', async () => {
    let started!: () => void;
    const accepting = new Promise<void>((r) => {
      started = r;
    });
    const { server, client } = await pair({
      onClaim: () => {
        started();
        return new Promise<void>(() => {}); // never answers
      },
    });
    const sent = server.session('peer')!.sendClaim(claim, 10_000);
    sent.catch(() => {});
    await accepting;
    const t0 = Date.now();
    await client.close();
    expect(Date.now() - t0).toBeLessThan(4_000);
    await expect(sent).rejects.toThrow(/closed/);
  });
});
