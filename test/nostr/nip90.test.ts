import { finalizeEvent as dvmFinalize } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { NostrError } from '../../src/nostr/errors.js';
import { finalizeEvent } from '../../src/nostr/event.js';
import { matchFilter } from '../../src/nostr/filter.js';
import { generateSecretKey, getPublicKey } from '../../src/nostr/keys.js';
import { KIND_JOB_FEEDBACK, KIND_JOB_REQUEST, KIND_JOB_RESULT } from '../../src/nostr/kinds.js';
import {
  buildJobFeedback,
  buildJobRequest,
  buildJobResult,
  type JobRequest,
  parseJobFeedback,
  parseJobRequest,
  parseJobResult,
} from '../../src/nostr/nip90.js';
import type { EventTemplate, NostrEvent } from '../../src/nostr/types.js';

const requesterSk = generateSecretKey();
const requester = getPublicKey(requesterSk);
const providerSk = generateSecretKey();
const provider = getPublicKey(providerSk);

const jobRequest: JobRequest = {
  jobType: 'ci-cd-linux',
  inputs: [
    { data: 'https://example.org/repo.git', type: 'url' },
    { data: 'main', type: 'text', marker: 'branch' },
    { data: 'a'.repeat(64), type: 'event', relay: 'wss://relay.example', marker: 'prev' },
  ],
  params: { command: 'npm test', timeout: '600' },
  bid: 123456789012345678901234567890n,
  provider,
  relays: ['ws://127.0.0.1:7777', 'wss://relay.example'],
  content: '',
};

const sign = (t: EventTemplate, sk = requesterSk) => finalizeEvent(t, sk);
const requestEvent = sign(buildJobRequest(jobRequest));

function expectJobError(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NostrError);
    expect((err as NostrError).code).toBe('invalid_job');
    expect((err as NostrError).message).toMatch(message);
    return;
  }
  throw new Error('expected a NostrError');
}

/** Re-signs `e` with its tags changed by `edit`. */
function retag(
  e: NostrEvent,
  edit: (tags: string[][]) => string[][],
  sk = requesterSk,
  kind = e.kind,
): NostrEvent {
  return sign(
    { kind, tags: edit(e.tags.map((t) => [...t])), content: e.content, created_at: e.created_at },
    sk,
  );
}

