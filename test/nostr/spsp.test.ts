import { describe, expect, it } from 'vitest';
import { NostrError } from '../../src/nostr/errors.js';
import { finalizeEvent, verifyEvent } from '../../src/nostr/event.js';
import { generateSecretKey, getPublicKey } from '../../src/nostr/keys.js';
import { isEphemeralKind, KIND_SPSP_REQUEST, KIND_SPSP_RESPONSE } from '../../src/nostr/kinds.js';
import { encrypt, getConversationKey } from '../../src/nostr/nip44.js';
import {
  buildSpspRequest,
  buildSpspResponse,
  parseSpspRequest,
  parseSpspResponse,
  type SpspResponse,
} from '../../src/nostr/spsp.js';

const mayorSk = generateSecretKey();
const mayorPk = getPublicKey(mayorSk);
const nodeSk = generateSecretKey();
const nodePk = getPublicKey(nodeSk);

const response: SpspResponse = {
  destinationAccount: 'g.crosstown.node.relay',
  sharedSecret: Buffer.alloc(32, 7).toString('base64'),
  basePricePerByte: 10_000_000_000_000n,
  settlement: {
    chainId: 31337,
    token: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    channelContract: '0xe7f1725e7734ce288f8367e1bb143e90bb3f0512',
    settlementAddress: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  },
  ilpAddress: 'g.crosstown.node.mayor-alice',
  btpUrl: 'ws://127.0.0.1:7768',
  btpToken: 'secret-token',
};

function expectSpspError(fn: () => unknown, message: RegExp, code = 'invalid_spsp'): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NostrError);
    expect((err as NostrError).code).toBe(code);
    expect((err as NostrError).message).toMatch(message);
    return;
  }
  throw new Error('expected a NostrError');
}

/** A 23194/23195 signed by `sk` whose encrypted body is `body` (any JSON), for malformed-input tests. */
function rawEvent(kind: number, body: unknown, tags: string[][], sk = mayorSk, to = nodePk) {
  const content = encrypt(JSON.stringify(body), getConversationKey(sk, to));
  return finalizeEvent({ kind, tags, content }, sk);
}

describe('SPSP request (kind 23194)', () => {
  const request = {
    requestId: 'req-1',
    settlementAddress: response.settlement.settlementAddress,
    supportedChains: [31337, 84532],
  };
  const event = buildSpspRequest(mayorSk, nodePk, request);

  it('is ephemeral, addressed with p, encrypted and signed', () => {
    expect(event.kind).toBe(KIND_SPSP_REQUEST);
    expect(isEphemeralKind(event.kind)).toBe(true);
    expect(event.tags).toEqual([['p', nodePk]]);
    expect(event.content).not.toContain('req-1');
    expect(verifyEvent(event)).toBe(true);
  });

  it('round trips', () => {
    const parsed = parseSpspRequest(event, nodeSk);
    expect(parsed.request).toEqual(request);
    expect(parsed.senderPubkey).toBe(mayorPk);
    expect(parseSpspRequest(buildSpspRequest(mayorSk, nodePk, { requestId: 'r' }), nodeSk).request).toEqual({
      requestId: 'r',
    });
  });

  it('rejects what is not for us or not authentic', () => {
    expectSpspError(() => parseSpspRequest(event, generateSecretKey()), /not to this key/);
    expectSpspError(
      () =>
        parseSpspRequest({ ...event, content: `${event.content}`, created_at: event.created_at + 1 }, nodeSk),
      /signature/,
    );
    expectSpspError(
      () => parseSpspRequest({ ...event, kind: KIND_SPSP_RESPONSE }, nodeSk),
      /expected kind 23194/,
    );
    // Signed by someone else but claiming to be from the Mayor: signature check fails.
    const other = generateSecretKey();
    const forged = { ...buildSpspRequest(other, nodePk, request), pubkey: mayorPk };
    expectSpspError(() => parseSpspRequest(forged, nodeSk), /signature/);
  });

  it('rejects content encrypted with the wrong key (MAC)', () => {
    const content = encrypt(
      '{"requestId":"x"}',
      getConversationKey(mayorSk, getPublicKey(generateSecretKey())),
    );
    const e = finalizeEvent({ kind: KIND_SPSP_REQUEST, tags: [['p', nodePk]], content }, mayorSk);
    expectSpspError(() => parseSpspRequest(e, nodeSk), /MAC/, 'nip44_invalid_mac');
  });

  const bad: [string, unknown, RegExp][] = [
    ['array body', [], /JSON object/],
    ['missing requestId', {}, /requestId/],
    ['empty requestId', { requestId: '' }, /requestId/],
    ['numeric requestId', { requestId: 5 }, /requestId/],
    ['long requestId', { requestId: 'x'.repeat(129) }, /requestId/],
    ['bad settlementAddress', { requestId: 'r', settlementAddress: '0x1234' }, /settlementAddress/],
    ['chains not numbers', { requestId: 'r', supportedChains: ['1'] }, /supportedChains/],
    ['chain zero', { requestId: 'r', supportedChains: [0] }, /supportedChains/],
    ['unknown field', { requestId: 'r', amount: 1 }, /unknown field 'amount'/],
  ];
  it.each(bad)('rejects body: %s', (_name, body, message) => {
    expectSpspError(
      () => parseSpspRequest(rawEvent(KIND_SPSP_REQUEST, body, [['p', nodePk]]), nodeSk),
      message,
    );
  });

  it('rejects non-JSON content', () => {
    const content = encrypt('not json', getConversationKey(mayorSk, nodePk));
    const e = finalizeEvent({ kind: KIND_SPSP_REQUEST, tags: [['p', nodePk]], content }, mayorSk);
    expectSpspError(() => parseSpspRequest(e, nodeSk), /not valid JSON/);
  });

  it('refuses to build a bad request', () => {
    expectSpspError(() => buildSpspRequest(mayorSk, nodePk, { requestId: '' }), /requestId/);
    expectSpspError(() => buildSpspRequest(mayorSk, 'NOT', { requestId: 'x' }), /recipient pubkey/);
  });
});

