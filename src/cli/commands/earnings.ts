// `crosstown earnings [redeem]`: a provider Mayor's earnings from its durable ledger (earnings.jsonl in the
// provider home): jobs paid, what the node's accepted claims cover, what is redeemed on-chain and what is still
// redeemable; `redeem` submits the best claim of each node -> us channel from the wallet.
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Hex } from 'viem';
import { readChannel } from '../../chain/actions/readChannel.js';
import type { ChainPublicClient } from '../../chain/clients.js';
import { formatM2M } from '../../chain/index.js';
import { EarningsLedger, type EarningsSummary } from '../../mayor/runtime/earnings-ledger.js';
import { redeemIncomplete, redeemLedgerClaims } from '../../mayor/runtime/earnings-redeem.js';
import { CliError, ExitCode, printResult } from '../output.js';
import {
  addChain,
  type ChainOptions,
  chainContext,
  clientsFor,
  helpExamples,
  needChannels,
  publicClientFor,
  run,
  unlockWallet,
} from './common.js';

interface EarningsOptions extends ChainOptions {
  providerHome?: string;
}

interface ChannelRow {
  channelId: Hex;
  claimed: bigint;
  redeemed: bigint;
  redeemable: bigint;
  state: 'open' | 'closing' | 'settled' | 'unknown';
}

async function channelRows(
  s: EarningsSummary,
  client: ChainPublicClient,
  channels: Hex,
): Promise<ChannelRow[]> {
  const rows: ChannelRow[] = [];
  for (const c of s.channels) {
    try {
      const st = await readChannel(client, { channels, channelId: c.channelId });
      const redeemed = st.claimed;
      const open = !st.settled;
      rows.push({
        channelId: c.channelId,
        claimed: c.claimed,
        redeemed,
        redeemable: open && c.claimed > redeemed ? c.claimed - redeemed : 0n,
        state: st.settled ? 'settled' : st.closing ? 'closing' : 'open',
      });
    } catch {
      // The chain does not know the channel (reset, or another chain): only the ledger's figures.
      rows.push({
        channelId: c.channelId,
        claimed: c.claimed,
        redeemed: c.redeemed,
        redeemable: 0n,
        state: 'unknown',
      });
    }
  }
  return rows;
}

const homeOf = (o: EarningsOptions, stateDir: string) => o.providerHome ?? join(stateDir, '..', 'provider');

/**
 * `earnings` and `earnings redeem` define the same options, and commander hands every one of them to the parent
 * wherever it stands (`earnings redeem --rpc-url …` left redeem without it): take the parent's given values too.
 */
function withParentOptions(o: EarningsOptions, parent: Command): EarningsOptions {
  const merged: Record<string, unknown> = { ...o };
  for (const [key, value] of Object.entries(parent.opts())) {
    const source = parent.getOptionValueSource(key);
    if (value !== undefined && source !== undefined && source !== 'default') merged[key] = value;
  }
  return merged as unknown as EarningsOptions;
}

export function registerEarnings(program: Command): void {
  const earnings = helpExamples(
    addChain(program.command('earnings'))
      .description("A provider Mayor's earnings: served jobs, claimed, redeemed, redeemable")
      .option('--provider-home <dir>', "the provider's home (default: <home>/<mayor>/provider)"),
    ['crosstown earnings', 'crosstown earnings --format json', 'crosstown earnings redeem'],
    "Claimed: covered by the node's accepted claims. Redeemed: paid out on-chain. Redeemable: claimed and not redeemed yet (`crosstown earnings redeem`).",
  ).action(
    run(async (o: EarningsOptions) => {
      const ctx = await chainContext(o);
      const ledger = EarningsLedger.open(homeOf(o, ctx.config.stateDir));
      const s = ledger.summary();
      const rows = await channelRows(s, publicClientFor(ctx), needChannels(ctx));
      const redeemed = rows.reduce((a, r) => a + r.redeemed, 0n);
      const redeemable = rows.reduce((a, r) => a + r.redeemable, 0n);
      const jobs = new Set(s.jobs.map((j) => j.jobId)).size;
      printResult(o.format, {
        value: {
          network: ctx.network.name,
          servedJobs: jobs,
          earned: s.earned,
          claimed: s.claimed,
          unclaimed: s.unclaimed,
          redeemed,
          redeemable,
          channels: rows,
          jobs: s.jobs.map((j) => ({ ...j, time: new Date(j.at).toISOString() })),
        },
        rows: rows.map((r) => ({ ...r })),
        text: () =>
          [
            ctx.banner,
            `Served jobs  ${jobs}`,
            `Earned       ${formatM2M(s.earned)} M2M (paid by requesters)`,
            `Claimed      ${formatM2M(s.claimed)} M2M (covered by the node's claims; ${formatM2M(s.unclaimed)} M2M not yet)`,
            `Redeemed     ${formatM2M(redeemed)} M2M (on-chain)`,
            `Redeemable   ${formatM2M(redeemable)} M2M${redeemable > 0n ? ': run `crosstown earnings redeem`' : ''}`,
            ...rows.map(
              (r) =>
                `  channel ${r.channelId.slice(0, 18)}…  ${r.state.padEnd(8)} claimed ${formatM2M(r.claimed)}  redeemed ${formatM2M(r.redeemed)}`,
            ),
          ].join('\n'),
      });
    }),
  );

  helpExamples(
    addChain(earnings.command('redeem'))
      .description(
        "Submits the node's best claim of each channel on-chain (the provider's wallet pays the gas)",
      )
      .option('--provider-home <dir>', "the provider's home (default: <home>/<mayor>/provider)"),
    ['crosstown earnings redeem', 'crosstown earnings redeem --format json --passphrase-file pass.txt'],
  ).action(
    run(async (given: EarningsOptions) => {
      const o = withParentOptions(given, earnings);
      const ctx = await chainContext(o);
      const channels = needChannels(ctx);
      const ledger = EarningsLedger.open(homeOf(o, ctx.config.stateDir));
      const clients = clientsFor(ctx, await unlockWallet(ctx.config, o));
      // Every claim is tried: one that fails (a channel gone with a reset chain) does not keep the others unpaid.
      const report = await redeemLedgerClaims(ledger, clients, channels).finally(() => ledger.close());
      const redeemedNow = report.redeemed;
      const paid = report.paid;
      if (report.failed.length > 0)
        throw new CliError(redeemIncomplete(report).message, ExitCode.Unavailable);
      printResult(o.format, {
        value: { paid, channels: redeemedNow },
        rows: redeemedNow,
        text: () =>
          redeemedNow.length === 0
            ? 'Nothing to redeem: every accepted claim is already paid out.'
            : `Redeemed ${formatM2M(paid)} M2M from ${redeemedNow.length} channel(s).`,
      });
    }),
  );
}
