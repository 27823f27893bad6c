// Issue 19, crashes around an atomic payment on a real devnet. (1) Mayor-Beta runs as a real child process and
// is SIGKILLed after it published a sealed result and before Alpha paid; restarted, it still holds K (fsynced
// before publishing) and fulfills Alpha's payment with it. (2) Mayor-Alpha loses the FULFILL's outcome (its
// fault hook throws at `payment-fulfilled`, then it is stopped and started again on the same state: the
// in-process stand-in for a crash there) and, here, its record of what it pays for (payments-out.jsonl, which
// would have given it K: fraud/fraud-e2e.test.ts); recovery pays again, Beta answers "already paid" with K in the
// reject's data, and Alpha routes the result once, paying once. (3) The same, with the skill intent of the lost
// batch surviving without K (a power cut may keep one file of a batch and not another; issue 17 makes K durable
// with the skill intent): the skill never ran, so even a non-idempotent skill is called after the restart.
import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, startDevnet } from '../../src/devnet/index.js';
import type { MayorConfig } from '../../src/mayor/config/index.js';
import { intentKey } from '../../src/mayor/lifecycle/intents.js';
import type { FaultHook } from '../../src/mayor/runtime/faults.js';
import { type Mayor, startMayor } from '../../src/mayor/runtime/index.js';
import { PAYER_LOG_FILE } from '../../src/mayor/state/index.js';
import type { Skill } from '../../src/skills/types.js';
import {
  BID,
  PRICE,
  providerChildHome,
  recordingLogger,
  startProviderMayor,
} from './provider-e2e-helpers.js';
import { type MayorChild, spawnMayor } from './runtime/child.js';
import { keyOf, mayorConfig, waitFor } from './runtime/helpers.js';

const PASSPHRASE = 'atomic restart passphrase 19';
let devnet: Devnet;
let child: MayorChild | undefined;
const running: Mayor[] = [];

beforeAll(async () => {
  devnet = await startDevnet({ mayors: ['alpha', 'beta', 'carol', 'dave', 'erin', 'frank'] });
}, 90_000);

afterAll(async () => {
  await child?.stop();
  for (const m of running) await m.stop();
  await devnet?.stop();
});

async function betaEnv(who: string): Promise<Record<string, string>> {
  return (await providerChildHome(devnet, who, PASSPHRASE)).env;
}

function requester(who: string, config: MayorConfig, fault?: FaultHook, skills?: Skill[]): Promise<Mayor> {
  const m = devnet.mayors[who]!;
  return startMayor({
    config,
    walletKey: m.walletPrivateKey,
    nostrSecretKey: keyOf(m),
    nodePubkey: devnet.node.pubkey,
    logger: recordingLogger(),
    paymentRetry: { minMs: 200, maxMs: 1000 },
    ...(fault && { fault }),
    ...(skills && { skills }),
  }).then((mayor) => {
    running.push(mayor);
    return mayor;
  });
}