describe('job request (kind 5065)', () => {
  it('builds the DESIGN tag layout', () => {
    expect(requestEvent.kind).toBe(KIND_JOB_REQUEST);
    expect(requestEvent.tags).toEqual([
      ['t', 'ci-cd-linux'],
      ['i', 'https://example.org/repo.git', 'url'],
      ['i', 'main', 'text', '', 'branch'],
      ['i', 'a'.repeat(64), 'event', 'wss://relay.example', 'prev'],
      ['param', 'command', 'npm test'],
      ['param', 'timeout', '600'],
      ['bid', '123456789012345678901234567890', 'M2M'],
      ['p', provider],
      ['relays', 'ws://127.0.0.1:7777', 'wss://relay.example'],
    ]);
    // Providers find it with #t.
    expect(matchFilter({ kinds: [5065], '#t': ['ci-cd-linux'] }, requestEvent)).toBe(true);
  });

  it('round trips', () => {
    const parsed = parseJobRequest(requestEvent);
    expect(parsed).toMatchObject({ ...jobRequest, kind: 5065, id: requestEvent.id, requester });
    expect(parsed.bid).toBe(jobRequest.bid);
  });

  it('round trips a minimal request (no bid, provider, relays)', () => {
    const e = sign(buildJobRequest({ jobType: 'x', inputs: [], params: {}, relays: [], content: 'do it' }));
    const parsed = parseJobRequest(e);
    expect(parsed.bid).toBeUndefined();
    expect(parsed.provider).toBeUndefined();
    expect(parsed.relays).toEqual([]);
    expect(parsed.content).toBe('do it');
  });

  it('keeps a param named __proto__ as data', () => {
    const e = retag(requestEvent, (t) => [...t, ['param', '__proto__', 'x']]);
    const params = parseJobRequest(e).params;
    expect(Object.keys(params)).toContain('__proto__');
    expect(Object.getOwnPropertyDescriptor(params, '__proto__')?.value).toBe('x');
  });

  it('rejects malformed requests', () => {
    expectJobError(() => parseJobRequest({ ...requestEvent, kind: 1 }), /kind 1 is outside 5000-5999/);
    expectJobError(
      () => parseJobRequest(retag(requestEvent, (t) => t.filter((x) => x[0] !== 't'))),
      /no job type/,
    );
    for (const bid of ['12.5', '-1', '1e9', '0x10', '', ' 1', '01']) {
      expectJobError(
        () => parseJobRequest(retag(requestEvent, (t) => t.map((x) => (x[0] === 'bid' ? ['bid', bid] : x)))),
        /bid must be a non-negative decimal integer/,
      );
    }
    expectJobError(
      () => parseJobRequest(retag(requestEvent, (t) => [...t, ['bid', '1']])),
      /more than one bid/,
    );
    expectJobError(() => parseJobRequest(retag(requestEvent, (t) => [...t, ['i', 'x']])), /i tag must be/);
    expectJobError(
      () => parseJobRequest(retag(requestEvent, (t) => [...t, ['param', 'command', 'x']])),
      /duplicate param/,
    );
    expectJobError(
      () => parseJobRequest(retag(requestEvent, (t) => [...t, ['param', 'lonely']])),
      /param tag/,
    );
    expectJobError(() => parseJobRequest(retag(requestEvent, (t) => [...t, ['p', 'nothex']])), /p tag/);
    expectJobError(
      () => parseJobRequest({ ...requestEvent, tags: 'x' } as unknown as NostrEvent),
      /malformed job event/,
    );
  });

  it('refuses to build bad requests', () => {
    expectJobError(() => buildJobRequest({ ...jobRequest, bid: -1n }), /bid/);
    expectJobError(() => buildJobRequest({ ...jobRequest, kind: 6065 }), /5000-5999/);
    expectJobError(() => buildJobRequest({ ...jobRequest, jobType: '' }), /job type/);
    expectJobError(() => buildJobRequest({ ...jobRequest, provider: 'ABC' }), /provider/);
  });
});

