import { describe, expect, it } from 'vitest';
import { NostrError } from '../../src/nostr/errors.js';
import { finalizeEvent } from '../../src/nostr/event.js';
import { matchFilter } from '../../src/nostr/filter.js';
import { generateSecretKey, getPublicKey } from '../../src/nostr/keys.js';
import { isAddressableKind, KIND_HANDLER_INFO } from '../../src/nostr/kinds.js';
import { buildHandlerInfo, type HandlerInfo, parseHandlerInfo } from '../../src/nostr/nip89.js';
import type { NostrEvent } from '../../src/nostr/types.js';

const sk = generateSecretKey();
const info: HandlerInfo = {
  identifier: 'crosstown-provider',
  kinds: [5065],
  jobTypes: ['ci-cd-linux', 'docker-build-amd64'],
  prices: { 'ci-cd-linux': 5000n, 'docker-build-amd64': 10n ** 20n },
  ilpAddress: 'g.crosstown.node.provider',
  limits: { timeoutSeconds: 600, maxOutputBytes: 30000, concurrency: 2 },
  metadata: { name: 'Provider Town', about: 'runs CI' },
};
const event = finalizeEvent(buildHandlerInfo(info), sk);

function retag(edit: (tags: string[][]) => string[][], content = event.content): NostrEvent {
  return finalizeEvent({ kind: event.kind, tags: edit(event.tags.map((t) => [...t])), content }, sk);
}

function expectError(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NostrError);
    expect((err as NostrError).code).toBe('invalid_handler_info');
    expect((err as NostrError).message).toMatch(message);
    return;
  }
  throw new Error('expected a NostrError');
}

describe('NIP-89 handler info (kind 31990)', () => {
  it('builds an addressable event providers can be found by', () => {
    expect(event.kind).toBe(KIND_HANDLER_INFO);
    expect(isAddressableKind(event.kind)).toBe(true);
    expect(event.tags).toContainEqual(['d', 'crosstown-provider']);
    expect(event.tags).toContainEqual(['k', '5065']);
    expect(event.tags).toContainEqual(['price', 'docker-build-amd64', '100000000000000000000']);
    expect(event.tags).toContainEqual(['ilp', 'g.crosstown.node.provider']);
    expect(matchFilter({ kinds: [31990], '#k': ['5065'], '#t': ['ci-cd-linux'] }, event)).toBe(true);
  });

  it('round trips', () => {
    const parsed = parseHandlerInfo(event);
    expect(parsed).toMatchObject(info);
    expect(parsed.provider).toBe(getPublicKey(sk));
  });

  it('accepts empty content and ignores unknown limit names', () => {
    const parsed = parseHandlerInfo(retag((t) => [...t, ['limit', 'gpus', '4']], ''));
    expect(parsed.metadata).toEqual({});
    expect(parsed.limits).toEqual(info.limits);
  });

  it('rejects malformed handler info', () => {
    expectError(() => parseHandlerInfo({ ...event, kind: 31989 }), /not handler info/);
    expectError(() => parseHandlerInfo(retag((t) => t.filter((x) => x[0] !== 'd'))), /no d tag/);
    expectError(() => parseHandlerInfo(retag((t) => t.filter((x) => x[0] !== 'k'))), /no k tag/);
    expectError(() => parseHandlerInfo(retag((t) => [...t, ['k', 'abc']])), /not a kind/);
    expectError(() => parseHandlerInfo(retag((t) => [...t, ['k', '70000']])), /not a kind/);
    expectError(() => parseHandlerInfo(retag((t) => t.filter((x) => x[0] !== 'ilp'))), /no valid ilp tag/);
    expectError(
      () => parseHandlerInfo(retag((t) => t.map((x) => (x[0] === 'ilp' ? ['ilp', 'not an address'] : x)))),
      /ilp/,
    );
    const badPrice = (t: string[][]) =>
      t.map((x) => (x[0] === 'price' && x[1] === 'ci-cd-linux' ? ['price', 'ci-cd-linux', '1.5'] : x));
    expectError(() => parseHandlerInfo(retag(badPrice)), /price of ci-cd-linux/);
    expectError(
      () => parseHandlerInfo(retag((t) => [...t, ['price', 'ci-cd-linux', '1']])),
      /more than one price/,
    );
    expectError(
      () => parseHandlerInfo(retag((t) => [...t, ['price', 'gpu-render', '1']])),
      /without a matching t tag/,
    );
    expectError(
      () => parseHandlerInfo(retag((t) => [...t, ['limit', 'concurrency', '-1']])),
      /limit concurrency/,
    );
    expectError(() => parseHandlerInfo(retag((t) => t, '[1,2]')), /must be a JSON object/);
    expectError(() => parseHandlerInfo(retag((t) => t, '{oops')), /not valid JSON/);
  });

  it('refuses to build bad handler info', () => {
    expectError(() => buildHandlerInfo({ ...info, kinds: [] }), /at least one kind/);
    expectError(() => buildHandlerInfo({ ...info, ilpAddress: 'nope' }), /invalid ILP address/);
    expectError(() => buildHandlerInfo({ ...info, prices: { other: 1n } }), /not in jobTypes/);
    expectError(() => buildHandlerInfo({ ...info, prices: { 'ci-cd-linux': -1n } }), /non-negative bigint/);
  });
});

describe('payment modes (issue 19)', () => {
  it('lists the modes served; an advert without the tag reads as after-result only', () => {
    const withModes = finalizeEvent(
      buildHandlerInfo({ ...info, paymentModes: ['atomic', 'after-result'] }),
      sk,
    );
    expect(withModes.tags).toContainEqual(['payment', 'atomic', 'after-result']);
    expect(parseHandlerInfo(withModes).paymentModes).toEqual(['atomic', 'after-result']);
    expect(parseHandlerInfo(event).paymentModes).toEqual(['after-result']);
    expectError(() => buildHandlerInfo({ ...info, paymentModes: [] }), /payment modes/);
  });
});