describe('atomic payment across crashes', () => {
  it('a provider SIGKILLed after publishing its sealed result still fulfills after a restart', async () => {
    const env = await betaEnv('beta');
    child = spawnMayor(env, PASSPHRASE);
    await child.waitFor((e) => 'ready' in e, 60_000, 'beta ready');
    // Alpha stops right before its PREPARE leaves (its intent is durable) until the test lets it go.
    let reached: () => void = () => {};
    const atPayment = new Promise<void>((r) => {
      reached = r;
    });
    let go: () => void = () => {};
    const released = new Promise<void>((r) => {
      go = r;
    });
    const alpha = await requester('alpha', mayorConfig(devnet), async (point) => {
      if (point === 'payment-before-send') {
        reached();
        await released;
      }
    });
    const job = await alpha.postJob({
      jobType: 'ci-cd-linux',
      params: { command: 'true' },
      bid: BID,
      provider: devnet.mayors.beta!.nostrPubkey,
    });
    await atPayment;
    expect(alpha.state.jobs.get(job.jobId)!.status).toBe('result-received');
    const [published] = await alpha.pool.query([{ kinds: [6065], '#e': [job.jobId] }]);
    expect(published!.event.tags).toContainEqual(['payment', 'atomic']);
    await child.kill();
    child = spawnMayor(env, PASSPHRASE);
    await child.waitFor((e) => 'ready' in e, 60_000, 'beta ready again');
    go();
    await alpha.settled([job.jobId], 60_000);
    const record = alpha.state.jobs.get(job.jobId)!;
    expect(record.error).toBeUndefined();
    expect(record.status).toBe('paid');
    expect(alpha.results().get(job.jobId)!.result.summary).toMatch(/^Build: SUCCESS/);
    const out = (await alpha.audit.list()).filter(
      (p) => p.jobId === job.jobId && p.counterparty === devnet.mayors.beta!.nostrPubkey,
    );
    expect(out.map((p) => [p.status, p.amount])).toEqual([['fulfilled', PRICE]]);
  }, 150_000);

  it('a requester that lost the FULFILL gets K again from the provider ("already paid") and pays once', async () => {
    const beta = await startProviderMayor(devnet, 'dave');
    running.push(beta);
    const config = mayorConfig(devnet);
    let crash = true;
    const alpha = await requester('carol', config, async (point) => {
      // The payment is FULFILLed (the provider has the money); the crash loses the key before it is recorded.
      if (point === 'payment-fulfilled' && crash) {
        crash = false;
        throw new Error('simulated crash after the FULFILL');
      }
    });
    const job = await alpha.postJob({
      jobType: 'ci-cd-linux',
      params: { command: 'true' },
      bid: BID,
      provider: beta.pubkey,
    });
    await waitFor(() => !crash, 60_000, 'the FULFILL');
    await waitFor(() => beta.provider()!.earned() === PRICE, 20_000, 'provider paid');
    expect(alpha.state.jobs.get(job.jobId)!.status).toBe('result-received');
    await alpha.stop();
    running.splice(running.indexOf(alpha), 1);
    // Its record of the FULFILL is lost too: only the provider can hand K now.
    rmSync(join(config.stateDir, PAYER_LOG_FILE));

    const again = await requester('carol', config);
    await again.settled([job.jobId], 60_000);
    const record = again.state.jobs.get(job.jobId)!;
    expect(record.error).toBeUndefined();
    expect(record.status).toBe('paid');
    expect(again.results().get(job.jobId)!.result.summary).toMatch(/^Build: SUCCESS/);
    // Paid once: the provider refused the second PREPARE (F99) and handed K in its data.
    expect(beta.provider()!.earned()).toBe(PRICE);
    expect(beta.provider()!.spsp.duplicatesRefused).toBe(1);
    const out = (await again.audit.list()).filter(
      (p) => p.jobId === job.jobId && p.counterparty === beta.pubkey && p.status === 'fulfilled',
    );
    expect(out.map((p) => p.amount)).toEqual([PRICE]);
  }, 150_000);

  it('a skill intent that survived without K is from a call never made: a non-idempotent skill is still called', async () => {
    const beta = await startProviderMayor(devnet, 'frank');
    running.push(beta);
    const config = mayorConfig(devnet);
    const calls: string[] = [];
    // Not idempotent: an intent found after a restart normally means "maybe called", and it is skipped.
    const once: Skill = {
      name: 'once-callback',
      supportedEventKinds: () => [6065],
      priority: 10,
      idempotent: false,
      handleToon: async (_payload, metadata) => {
        calls.push(metadata.eventId ?? '');
        return { status: 'handled', summary: 'called once' };
      },
    };
    let crash = true;
    const alpha = await requester(
      'erin',
      config,
      async (point) => {
        if (point === 'payment-fulfilled' && crash) {
          crash = false;
          throw new Error('simulated crash after the FULFILL');
        }
      },
      [once],
    );
    const job = await alpha.postJob({
      jobType: 'ci-cd-linux',
      params: { command: 'true' },
      bid: BID,
      provider: beta.pubkey,
      callbackSkill: 'once-callback',
    });
    await waitFor(() => !crash, 60_000, 'the FULFILL');
    await waitFor(() => beta.provider()!.earned() === PRICE, 20_000, 'provider paid');
    const resultEventId = alpha.state.jobs.get(job.jobId)!.resultEventId!;
    await alpha.stop();
    running.splice(running.indexOf(alpha), 1);
    expect(calls).toEqual([]);
    // What a power cut could leave of the batch that held K and the skill intent: the intent line only.
    appendFileSync(
      join(config.stateDir, 'intents.jsonl'),
      `${JSON.stringify({ key: intentKey('skill', resultEventId), effect: 'skill', jobId: job.jobId, phase: 'intent', detail: 'once-callback', at: Date.now() })}\n`,
    );

    const again = await requester('erin', config, undefined, [once]);
    await again.settled([job.jobId], 60_000);
    expect(again.state.jobs.get(job.jobId)!.status).toBe('paid');
    expect(again.results().get(job.jobId)!.result.summary).toBe('called once');
    expect(calls).toEqual([resultEventId]);
    expect(beta.provider()!.earned()).toBe(PRICE);
  }, 150_000);
});