describe('job result (kind 6065)', () => {
  const resultEvent = sign(
    buildJobResult({
      request: requestEvent,
      content: 'H4sIAAAAAAAAA8tIzcnJBwCGphA2BQAAAA==',
      amount: { amount: 5000n },
      status: 'success',
      relay: 'ws://127.0.0.1:7777',
    }),
    providerSk,
  );

  it('builds e, p, request, copied i tags, amount and status', () => {
    expect(resultEvent.kind).toBe(KIND_JOB_RESULT);
    expect(resultEvent.tags[0]).toEqual(['request', JSON.stringify(requestEvent)]);
    expect(resultEvent.tags).toContainEqual(['e', requestEvent.id, 'ws://127.0.0.1:7777']);
    expect(resultEvent.tags).toContainEqual(['p', requester]);
    expect(resultEvent.tags).toContainEqual(['amount', '5000', 'M2M']);
    expect(resultEvent.tags).toContainEqual(['status', 'success']);
    expect(resultEvent.tags.filter((t) => t[0] === 'i')).toHaveLength(3);
    expect(matchFilter({ kinds: [6065], '#e': [requestEvent.id] }, resultEvent)).toBe(true);
  });

  it('round trips', () => {
    const parsed = parseJobResult(resultEvent);
    expect(parsed.jobId).toBe(requestEvent.id);
    expect(parsed.requester).toBe(requester);
    expect(parsed.provider).toBe(provider);
    expect(parsed.request).toEqual(requestEvent);
    expect(parsed.amount).toEqual({ amount: 5000n });
    expect(parsed.status).toBe('success');
    expect(parsed.content).toBe('H4sIAAAAAAAAA8tIzcnJBwCGphA2BQAAAA==');
  });

  it('keeps an invoice and status info when present', () => {
    const e = sign(
      buildJobResult({
        request: requestEvent,
        content: '',
        amount: { amount: 1n, invoice: 'lnbc1...' },
        status: 'error',
        statusInfo: 'tests failed',
      }),
      providerSk,
    );
    const parsed = parseJobResult(e);
    expect(parsed.amount).toEqual({ amount: 1n, invoice: 'lnbc1...' });
    expect(parsed.status).toBe('error');
    expect(parsed.statusInfo).toBe('tests failed');
  });

  it('rejects malformed results', () => {
    const noE = retag(resultEvent, (t) => t.filter((x) => x[0] !== 'e'), providerSk);
    expectJobError(() => parseJobResult(noE), /no valid e tag/);
    const noP = retag(resultEvent, (t) => t.filter((x) => x[0] !== 'p'), providerSk);
    expectJobError(() => parseJobResult(noP), /no valid p tag/);
    expectJobError(() => parseJobResult({ ...resultEvent, kind: 5065 }), /not a job result/);
    const badAmount = retag(
      resultEvent,
      (t) => t.map((x) => (x[0] === 'amount' ? ['amount', 'ten'] : x)),
      providerSk,
    );
    expectJobError(() => parseJobResult(badAmount), /amount must be/);
    const badStatus = retag(
      resultEvent,
      (t) => t.map((x) => (x[0] === 'status' ? ['status', 'done'] : x)),
      providerSk,
    );
    expectJobError(() => parseJobResult(badStatus), /unknown job status "done"/);
    const otherE = retag(
      resultEvent,
      (t) => t.map((x) => (x[0] === 'e' ? ['e', 'f'.repeat(64)] : x)),
      providerSk,
    );
    expectJobError(() => parseJobResult(otherE), /request tag holds event/);
    const badJson = retag(
      resultEvent,
      (t) => t.map((x) => (x[0] === 'request' ? ['request', '{'] : x)),
      providerSk,
    );
    expectJobError(() => parseJobResult(badJson), /not valid JSON/);
    const wrongKind = retag(resultEvent, (t) => t, providerSk, 6001);
    expectJobError(() => parseJobResult(wrongKind), /does not answer request kind/);
  });
});

describe('job feedback (kind 7000)', () => {
  it('round trips payment-required with amount and info', () => {
    const e = sign(
      buildJobFeedback({
        jobId: requestEvent.id,
        requester,
        status: 'payment-required',
        statusInfo: 'pay 5000 first',
        amount: { amount: 5000n },
      }),
      providerSk,
    );
    expect(e.kind).toBe(KIND_JOB_FEEDBACK);
    expect(e.tags[0]).toEqual(['status', 'payment-required', 'pay 5000 first']);
    const parsed = parseJobFeedback(e);
    expect(parsed).toMatchObject({
      jobId: requestEvent.id,
      requester,
      provider,
      status: 'payment-required',
      statusInfo: 'pay 5000 first',
      amount: { amount: 5000n },
    });
  });

  it.each(['processing', 'error', 'success'] as const)('round trips %s', (status) => {
    const e = sign(buildJobFeedback({ jobId: requestEvent.id, requester, status }), providerSk);
    const parsed = parseJobFeedback(e);
    expect(parsed.status).toBe(status);
    expect(parsed.statusInfo).toBeUndefined();
    expect(parsed.amount).toBeUndefined();
  });

  it('normalizes payment_required to payment-required', () => {
    const e = sign(
      {
        kind: 7000,
        tags: [
          ['status', 'payment_required'],
          ['e', requestEvent.id],
          ['p', requester],
        ],
        content: '',
      },
      providerSk,
    );
    expect(parseJobFeedback(e).status).toBe('payment-required');
  });

  it('rejects malformed feedback', () => {
    const base = sign(
      buildJobFeedback({ jobId: requestEvent.id, requester, status: 'processing' }),
      providerSk,
    );
    expectJobError(() => parseJobFeedback({ ...base, kind: 7001 }), /not job feedback/);
    expectJobError(
      () => parseJobFeedback(retag(base, (t) => t.filter((x) => x[0] !== 'status'), providerSk)),
      /no status tag/,
    );
    expectJobError(
      () => parseJobFeedback(retag(base, (t) => t.filter((x) => x[0] !== 'e'), providerSk)),
      /no valid e tag/,
    );
    expectJobError(
      () =>
        parseJobFeedback(
          retag(base, (t) => t.map((x) => (x[0] === 'status' ? ['status', 'finished'] : x)), providerSk),
        ),
      /unknown job status/,
    );
    expectJobError(() => buildJobFeedback({ jobId: 'x', requester, status: 'success' }), /job id/);
    expectJobError(
      () => buildJobFeedback({ jobId: requestEvent.id, requester, status: 'done' as 'success' }),
      /unknown job status/,
    );
  });
});

