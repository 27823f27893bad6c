// The Mayor's claims against the node's per-peer claim budget (issue 14: 200 at once, then 50/s), on a real anvil
// and a real node: an honest Mayor writing one at a time as fast as it can used to send one claim per FULFILL
// (about 270/s on a quiet machine), so past the burst its claims were refused `rate-limited` and the node kept
// the packets owed. Background claims are now at most one per `claimIntervalMs` (25 ms: 40/s), each covering
// everything owed; an explicit settle() still claims at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IlpPacketType } from '../../src/ilp/index.js';
import { type MayorOnNode, startMayorOnNode } from '../support/mayor-on-node.js';

let h: MayorOnNode;

beforeAll(async () => {
  h = await startMayorOnNode('crosstown-claim-cadence-');
});

afterAll(async () => {
  await h?.close();
});

describe('claim cadence', () => {
  it('a claim follows its FULFILL one interval later, not at once (off the path of what the writer does next)', async () => {
    const interval = 300;
    const att = await h.attachMayor({ claimIntervalMs: interval });
    const sentAt: number[] = [];
    const send = att.btp.sendClaim.bind(att.btp);
    att.btp.sendClaim = (msg) => {
      sentAt.push(Date.now());
      return send(msg);
    };
    expect((await h.write(att)).reply.type).toBe(IlpPacketType.Fulfill);
    const fulfilledAt = Date.now();
    // A second write inside the interval joins the same claim.
    expect((await h.write(att)).reply.type).toBe(IlpPacketType.Fulfill);
    expect(sentAt).toEqual([]);
    for (let i = 0; i < 100 && sentAt.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sentAt.length).toBe(1);
    expect(sentAt[0]! - fulfilledAt).toBeGreaterThanOrEqual(interval - 20);
    await new Promise((r) => setTimeout(r, 2 * interval));
    expect(sentAt.length).toBe(1);
    const peer = att.spsp.ilpAddress.split('.').at(-1)!;
    expect(h.node.connector.balance(peer).owedByPeer).toBe(0n);
    await att.detach();
  }, 30_000);

  it('writes back to back share claims (at most one per interval), none refused, and settle() pays everything', async () => {
    // A longer interval than the default (25 ms) so that the bound shows even on a loaded machine, where a
    // write takes tens of ms.
    const interval = 200;
    const att = await h.attachMayor({ claimIntervalMs: interval });
    let claimsSent = 0;
    const send = att.btp.sendClaim.bind(att.btp);
    att.btp.sendClaim = (msg) => {
      claimsSent++;
      return send(msg);
    };
    const writes = 200;
    const started = Date.now();
    for (let i = 0; i < writes; i++) expect((await h.write(att)).reply.type).toBe(IlpPacketType.Fulfill);
    const seconds = (Date.now() - started) / 1000;
    await att.settle();
    // At most one background claim per interval, plus the explicit settle and the one the timer still owed.
    expect(claimsSent).toBeLessThanOrEqual(Math.ceil((seconds * 1000) / interval) + 3);
    expect(h.warnings.filter((w) => /claim failed/.test(w))).toEqual([]);
    // Everything the node fulfilled is paid by the accepted claim.
    const peer = att.spsp.ilpAddress.split('.').at(-1)!;
    const b = h.node.connector.balance(peer);
    expect(b.owedByPeer).toBe(0n);
    expect(b.paidByPeer).toBe(att.channel().cumulative);
  }, 60_000);
});
