// The money side of provider mode (issue 13 item 6): the node pays us, through its channel to us, for the
// requesters' payments it forwarded. Its claims are checked by a ClaimReceiver that continues from the durable
// ledger after a restart (so the node's next claim is accepted), a closure watcher redeems the best claim as
// soon as the node starts closing, and redeem() collects on demand.
import type { Hex } from 'viem';
import { claimDomain } from '../../chain/claims.js';
import type { ClaimWatcher } from '../../chain/watcher.js';
import { ClaimReceiver } from '../../connector/claim-receiver.js';
import { watchReceiver } from '../../connector/receiver-watch.js';
import { UnpaidPackets } from '../../connector/unpaid.js';
import type { Attachment } from './attach.js';
import { EarningsLedger } from './earnings-ledger.js';
import { redeemIncomplete, redeemLedgerClaims } from './earnings-redeem.js';
import { resumeScan } from './provider-scan.js';

export interface ProviderEarnings {
  readonly ledger: EarningsLedger;
  readonly receiver: ClaimReceiver;
  /** Requesters' payments not yet covered by a claim of the node. */
  readonly unpaid: UnpaidPackets;
  /** Records a requester's payment durably (call before the FULFILL goes back). */
  recordPayment(condition: string, amount: bigint, jobId: string, from: string): void;
  /** Submits the best claim of every node -> us channel that has more than was redeemed; returns what moved. */
  redeem(
    onRedeemed?: (channelId: Hex, paid: bigint) => void,
  ): Promise<{ paid: bigint; totalClaimed: bigint }>;
  stop(): void;
}

export async function startProviderEarnings(p: {
  home: string;
  att: Attachment;
  /** Closure-watcher problems (each one is retried on the next scan). */
  onError: (error: unknown, channelId: Hex | undefined) => void;
  /** The watcher redeemed a channel the node started closing. */
  onClaimed?: (channelId: Hex, paid: bigint) => void;
  /** How often the watcher polls, ms (default 1000). */
  pollingIntervalMs?: number;
}): Promise<ProviderEarnings> {
  const { att } = p;
  const settlement = att.spsp.settlement;
  const contract = settlement.channelContract;
  const ledger = EarningsLedger.open(p.home);
  const unpaid = new UnpaidPackets(undefined, ledger.unpaid());
  const receiver = new ClaimReceiver({
    publicClient: att.clients.public,
    domain: claimDomain(settlement.chainId, contract),
    token: settlement.token,
    receiver: att.walletAddress,
    sender: settlement.settlementAddress,
    // Durable before the node hears "accepted": a crash after it cannot lose the claim.
    onAccept: (claim, pays) => ledger.acceptedDurably(claim, pays),
  });
  receiver.restore(ledger.claims());
  ledger.markStart(await att.clients.public.getBlockNumber());
  // Where the watcher resumes: the block after the last one scanned (persisted in <home>/chain-state.json),
  // else the first block this provider ran at; a close started while we were down is still seen.
  const scan = await resumeScan(p.home, att, p.onError);
  const fromBlock = scan.fromBlock ?? ledger.startBlock;

  // The receiver's own watcher (redeems on close, and refuses claims on a closing channel from then on).
  const watcher: ClaimWatcher = watchReceiver(receiver, {
    clients: att.clients,
    channels: contract,
    ...(fromBlock !== undefined ? { fromBlock } : {}),
    onScanned: scan.scanned,
    ...(p.pollingIntervalMs !== undefined ? { pollingIntervalMs: p.pollingIntervalMs } : {}),
    onClaimed: (id, r) => {
      ledger.redeemed(id, r.totalClaimed);
      p.onClaimed?.(id, r.paid);
    },
    onError: p.onError,
  });

  let queue: Promise<unknown> = Promise.resolve();
  return {
    ledger,
    receiver,
    unpaid,
    recordPayment(condition, amount, jobId, from) {
      ledger.owe(condition, amount, jobId, from);
      unpaid.add(condition, amount);
    },
    redeem(onRedeemed) {
      const run = queue.then(async () => {
        const report = await redeemLedgerClaims(ledger, att.clients, contract);
        for (const r of report.redeemed) onRedeemed?.(r.channelId, r.paid);
        if (report.failed.length > 0) throw redeemIncomplete(report);
        const totalClaimed = report.redeemed.reduce((sum, r) => sum + r.totalClaimed, 0n);
        return { paid: report.paid, totalClaimed };
      });
      queue = run.catch(() => undefined);
      return run;
    },
    stop() {
      watcher.stop();
      ledger.close();
    },
  };
}