describe('SPSP response (kind 23195)', () => {
  const requestEvent = buildSpspRequest(mayorSk, nodePk, { requestId: 'req-2' });
  const event = buildSpspResponse(nodeSk, requestEvent, response);

  it('is addressed to the requester and tied to the request', () => {
    expect(event.kind).toBe(KIND_SPSP_RESPONSE);
    expect(isEphemeralKind(event.kind)).toBe(true);
    expect(event.tags).toEqual([
      ['p', mayorPk],
      ['e', requestEvent.id],
    ]);
    expect(event.content).not.toContain('secret-token');
  });

  it('round trips, with basePricePerByte as a bigint', () => {
    const parsed = parseSpspResponse(event, mayorSk, requestEvent.id);
    expect(parsed.response).toEqual(response);
    expect(typeof parsed.response.basePricePerByte).toBe('bigint');
    expect(parsed.senderPubkey).toBe(nodePk);
    expect(parsed.requestEventId).toBe(requestEvent.id);
  });

  it('checks the request id, the addressee and the signature', () => {
    expectSpspError(() => parseSpspResponse(event, mayorSk, 'f'.repeat(64)), /answers request/);
    expectSpspError(() => parseSpspResponse(event, nodeSk), /not to this key/);
    expectSpspError(() => parseSpspResponse({ ...event, tags: [['p', mayorPk]] }, mayorSk), /signature/);
    const noE = rawEvent(
      KIND_SPSP_RESPONSE,
      { ...response, basePricePerByte: '1' },
      [['p', mayorPk]],
      nodeSk,
      mayorPk,
    );
    expectSpspError(() => parseSpspResponse(noE, mayorSk), /no valid e tag/);
  });

  const wire = { ...response, basePricePerByte: response.basePricePerByte.toString() };
  const bad: [string, unknown, RegExp][] = [
    ['missing btpToken', { ...wire, btpToken: undefined }, /missing 'btpToken'/],
    ['extra field', { ...wire, note: 'hi' }, /unknown field 'note'/],
    ['secret too short', { ...wire, sharedSecret: Buffer.alloc(31).toString('base64') }, /sharedSecret/],
    ['secret too long', { ...wire, sharedSecret: Buffer.alloc(33).toString('base64') }, /sharedSecret/],
    [
      'secret base64url',
      { ...wire, sharedSecret: Buffer.alloc(32, 255).toString('base64url') },
      /sharedSecret/,
    ],
    ['price as number', { ...wire, basePricePerByte: 10 }, /basePricePerByte/],
    ['price negative', { ...wire, basePricePerByte: '-1' }, /basePricePerByte/],
    ['bad destination', { ...wire, destinationAccount: 'nope' }, /destinationAccount/],
    ['bad ilpAddress', { ...wire, ilpAddress: '' }, /ilpAddress/],
    ['bad btpUrl', { ...wire, btpUrl: 'tcp://x' }, /btpUrl/],
    ['empty btpToken', { ...wire, btpToken: '' }, /btpToken/],
    ['settlement not object', { ...wire, settlement: 'x' }, /settlement/],
    ['settlement bad chain', { ...wire, settlement: { ...wire.settlement, chainId: -5 } }, /chainId/],
    [
      'settlement bad contract',
      { ...wire, settlement: { ...wire.settlement, channelContract: 'abc' } },
      /channelContract/,
    ],
  ];
  it.each(bad)('rejects body: %s', (_name, body, message) => {
    const e = rawEvent(
      KIND_SPSP_RESPONSE,
      body,
      [
        ['p', mayorPk],
        ['e', requestEvent.id],
      ],
      nodeSk,
      mayorPk,
    );
    expectSpspError(() => parseSpspResponse(e, mayorSk), message);
  });

  it('refuses to build a bad response', () => {
    expectSpspError(
      () => buildSpspResponse(nodeSk, requestEvent, { ...response, basePricePerByte: -1n }),
      /basePricePerByte/,
    );
    expectSpspError(
      () => buildSpspResponse(nodeSk, requestEvent, { ...response, sharedSecret: 'abc' }),
      /sharedSecret/,
    );
  });
});
