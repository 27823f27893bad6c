// A cheating provider for the fraud tests (issue 19): a small real provider (attached to the node over SPSP +
// BTP, its SPSP responder and claim receiver real, results written as paid events) that answers every 5065 with
// a sealed result it signs but does not honour: `garbage` publishes a ciphertext that does not decrypt under the
// key it releases, `lie` seals a failed build under a summary that says success. Paid by condition, it releases K
// in its FULFILL like an honest provider (the provider SPSP responder with its sealed-key lookup).
// `greedy` serves an honest result (`greedy` sealed, `greedy-clear` in the clear) but takes every payment: a second
// payment for a job is never refused as already paid (its SPSP responder is told every earlier payment is in
// doubt and the node never had it).
import { randomBytes } from 'node:crypto';
import { claimDomain } from '../../../src/chain/index.js';
import { ClaimReceiver, UnpaidPackets } from '../../../src/connector/index.js';
import type { Devnet, DevnetMayor } from '../../../src/devnet/index.js';
import type { SealedKey } from '../../../src/mayor/provider/sealed-keys.js';
import {
  type Attachment,
  attach,
  createProviderSpsp,
  paymentJobId,
  RelayPool,
} from '../../../src/mayor/runtime/index.js';
import { buildJobResult, finalizeEvent } from '../../../src/nostr/index.js';
import { buildSealedSummaryTags, sealResult } from '../../../src/nostr/sealed-result.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { encodeEventBytes } from '../../../src/toon/index.js';
import { keyOf, M2M } from '../runtime/helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export interface CheatingProvider {
  pubkey: string;
  att: Attachment;
  /** Payments taken per job id. */
  paymentsByJob: Map<string, number>;
  /** The results it published, by job id. */
  answered: Map<string, NostrEvent>;
  stop(): Promise<void>;
}

export async function startCheatingProvider(
  devnet: Devnet,
  who: DevnetMayor,
  amount: bigint,
  cheat: 'garbage' | 'lie' | 'greedy' | 'greedy-clear',
): Promise<CheatingProvider> {
  const sk = keyOf(who);
  const pool = new RelayPool({ urls: [devnet.relayUrl], secretKey: sk, backoff: { minMs: 100, maxMs: 500 } });
  pool.start();
  const unpaid = new UnpaidPackets();
  const keys = new Map<string, SealedKey>();
  const paymentsByJob = new Map<string, number>();
  const answered = new Map<string, NostrEvent>();
  let receiver: ClaimReceiver | undefined;
  let spsp: ReturnType<typeof createProviderSpsp> | undefined;
  const att = await attach({
    pool,
    nostrSecretKey: sk,
    walletKey: who.walletPrivateKey,
    rpcUrl: devnet.rpcUrl,
    nodePubkey: devnet.node.pubkey,
    maxBasePricePerByte: M2M,
    deposit: 10n * M2M,
    maxDeposit: 100n * M2M,
    onPrepare: async (p) => spsp!.handlePrepare(p),
    onClaim: async (m) => {
      await receiver!.accept(m, unpaid);
    },
    onWarning: () => {},
  });
  spsp = createProviderSpsp({
    secretKey: sk,
    ilpAddress: att.spsp.ilpAddress,
    settlement: att.spsp.settlement,
    btpUrl: att.spsp.btpUrl,
    sealedKey: (jobId) => keys.get(jobId),
    ...(cheat.startsWith('greedy') && { inDoubt: () => true, askNode: async () => 'take' as const }),
    onPayment: ({ prepare }) => {
      unpaid.add(hex(prepare.executionCondition), prepare.amount);
      const jobId = paymentJobId(prepare.data);
      if (jobId) paymentsByJob.set(jobId, (paymentsByJob.get(jobId) ?? 0) + 1);
    },
  });
  receiver = new ClaimReceiver({
    publicClient: att.clients.public,
    domain: claimDomain(devnet.chainId, devnet.channels),
    token: devnet.token,
    receiver: who.walletAddress,
    sender: devnet.node.settlementAddress,
  });
  pool.subscribe('spsp-in', [{ kinds: [23194], '#p': [who.nostrPubkey] }], ({ event }) => {
    void pool.publish(spsp!.respond(event)).catch(() => {});
  });

  const answer = async (job: NostrEvent) => {
    if (answered.has(job.id)) return;
    // A job sent to another provider by name is not ours to answer.
    const chosen = job.tags.find((t) => t[0] === 'p')?.[1];
    if (chosen && chosen !== who.nostrPubkey) return;
    const honest = cheat.startsWith('greedy');
    const truth = honest
      ? JSON.stringify({ build: 'SUCCESS', tests: { passed: 4, failed: 0 }, logs: 'all tests passed' })
      : JSON.stringify({ build: 'FAILURE', tests: { passed: 1, failed: 3 }, logs: 'tests failed' });
    if (cheat === 'greedy-clear') {
      const clear = finalizeEvent(
        buildJobResult({ request: job, content: truth, amount: { amount }, status: 'success' }),
        sk,
      );
      answered.set(job.id, clear);
      const { reply } = await att.writeToRelay(encodeEventBytes(clear));
      if (reply.type !== 13) throw new Error(`result write refused: ${JSON.stringify(reply)}`);
      return;
    }
    const sealed = sealResult(truth, job.id);
    const template = buildJobResult({
      request: job,
      // garbage: random bytes where the ciphertext should be; lie: the real ciphertext of a failed build.
      content: cheat === 'garbage' ? Buffer.from(randomBytes(120)).toString('base64') : sealed.ciphertext,
      amount: { amount },
      status: 'success',
    });
    template.tags.push(
      ...buildSealedSummaryTags(sealed.condition, {
        status: 'success',
        build: 'SUCCESS',
        tests: { passed: 4, failed: 0, total: 4 },
      }),
    );
    keys.set(job.id, {
      jobId: job.id,
      requester: job.pubkey,
      condition: sealed.condition,
      key: sealed.key,
      amount,
    });
    const result = finalizeEvent(template, sk);
    answered.set(job.id, result);
    const { reply } = await att.writeToRelay(encodeEventBytes(result));
    if (reply.type !== 13) throw new Error(`result write refused: ${JSON.stringify(reply)}`);
  };
  pool.subscribe('jobs', [{ kinds: [5065], since: Math.floor(Date.now() / 1000) - 5 }], ({ event }) => {
    void answer(event).catch((err) => console.error('cheating provider:', err));
  });
  return {
    pubkey: who.nostrPubkey,
    att,
    paymentsByJob,
    answered,
    async stop() {
      await att.detach();
      await pool.close();
    },
  };
}
