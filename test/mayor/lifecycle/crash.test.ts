// Exactly once across crashes (issue 15), on real processes: anvil and the node (devnet), a provider stand-in
// and the requester Mayor as a child process that is SIGKILLed. For each fault: the job ends routed exactly once
// (or failed with a reason), the provider is paid exactly once, and the node's books agree to the base unit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, startDevnet } from '../../../src/devnet/index.js';
import { type Standin, startStandin, waitFor } from '../runtime/helpers.js';
import { type Home, hasJob, jobFile, makeHome, postCommand, routes, startHome } from '../runtime/home.js';

const AMOUNT = 10n ** 15n;
let devnet: Devnet;
let provider: Standin;

beforeAll(async () => {
  devnet = await startDevnet({ mayors: ['beta', 'a1', 'a2', 'a3'] });
  provider = await startStandin(devnet, devnet.mayors.beta!, AMOUNT);
}, 60_000);

afterAll(async () => {
  await provider?.stop();
  await devnet?.stop();
});

/** The node's books for this Mayor: everything it was charged (writes + provider payments). */
const charged = (who: string) => {
  const b = devnet.runningNode!.connector.balance(devnet.mayors[who]!.nostrPubkey.slice(0, 16));
  return b.owedByPeer + b.paidByPeer;
};

/** What this requester paid the provider so far. */
const paid = (who: string) => provider.paidBy.get(devnet.mayors[who]!.nostrPubkey) ?? 0n;

async function postAndWaitPaid(home: Home, jobId: string) {
  await waitFor(() => hasJob(home, jobId) && jobFile(home, jobId).status === 'paid', 30_000, `${jobId} paid`);
}

/** One provider payment and one write fee per job in the node's books; routed once; paid once. */
function expectOnce(home: Home, who: string, jobId: string, receivedBefore: bigint) {
  expect(routes(home)).toEqual([jobId]);
  expect(paid(who) - receivedBefore).toBe(AMOUNT);
  expect(charged(who)).toBe(BigInt(jobFile(home, jobId).price!) + AMOUNT);
}

describe('exactly once across a SIGKILL of the requester', () => {
  it('killed while its provider payment is in flight: the provider is paid once', async () => {
    const home = await makeHome(devnet, 'a1');
    const first = startHome(home, 'payment-fulfilled');
    await first.waitFor((e) => 'ready' in e, 60_000, 'ready');
    const before = paid('a1');
    first.send(postCommand(10n * AMOUNT));
    const line = await first.waitStderr(/^FAULT payment-fulfilled/, 30_000);
    const jobId = line.split(' ')[2]!;
    // The provider has the money; the Mayor has not recorded it.
    expect(paid('a1') - before).toBe(AMOUNT);
    await first.kill();
    const second = startHome(home);
    await second.waitFor((e) => 'ready' in e, 60_000, 'ready after restart');
    await postAndWaitPaid(home, jobId);
    // Give a second payment, if any, the time to land.
    await new Promise((r) => setTimeout(r, 500));
    await second.stop();
    expectOnce(home, 'a1', jobId, before);
  }, 120_000);

  it('killed inside the callback skill: the skill is not invoked twice', async () => {
    const home = await makeHome(devnet, 'a2', { hangInSkill: true });
    const first = startHome(home);
    await first.waitFor((e) => 'ready' in e, 60_000, 'ready');
    const before = paid('a2');
    first.send(postCommand(10n * AMOUNT));
    const line = await first.waitStderr(/^SKILL-HANGING /, 30_000);
    const jobId = line.split(' ')[1]!;
    await first.kill();
    const second = startHome(home);
    await second.waitFor((e) => 'ready' in e, 60_000, 'ready after restart');
    await postAndWaitPaid(home, jobId);
    await second.stop();
    expectOnce(home, 'a2', jobId, before);
  }, 120_000);

  it('down longer than the job timeout while the result waits on the relay: the result is still routed', async () => {
    const home = await makeHome(devnet, 'a3', { env: { CROSSTOWN_JOB_TIMEOUT: '3' } });
    provider.holdFrom.add(devnet.mayors.a3!.nostrPubkey);
    const first = startHome(home);
    await first.waitFor((e) => 'ready' in e, 60_000, 'ready');
    const before = paid('a3');
    first.send(postCommand(10n * AMOUNT));
    const posted = await first.waitFor((e) => 'posted' in e, 30_000, 'posted');
    const jobId = (posted.posted as { jobId: string }).jobId;
    await first.kill();
    // The provider answers while the requester is down; the requester stays down past its job timeout.
    await provider.resume();
    await new Promise((r) => setTimeout(r, 4_000));
    const second = startHome(home);
    await second.waitFor((e) => 'ready' in e, 60_000, 'ready after restart');
    await postAndWaitPaid(home, jobId).catch((err) => {
      throw new Error(`${(err as Error).message}: job is ${JSON.stringify(jobFile(home, jobId))}`);
    });
    await second.stop();
    expectOnce(home, 'a3', jobId, before);
  }, 120_000);
});
