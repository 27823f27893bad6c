// A provider as provider mode composes it (SPSP responder for payments, earnings for the node's claims) and a
// requester that pays it through a real node: shared by the provider earnings tests.
import { expect } from 'vitest';
import type { DevChain } from '../../src/chain/index.js';
import { conditionOf, deriveFulfillment, IlpPacketType } from '../../src/ilp/index.js';
import {
  type Attachment,
  attach,
  createProviderSpsp,
  type ProviderSpsp,
  RelayPool,
} from '../../src/mayor/runtime/index.js';
import { paymentDoubts } from '../../src/mayor/runtime/payment-doubt.js';
import { type ProviderEarnings, startProviderEarnings } from '../../src/mayor/runtime/provider-earnings.js';
import { owedQueryTimeout } from '../../src/mayor/runtime/provider-mode.js';
import { paymentJobId } from '../../src/mayor/runtime/provider-spsp.js';
import type { RunningNode } from '../../src/node/index.js';
import { buildSpspRequest, getPublicKey, parseSpspResponse } from '../../src/nostr/index.js';

const M2M = 10n ** 18n;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export interface StartProviderOptions {
  sk: Uint8Array;
  account: number;
  home: string;
  onAttached?: (att: Attachment) => void;
  /**
   * Payments in doubt as provider mode handles them (payment-doubt.ts): one payment per job across restarts (from
   * earnings.jsonl), a doubtful one settled by asking the node (`payment-owed-status`).
   */
  doubts?: boolean;
  /** The node's claims wait (in flight at the node) while `link.holdClaims` is true. */
  holdClaims?: boolean;
}

/** `env` gives the test's chain and node once its beforeAll ran; every attachment is pushed to `closers`. */
export function providerHarness(
  env: () => { chain: DevChain; node: RunningNode },
  closers: (() => Promise<unknown>)[],
) {
  async function attachAs(
    sk: Uint8Array,
    account: number,
    handlers: Partial<Parameters<typeof attach>[0]> = {},
  ) {
    const { chain, node } = env();
    const pool = new RelayPool({ urls: [node.relayUrl], secretKey: sk, backoff: { minMs: 50, maxMs: 200 } });
    pool.start();
    const att = await attach({
      pool,
      nostrSecretKey: sk,
      walletKey: chain.anvil.accounts[account]!.privateKey,
      rpcUrl: chain.anvil.rpcUrl,
      nodePubkey: node.pubkey,
      maxBasePricePerByte: M2M,
      deposit: M2M,
      maxDeposit: 10n * M2M,
      reconnectDelayMs: 50,
      onWarning: () => {},
      ...handlers,
    });
    const close = async () => {
      await att.detach();
      await pool.close();
    };
    closers.push(close);
    return { att, close };
  }

  async function startProvider(o: StartProviderOptions) {
    let earnings: ProviderEarnings | undefined;
    let spsp: ProviderSpsp | undefined;
    const link = { dropAfterAccept: false, dropBeforeFulfill: false, holdClaims: o.holdClaims ?? false };
    let stopped = false;
    const terminate = () =>
      (att.btp as unknown as { session: { ws: { terminate(): void } } }).session.ws.terminate();
    const { att, close } = await attachAs(o.sk, o.account, {
      onPrepare: async (p) => {
        const reply = await spsp!.handlePrepare(p);
        if (link.dropBeforeFulfill) {
          // Killed after the payment was recorded, before its FULFILL went back: the node never gets it.
          link.dropBeforeFulfill = false;
          terminate();
        }
        return reply;
      },
      onClaim: async (m) => {
        while (link.holdClaims && !stopped) await new Promise((r) => setTimeout(r, 20));
        // A stopped provider's process is gone: it records nothing more.
        if (stopped) throw new Error('provider stopped');
        await earnings!.receiver.accept(m, earnings!.unpaid);
        if (link.dropAfterAccept) {
          // A flaky network: the claim is accepted, the answer never reaches the node.
          link.dropAfterAccept = false;
          terminate();
        }
      },
      onStatus: (id) => earnings!.receiver.status(id, earnings!.unpaid),
    });
    o.onAttached?.(att);
    earnings = await startProviderEarnings({ home: o.home, att, pollingIntervalMs: 100, onError: () => {} });
    const doubts = o.doubts ? paymentDoubts(earnings.ledger, earnings.unpaid) : undefined;
    const ledger = earnings.ledger;
    spsp = createProviderSpsp({
      secretKey: o.sk,
      ilpAddress: att.spsp.ilpAddress,
      settlement: att.spsp.settlement,
      btpUrl: att.spsp.btpUrl,
      onPayment: ({ from, amount, prepare }) => {
        const condition = hex(prepare.executionCondition);
        const jobId = paymentJobId(prepare.data) ?? `job-${amount}`;
        earnings!.recordPayment(condition, amount, jobId, from);
        doubts?.supersede(from, jobId, condition);
      },
      ...(doubts && {
        paidBefore: (from: string, jobId: string) => ledger.paidFor(from, jobId),
        inDoubt: doubts.inDoubt,
        askNode: (from: string, jobId: string, prepare: { expiresAt: Date }) =>
          doubts.askNode(from, jobId, (conditions) =>
            att.btp.requestOwed(conditions, owedQueryTimeout(prepare.expiresAt)),
          ),
      }),
    });
    return {
      att,
      earnings,
      spsp,
      link,
      async stop() {
        stopped = true;
        earnings!.stop();
        await close();
      },
    };
  }

  /** The requester pays the provider `amount` for a job (SPSP with the provider, then a PREPARE via the node). */
  async function payJob(
    payer: Attachment,
    payerSk: Uint8Array,
    provider: ProviderSpsp,
    amount: bigint,
    to: Uint8Array,
  ) {
    const req = buildSpspRequest(payerSk, getPublicKey(to), { requestId: `pay-${amount}` });
    const { response } = parseSpspResponse(provider.respond(req), payerSk, req.id);
    const secret = new Uint8Array(Buffer.from(response.sharedSecret, 'base64'));
    const data = new TextEncoder().encode(`crosstown job payment job-${amount}`);
    const r = await payer.pay({
      amount,
      destination: response.destinationAccount,
      executionCondition: conditionOf(deriveFulfillment(secret, data)),
      data,
    });
    expect(r.reply.type).toBe(IlpPacketType.Fulfill);
  }

  /** The requester pays `amount` for `jobId` (as a requester that lost the FULFILL pays again); returns the reply. */
  async function payFor(
    payer: Attachment,
    payerSk: Uint8Array,
    provider: ProviderSpsp,
    amount: bigint,
    jobId: string,
    to: Uint8Array,
  ) {
    const req = buildSpspRequest(payerSk, getPublicKey(to), { requestId: `pay-${jobId}-${Date.now()}` });
    const { response } = parseSpspResponse(provider.respond(req), payerSk, req.id);
    const secret = new Uint8Array(Buffer.from(response.sharedSecret, 'base64'));
    const data = new TextEncoder().encode(`crosstown job payment ${jobId}`);
    const { reply } = await payer.pay({
      amount,
      destination: response.destinationAccount,
      executionCondition: conditionOf(deriveFulfillment(secret, data)),
      data,
      retries: 0,
    });
    return reply;
  }

  return { attachAs, startProvider, payJob, payFor };
}
