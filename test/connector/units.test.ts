import { describe, expect, it } from 'vitest';
import {
  CLAIM_PROTOCOL,
  decodeClaimMessage,
  encodeClaimMessage,
  UnpaidPackets,
} from '../../src/connector/index.js';

const c1 = 'a'.repeat(64);
const c2 = 'b'.repeat(64);

describe('UnpaidPackets', () => {
  it('sums listed packets, removes them only when all are known, and handles repeated conditions', () => {
    const u = new UnpaidPackets();
    u.add(c1, 5n);
    u.add(c1, 7n);
    u.add(c2, 3n);
    expect(u.total).toBe(15n);
    expect(u.sumOf([c1, c1])).toBe(12n);
    expect(() => u.take([c1, c1, c1])).toThrow(/not fulfilled for this peer or is already paid/);
    expect(u.total).toBe(15n);
    expect(u.take([c1, c2])).toBe(8n);
    expect(u.conditions()).toEqual([c1]);
    expect(u.take([c1])).toBe(7n);
    expect(u.total).toBe(0n);
    expect(u.size).toBe(0);
  });
});

describe('payment-channel-claim message', () => {
  const msg = {
    channelId: `0x${'1'.repeat(64)}` as const,
    cumulativeAmount: 12345678901234567890n,
    signature: `0x${'2'.repeat(130)}` as const,
    pays: [c1, c2],
  };

  it('round-trips as JSON protocol data', () => {
    const pd = encodeClaimMessage(msg);
    expect(pd.protocolName).toBe(CLAIM_PROTOCOL);
    expect(pd.contentType).toBe(2);
    expect(decodeClaimMessage(pd.data)).toEqual(msg);
  });

  it.each([
    ['not JSON', 'nope'],
    ['array', '[]'],
    [
      'unknown field',
      JSON.stringify({ ...JSON.parse(new TextDecoder().decode(encodeClaimMessage(msg).data)), x: 1 }),
    ],
    [
      'numeric amount',
      JSON.stringify({ channelId: msg.channelId, cumulativeAmount: 5, signature: msg.signature, pays: [c1] }),
    ],
    [
      'leading zero',
      JSON.stringify({
        channelId: msg.channelId,
        cumulativeAmount: '05',
        signature: msg.signature,
        pays: [c1],
      }),
    ],
    [
      'short channel',
      JSON.stringify({ channelId: '0x12', cumulativeAmount: '5', signature: msg.signature, pays: [c1] }),
    ],
    [
      'empty pays',
      JSON.stringify({ channelId: msg.channelId, cumulativeAmount: '5', signature: msg.signature, pays: [] }),
    ],
    [
      'upper-case condition',
      JSON.stringify({
        channelId: msg.channelId,
        cumulativeAmount: '5',
        signature: msg.signature,
        pays: [c1.toUpperCase()],
      }),
    ],
  ])('rejects %s', (_name, text) => {
    expect(() => decodeClaimMessage(new TextEncoder().encode(text))).toThrow(
      /payment-channel-claim is malformed/,
    );
  });
});
