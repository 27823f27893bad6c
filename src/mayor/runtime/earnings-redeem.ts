// Redeeming a provider's earnings: the best accepted claim of each node -> us channel in the ledger is submitted
// on-chain. One claim that cannot be redeemed (its channel gone with a reset chain, an RPC error) must not keep the
// other channels unpaid (issue 14 item 5): every claim is tried and the report says which failed. Used by provider
// mode (`redeemEarnings`) and `crosstown earnings redeem`.
import type { Address, Hex } from 'viem';
import { readChannel } from '../../chain/actions/readChannel.js';
import { submitClaim } from '../../chain/actions/submitClaim.js';
import type { ChainClients } from '../../chain/clients.js';
import type { EarningsLedger } from './earnings-ledger.js';
import { MayorError } from './errors.js';

export interface EarningsRedeemReport {
  /** Tokens moved to us by this run. */
  paid: bigint;
  redeemed: { channelId: Hex; paid: bigint; totalClaimed: bigint }[];
  failed: { channelId: Hex; error: Error }[];
}

export async function redeemLedgerClaims(
  ledger: EarningsLedger,
  clients: ChainClients,
  channels: Address,
): Promise<EarningsRedeemReport> {
  const report: EarningsRedeemReport = { paid: 0n, redeemed: [], failed: [] };
  for (const claim of ledger.claims()) {
    try {
      const state = await readChannel(clients.public, { channels, channelId: claim.channelId });
      if (state.settled || claim.cumulativeAmount <= state.claimed) {
        ledger.redeemed(claim.channelId, state.claimed);
        continue;
      }
      const r = await submitClaim(clients, { channels, claim });
      ledger.redeemed(claim.channelId, r.totalClaimed);
      report.paid += r.paid;
      report.redeemed.push({ channelId: claim.channelId, paid: r.paid, totalClaimed: r.totalClaimed });
    } catch (err) {
      report.failed.push({ channelId: claim.channelId, error: err as Error });
    }
  }
  return report;
}

/** The error for a run where some claims failed (the others were redeemed), naming each failed channel. */
export function redeemIncomplete(report: EarningsRedeemReport): MayorError {
  return new MayorError(
    'REDEEM_INCOMPLETE',
    `redeemed ${report.paid} on ${report.redeemed.length} channel(s), but ${report.failed.length} claim(s) failed: ` +
      `${report.failed.map((f) => `${f.channelId}: ${f.error.message}`).join('; ')}. ` +
      'The others were redeemed; retry later, or check the chain if a channel no longer exists (a reset chain).',
  );
}
