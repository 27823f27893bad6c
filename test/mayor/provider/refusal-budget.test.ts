// A requester that posts jobs a provider must refuse costs the provider a paid write per refusal (its kind 7000
// `error` feedback goes through the paid write path). Pay-to-write makes each job cost its poster too, but one cheap
// public job reaches every provider serving its type: without a bound, posting refused jobs drains providers' money.
// The provider here is real (its policy, its polecat pool on real git); the network is the tests' FakeNetwork, which
// counts the paid writes (the relay/ILP side is the Mayor runtime's, tested end to end elsewhere).
import { afterAll, describe, expect, it } from 'vitest';
import type { ProviderService } from '../../../src/mayor/provider/index.js';
import { generateSecretKey, getPublicKey } from '../../../src/nostr/index.js';
import { FakeNetwork, jobRequest, startProvider, tempHome } from './helpers.js';

const network = new FakeNetwork();
let service: ProviderService | undefined;
afterAll(() => service?.stop());

const refusals = () => network.ofKind(7000).length;

describe('refusal feedback has a budget', () => {
  it('one requester posting refused jobs is told at most its burst, others are still told, and the total is bounded', async () => {
    const own = generateSecretKey(); // one of the operator's Mayors
    ({ service } = await startProvider(tempHome(), network, {
      policy: {
        trustedRequesters: [getPublicKey(own)],
        refusalFeedback: {
          perRequester: { capacity: 5, perSecond: 0.01 },
          total: { capacity: 20, perSecond: 0.01 },
        },
      },
    }));
    const flooder = generateSecretKey();
    for (let i = 0; i < 40; i++) {
      const intake = await service.handleJobRequest(jobRequest({ command: 'true', bid: 1n }, flooder));
      // Every one is still refused (and never run): only the paid feedback is skipped.
      expect(intake).toMatchObject({ status: 'refused', code: 'bid_too_low' });
    }
    // Before the budget, 40 paid refusals.
    expect(refusals()).toBe(5);

    // Another requester is told.
    const other = await service.handleJobRequest(
      jobRequest({ command: 'true', bid: 1n }, generateSecretKey()),
    );
    expect(other.status === 'refused' && other.feedback !== undefined).toBe(true);
    expect(refusals()).toBe(6);

    // Many requesters (fresh keys cost nothing): the provider's total is bounded too.
    for (let i = 0; i < 60; i++)
      await service.handleJobRequest(jobRequest({ command: 'true', bid: 1n }, generateSecretKey()));
    expect(refusals()).toBe(20);
    // The operator's own requesters are outside the total that strangers used up.
    const trusted = await service.handleJobRequest(jobRequest({ command: 'true', bid: 1n }, own));
    expect(trusted.status === 'refused' && trusted.feedback !== undefined).toBe(true);
  });
});
