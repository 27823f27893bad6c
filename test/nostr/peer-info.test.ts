import { describe, expect, it } from 'vitest';
import { NostrError } from '../../src/nostr/errors.js';
import { finalizeEvent } from '../../src/nostr/event.js';
import { generateSecretKey, getPublicKey } from '../../src/nostr/keys.js';
import { isReplaceableKind, KIND_PEER_INFO } from '../../src/nostr/kinds.js';
import { buildPeerInfo, type PeerInfo, parsePeerInfo } from '../../src/nostr/peer-info.js';

const sk = generateSecretKey();
const info: PeerInfo = {
  ilpAddress: 'g.crosstown.node',
  btpUrl: 'ws://127.0.0.1:7768',
  settlement: {
    chainId: 84532,
    token: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    channelContract: '0xe7f1725e7734ce288f8367e1bb143e90bb3f0512',
    settlementAddress: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  },
  basePricePerByte: 10_000_000_000_000n,
};
const event = finalizeEvent(buildPeerInfo(info), sk);
const withContent = (content: unknown) =>
  finalizeEvent(
    {
      kind: KIND_PEER_INFO,
      tags: [],
      content: typeof content === 'string' ? content : JSON.stringify(content),
    },
    sk,
  );
const body = JSON.parse(event.content) as Record<string, unknown>;

function expectError(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NostrError);
    expect((err as NostrError).code).toBe('invalid_peer_info');
    expect((err as NostrError).message).toMatch(message);
    return;
  }
  throw new Error('expected a NostrError');
}

describe('kind 10032 peer info', () => {
  it('is a replaceable event with JSON content and an ilp tag', () => {
    expect(event.kind).toBe(KIND_PEER_INFO);
    expect(isReplaceableKind(event.kind)).toBe(true);
    expect(event.tags).toEqual([['ilp', 'g.crosstown.node']]);
    expect(body.basePricePerByte).toBe('10000000000000');
  });

  it('round trips', () => {
    const parsed = parsePeerInfo(event);
    expect(parsed).toMatchObject(info);
    expect(parsed.pubkey).toBe(getPublicKey(sk));
  });

  it('accepts the btp+ws:// and btp+wss:// forms interledgerjs plugins take, and still ws:// / wss://', () => {
    for (const btpUrl of ['btp+ws://127.0.0.1:7768', 'btp+wss://node.example', 'wss://node.example']) {
      expect(parsePeerInfo(withContent({ ...body, btpUrl })).btpUrl).toBe(btpUrl);
    }
    expectError(() => parsePeerInfo(withContent({ ...body, btpUrl: 'btp+http://x' })), /btpUrl/);
  });

  it('parses an event without the ilp tag', () => {
    expect(parsePeerInfo(withContent(body)).ilpAddress).toBe('g.crosstown.node');
  });

  it('rejects malformed peer info', () => {
    expectError(() => parsePeerInfo({ ...event, kind: 10033 }), /not peer info/);
    expectError(() => parsePeerInfo(withContent('not json')), /not valid JSON/);
    expectError(() => parsePeerInfo(withContent([])), /JSON object/);
    expectError(() => parsePeerInfo(withContent({ ...body, extra: 1 })), /unknown field 'extra'/);
    expectError(() => parsePeerInfo(withContent({ ...body, ilpAddress: 'x.y' })), /ilpAddress/);
    expectError(() => parsePeerInfo(withContent({ ...body, btpUrl: 'http://127.0.0.1' })), /btpUrl/);
    expectError(() => parsePeerInfo(withContent({ ...body, basePricePerByte: 10 })), /basePricePerByte/);
    expectError(() => parsePeerInfo(withContent({ ...body, basePricePerByte: '0.1' })), /basePricePerByte/);
    const settlement = body.settlement as Record<string, unknown>;
    expectError(
      () => parsePeerInfo(withContent({ ...body, settlement: { ...settlement, chainId: '1' } })),
      /chainId/,
    );
    expectError(
      () => parsePeerInfo(withContent({ ...body, settlement: { ...settlement, token: '0x12' } })),
      /token/,
    );
    expectError(
      () => parsePeerInfo(withContent({ ...body, settlement: { ...settlement, rpc: 'x' } })),
      /unknown field 'rpc'/,
    );
    const { btpUrl: _omit, ...missing } = body;
    expectError(() => parsePeerInfo(withContent(missing)), /btpUrl/);
    const mismatched = finalizeEvent(
      { kind: KIND_PEER_INFO, tags: [['ilp', 'g.other']], content: event.content },
      sk,
    );
    expectError(() => parsePeerInfo(mismatched), /disagrees/);
  });

  it('refuses to build bad peer info', () => {
    expectError(() => buildPeerInfo({ ...info, basePricePerByte: -1n }), /basePricePerByte/);
    expectError(() => buildPeerInfo({ ...info, settlement: { ...info.settlement, chainId: 0 } }), /chainId/);
  });
});