describe('interop with generic NIP-90 clients and DVMs (issue 18)', () => {
  it("parses a generic DVM's `partial` feedback, built with nostr-tools and NIP-90's own tag shapes", () => {
    const dvm = dvmFinalize(
      {
        kind: 7000,
        created_at: Math.floor(Date.now() / 1000),
        tags: [
          ['status', 'partial', 'first 10 of 40 tests'],
          ['e', requestEvent.id, 'wss://relay.example'],
          ['p', requester],
          ['amount', '21000', 'lnbc210n1pexample'],
        ],
        content: 'partial output',
      },
      providerSk,
    );
    const fb = parseJobFeedback(dvm as NostrEvent);
    expect(fb).toMatchObject({
      status: 'partial',
      statusInfo: 'first 10 of 40 tests',
      jobId: requestEvent.id,
      requester,
      amount: { amount: 21000n, invoice: 'lnbc210n1pexample' },
      content: 'partial output',
    });
    // And we can build one (a provider streaming partial results).
    const built = sign(
      buildJobFeedback({ jobId: requestEvent.id, requester, status: 'partial' }),
      providerSk,
    );
    expect(parseJobFeedback(built).status).toBe('partial');
  });

  it('writes the M2M unit marker on bid and amount, and reads tags with or without it', () => {
    expect(requestEvent.tags).toContainEqual(['bid', '123456789012345678901234567890', 'M2M']);
    const legacy = retag(requestEvent, (t) => t.map((x) => (x[0] === 'bid' ? ['bid', '5000'] : x)));
    expect(parseJobRequest(legacy).bid).toBe(5000n);
    const withInvoice = sign(
      buildJobFeedback({
        jobId: requestEvent.id,
        requester,
        status: 'payment-required',
        amount: { amount: 7n, invoice: 'lnbc1example' },
      }),
      providerSk,
    );
    expect(withInvoice.tags).toContainEqual(['amount', '7', 'lnbc1example', 'M2M']);
    expect(parseJobFeedback(withInvoice).amount).toEqual({ amount: 7n, invoice: 'lnbc1example' });
    const marked = sign(
      buildJobFeedback({
        jobId: requestEvent.id,
        requester,
        status: 'payment-required',
        amount: { amount: 7n },
      }),
      providerSk,
    );
    expect(marked.tags).toContainEqual(['amount', '7', 'M2M']);
    expect(parseJobFeedback(marked).amount).toEqual({ amount: 7n });
  });

  it('refuses a bid or amount in another unit (millisats cannot be priced as base units)', () => {
    const msat = retag(requestEvent, (t) => t.map((x) => (x[0] === 'bid' ? ['bid', '5000', 'msat'] : x)));
    expectJobError(() => parseJobRequest(msat), /bid unit "msat" is not M2M/);
    const fb = sign(buildJobFeedback({ jobId: requestEvent.id, requester, status: 'success' }), providerSk);
    const foreign = retag(fb, (t) => [...t, ['amount', '7', 'lnbc1example', 'sat']], providerSk);
    expectJobError(() => parseJobFeedback(foreign), /amount unit "sat" is not M2M/);
  });
});
