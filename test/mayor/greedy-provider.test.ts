// A requester that lost the FULFILL of its payment (it crashed right after it came), facing a provider that takes
// every payment, on a real devnet (anvil, node, relay). Its recovery used to pay again and rely on the provider to
// refuse the second payment as "already paid": an honest provider does, this one does not. The requester now reads
// the FULFILL from its own record of what it pays for (payments-out.jsonl): the job is paid once, with the key of a
// sealed result from that record.
// The crash is the in-process stand-in used by atomic-restart.test.ts: the fault hook throws at `payment-fulfilled`,
// then the Mayor is stopped and started again on the same state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, startDevnet } from '../../src/devnet/index.js';
import { type Mayor, startMayor } from '../../src/mayor/runtime/index.js';
import { type CheatingProvider, startCheatingProvider } from './fraud/cheating-provider.js';
import { keyOf, mayorConfig, waitFor } from './runtime/helpers.js';

let devnet: Devnet;
const running: Mayor[] = [];
const providers: CheatingProvider[] = [];
const AMOUNT = 10n ** 15n;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  devnet = await startDevnet({ mayors: ['greedy', 'greedyClear', 'alpha', 'beta'] });
}, 90_000);

afterAll(async () => {
  for (const m of running) await m.stop().catch(() => {});
  for (const p of providers) await p.stop().catch(() => {});
  await devnet?.stop();
});

describe('a requester that lost its FULFILL, and a provider that takes every payment', () => {
  for (const [mode, provider, requester] of [
    ['greedy', 'greedy', 'alpha'],
    ['greedy-clear', 'greedyClear', 'beta'],
  ] as const) {
    it(`pays once (${mode === 'greedy' ? 'sealed result: the key comes from its own record' : 'clear result'})`, async () => {
      const greedy = await startCheatingProvider(devnet, devnet.mayors[provider]!, AMOUNT, mode);
      providers.push(greedy);
      const config = mayorConfig(devnet);
      const m = devnet.mayors[requester]!;
      let crash = true;
      const start = (withFault: boolean) =>
        startMayor({
          config,
          walletKey: m.walletPrivateKey,
          nostrSecretKey: keyOf(m),
          nodePubkey: devnet.node.pubkey,
          logger: quiet,
          paymentRetry: { minMs: 200, maxMs: 1000 },
          ...(withFault && {
            fault: async (point: string) => {
              if (point === 'payment-fulfilled' && crash) {
                crash = false;
                throw new Error('simulated crash after the FULFILL');
              }
            },
          }),
        }).then((mayor) => {
          running.push(mayor);
          return mayor;
        });
      const first = await start(true);
      const job = await first.postJob({ jobType: 'ci-cd-linux', bid: AMOUNT, provider: greedy.pubkey });
      await waitFor(() => !crash, 60_000, 'the FULFILL');
      await waitFor(() => greedy.paymentsByJob.get(job.jobId) === 1, 20_000, 'the provider paid');
      // A clear result is routed before it is paid; a sealed one once its key is in hand (below).
      const routed = mode === 'greedy' ? undefined : first.results().get(job.jobId);
      await first.stop();
      running.splice(running.indexOf(first), 1);

      const again = await start(false);
      await again.settled([job.jobId], 60_000);
      const record = again.state.jobs.get(job.jobId)!;
      expect(record.error).toBeUndefined();
      expect(record.status).toBe('paid');
      expect((routed ?? again.results().get(job.jobId))?.result.summary).toMatch(/^Build: SUCCESS/);
      // Paid once: before the payer's record, recovery sent the payment again and this provider took it.
      await new Promise((r) => setTimeout(r, 500));
      expect(greedy.paymentsByJob.get(job.jobId)).toBe(1);
      const out = (await again.audit.list()).filter(
        (p) => p.jobId === job.jobId && p.counterparty === greedy.pubkey && p.status === 'fulfilled',
      );
      expect(out.map((p) => p.amount)).toEqual([AMOUNT]);
    }, 150_000);
  }
});
