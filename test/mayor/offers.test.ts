// Offers from NIP-89 adverts: which providers serve a job type and at what price, so `job post` can warn before
// the write fee is paid. The pool is a stand-in returning real signed kind 31990 events (the relay query itself is
// covered by the relay-pool tests); a forged or malformed advert must not count as an offer.
import { describe, expect, it } from 'vitest';
import { findOffers, offerProblem } from '../../src/mayor/offers.js';
import { buildAdvertisement } from '../../src/mayor/provider/messages.js';
import { finalizeEvent, generateSecretKey, getPublicKey } from '../../src/nostr/index.js';
import type { NostrEvent } from '../../src/nostr/types.js';

const M2M = 10n ** 18n;
const advert = (sk: Uint8Array, prices: Record<string, bigint>): NostrEvent =>
  finalizeEvent(
    {
      ...buildAdvertisement({
        identifier: 'crosstown-provider',
        prices,
        ilpAddress: 'g.crosstown.beta',
        limits: {},
        metadata: {},
      }),
      created_at: Math.floor(Date.now() / 1000),
    },
    sk,
  );
const pool = (events: NostrEvent[]) => ({ query: async () => events.map((event) => ({ event })) });

describe('offers from NIP-89 adverts', () => {
  it('lists the providers of a job type with their price; skips malformed adverts', async () => {
    const [a, b] = [generateSecretKey(), generateSecretKey()];
    const broken = { ...advert(a, { 'ci-cd-linux': M2M }), tags: [['d', 'x']] };
    const offers = await findOffers(
      pool([advert(a, { 'ci-cd-linux': M2M / 10n }), advert(b, { 'docker-build': M2M }), broken]),
      'ci-cd-linux',
    );
    expect(offers).toEqual([{ provider: getPublicKey(a), price: M2M / 10n }]);
  });

  it('says when nobody serves the type, when the bid is below every price, and is quiet otherwise', () => {
    const offers = [
      { provider: 'aa'.repeat(32), price: M2M / 10n },
      { provider: 'bb'.repeat(32), price: M2M / 5n },
    ];
    expect(offerProblem([], { jobType: 'ci-cd-linux' })).toMatch(
      /no provider advertises job type ci-cd-linux/,
    );
    expect(offerProblem(offers, { jobType: 'ci-cd-linux', bid: M2M / 100n })).toMatch(
      /bid 0\.01 M2M is below every advertised price .*lowest 0\.1 M2M/,
    );
    expect(offerProblem(offers, { jobType: 'ci-cd-linux', bid: M2M / 10n })).toBeUndefined();
    expect(offerProblem(offers, { jobType: 'ci-cd-linux' })).toBeUndefined();
    expect(offerProblem(offers, { jobType: 'ci-cd-linux', provider: 'cc'.repeat(32) })).toMatch(
      /does not advertise ci-cd-linux/,
    );
    expect(
      offerProblem(offers, { jobType: 'ci-cd-linux', bid: M2M / 8n, provider: 'bb'.repeat(32) }),
    ).toMatch(/below every advertised price/);
  });
});
