// `crosstown channel open|status|topup|close|list`: the Mayor's payment channels on the active network.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { Address, Hex } from 'viem';
import {
  type ChannelState,
  formatM2M,
  listChannels,
  openChannel,
  parseM2M,
  readChannel,
  startClose,
  topUpChannel,
  withdraw,
} from '../../chain/index.js';
import { channelBalance } from '../../mayor/channel-balance.js';
import { type ChannelRecord, openStateRepo } from '../../mayor/state/index.js';
import { CliError, ExitCode, note, printResult } from '../output.js';
import { withProgress } from '../progress.js';
import { confirm } from '../prompt.js';
import {
  addChain,
  type ChainContext,
  type ChainOptions,
  chainContext,
  clientsFor,
  helpExamples,
  needChannels,
  needToken,
  publicClientFor,
  run,
  unlockWallet,
  walletAddress,
} from './common.js';
import { controlRequest, controlSocketPath } from './control.js';

/** The JSON shape of one channel (docs/cli.md "channel"). Amounts are strings of base units. */
export interface ChannelJson {
  channelId: string;
  sender: string;
  receiver: string;
  token: string;
  deposit: string;
  claimed: string;
  available: string;
  challengeWindow: string;
  closesAt: string;
  state: 'open' | 'closing' | 'settled';
  role?: 'sender' | 'receiver';
}

const stateOf = (c: ChannelState) => (c.settled ? 'settled' : c.closing ? 'closing' : 'open');

export function channelJson(c: ChannelState & { role?: 'sender' | 'receiver' }): ChannelJson {
  return {
    channelId: c.channelId,
    sender: c.sender,
    receiver: c.receiver,
    token: c.token,
    deposit: c.deposit.toString(),
    claimed: c.claimed.toString(),
    available: (c.deposit - c.claimed).toString(),
    challengeWindow: c.challengeWindow.toString(),
    closesAt: c.closesAt.toString(),
    state: stateOf(c),
    ...(c.role ? { role: c.role } : {}),
  };
}

function channelText(c: ChannelState): string {
  const lines = [
    `Channel ${c.channelId} (${stateOf(c)})`,
    `  ${c.sender} -> ${c.receiver}`,
    `  deposit ${formatM2M(c.deposit)} M2M, claimed ${formatM2M(c.claimed)} M2M, available ${formatM2M(c.deposit - c.claimed)} M2M`,
  ];
  if (c.closing)
    lines.push(
      `  closing: the sender may withdraw after ${new Date(Number(c.closesAt) * 1000).toISOString()}`,
    );
  return lines.join('\n');
}

function amountArg(text: string, what: string): bigint {
  try {
    const v = parseM2M(text);
    if (v <= 0n) throw new Error('not positive');
    return v;
  } catch {
    throw new CliError(
      `${what} "${text}" is not a positive decimal M2M amount (e.g. 50 or 0.5)`,
      ExitCode.Usage,
    );
  }
}

function channelIdArg(text: string): Hex {
  if (!/^0x[0-9a-fA-F]{64}$/.test(text)) {
    throw new CliError(
      `channel id "${text}" is not 0x and 64 hex digits (see \`crosstown channel list\`)`,
      ExitCode.Usage,
    );
  }
  return text as Hex;
}

/** Records the channel in the Mayor's state repository; a running Mayor holding it is not an error (the chain is the truth). */
async function recordChannel(ctx: ChainContext, c: ChannelState, cumulativeSigned?: bigint): Promise<void> {
  try {
    const state = await openStateRepo({ dir: ctx.config.stateDir });
    try {
      const prev = state.channels.get(c.channelId);
      state.channels.put({
        channelId: c.channelId,
        direction: 'out',
        chainId: ctx.network.chainId,
        contract: needChannels(ctx),
        counterparty: c.receiver,
        deposit: c.deposit,
        cumulativeSigned: cumulativeSigned ?? prev?.cumulativeSigned ?? 0n,
        ...(prev?.lastClaim ? { lastClaim: prev.lastClaim } : {}),
      });
    } finally {
      await state.close();
    }
  } catch (err) {
    note(
      `note: the channel is on-chain but was not recorded in ${ctx.config.stateDir}: ${(err as Error).message}`,
    );
  }
}

/**
 * The Mayor's own outgoing channel on this chain and what it signed away off-chain: from the running Mayor
 * (control socket), else from its state repository. With `wanted`, only that channel.
 */
async function ownChannel(
  ctx: ChainContext,
  wanted: Hex | undefined,
): Promise<{ channelId: Hex; signed: bigint; source: string } | undefined> {
  const live = (await controlRequest(controlSocketPath(ctx.config), { op: 'status' }, 5000).catch(
    () => undefined,
  )) as { channel?: { channelId: string; spent: unknown } } | undefined;
  if (live?.channel && (!wanted || live.channel.channelId.toLowerCase() === wanted.toLowerCase())) {
    return {
      channelId: live.channel.channelId as Hex,
      signed: BigInt(String(live.channel.spent)),
      source: 'the running Mayor',
    };
  }
  if (!existsSync(ctx.config.stateDir)) return undefined;
  let records: ChannelRecord[];
  try {
    const state = await openStateRepo({ dir: ctx.config.stateDir });
    try {
      records = state.channels.list();
    } finally {
      await state.close();
    }
  } catch {
    return undefined; // held by a Mayor that does not answer: the chain alone still answers
  }
  const mine = records
    .filter(
      (c) =>
        c.direction === 'out' &&
        c.chainId === ctx.network.chainId &&
        (!wanted || c.channelId.toLowerCase() === wanted.toLowerCase()),
    )
    .sort((a, b) => b.updatedAt - a.updatedAt)[0];
  return mine
    ? { channelId: mine.channelId as Hex, signed: mine.cumulativeSigned, source: 'the state repository' }
    : undefined;
}

export function registerChannel(program: Command): void {
  const channel = program.command('channel').description('Payment channels: open, inspect, top up, close');

  helpExamples(
    addChain(
      channel
        .command('open')
        .description('Open a channel to the connector with a deposit (one transaction, plus an approve)'),
    )
      .option('--deposit <m2m>', 'M2M to lock (default: the default-deposit setting)')
      .option('--receiver <address>', "the connector's settlement address (devnet: the node's)")
      .option(
        '--challenge-window <seconds>',
        'seconds the receiver has to claim after a close (1 h .. 30 days)',
        '86400',
      ),
    [
      'crosstown channel open --deposit 50',
      'crosstown channel open --deposit 50 --receiver 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --yes --format json',
    ],
    'A deposit above the max-channel-deposit setting is refused with exit code 4 before anything is sent.',
  ).action(
    run(async (o: ChainOptions & { deposit?: string; receiver?: string; challengeWindow: string }) => {
      const ctx = await chainContext(o);
      const deposit = o.deposit !== undefined ? amountArg(o.deposit, 'deposit') : ctx.config.defaultDeposit;
      if (deposit > ctx.config.maxChannelDeposit) {
        throw new CliError(
          `deposit ${formatM2M(deposit)} M2M is above max-channel-deposit (${formatM2M(ctx.config.maxChannelDeposit)} M2M): deposit less, or raise the limit with \`crosstown config set max-channel-deposit <m2m>\``,
          ExitCode.Refused,
        );
      }
      const receiver = (o.receiver ?? ctx.defaultReceiver) as Address | undefined;
      if (!receiver || !/^0x[0-9a-fA-F]{40}$/.test(receiver)) {
        throw new CliError(
          'the channel receiver is not known: pass --receiver <the connector settlement address>',
          ExitCode.Usage,
        );
      }
      if (!/^\d+$/.test(o.challengeWindow))
        throw new CliError('--challenge-window must be whole seconds', ExitCode.Usage);
      const token = needToken(ctx);
      const channels = needChannels(ctx);
      if (o.format === 'text') note(ctx.banner);
      await confirm(`Lock ${formatM2M(deposit)} M2M in a channel to ${receiver} on ${ctx.network.name}?`, o);
      const key = await unlockWallet(ctx.config, o);
      const clients = clientsFor(ctx, key);
      key.secretKey.fill(0);
      const opened = await withProgress(
        `opening a ${formatM2M(deposit)} M2M channel (waiting for confirmation)`,
        o,
        () =>
          openChannel(clients, {
            channels,
            token,
            receiver,
            amount: deposit,
            challengeWindow: BigInt(o.challengeWindow),
          }),
      );
      const state = await readChannel(clients.public, { channels, channelId: opened.channelId });
      await recordChannel(ctx, state, 0n);
      const value = {
        network: ctx.network.name,
        chainId: ctx.network.chainId,
        ...channelJson(state),
        txHash: opened.receipt.transactionHash,
      };
      printResult(o.format, {
        value,
        rows: [value],
        text: () => `${ctx.banner}\nOpened:\n${channelText(state)}\n  tx ${opened.receipt.transactionHash}`,
      });
    }),
  );

  helpExamples(
    addChain(
      channel
        .command('status')
        .description(
          "A channel's state and what is left to spend (default: the Mayor's own channel on this network)",
        ),
    ).argument('[channelId]', "0x… channel id (default: the Mayor's channel)"),
    ['crosstown channel status', 'crosstown channel status 0x3f… --format json | jq -r .remaining'],
    'remaining = deposit - spent, where spent is the highest claim the Mayor signed off-chain (or what the receiver redeemed on-chain, if more): the number the dashboard and `mayor status` show. available = deposit - claimed on-chain.',
  ).action(
    run(async (id: string | undefined, o: ChainOptions) => {
      const wanted = id === undefined ? undefined : channelIdArg(id);
      const ctx = await chainContext(o);
      const mine = await ownChannel(ctx, wanted);
      const channelId = wanted ?? mine?.channelId;
      if (!channelId) {
        throw new CliError(
          `Mayor ${ctx.config.name} has no payment channel on ${ctx.network.name}: open one with \`crosstown channel open --deposit 50\`, or pass a channel id`,
          ExitCode.Usage,
        );
      }
      const state = await readChannel(publicClientFor(ctx), { channels: needChannels(ctx), channelId });
      const balance = channelBalance({
        channelId,
        deposit: state.deposit,
        signed: mine?.signed ?? 0n,
        claimed: state.claimed,
      });
      const low = !state.settled && balance.remaining < ctx.config.lowBalanceThreshold;
      const value = {
        network: ctx.network.name,
        chainId: ctx.network.chainId,
        ...channelJson(state),
        spent: balance.spent.toString(),
        remaining: balance.remaining.toString(),
        lowBalance: low,
      };
      printResult(o.format, {
        value,
        rows: [value],
        text: () =>
          [
            ctx.banner,
            `Payment Channel: ${formatM2M(balance.remaining)} M2M remaining`,
            channelText(state),
            `  spent ${formatM2M(balance.spent)} M2M (signed off-chain${mine ? `, from ${mine.source}` : ''})`,
            ...(low
              ? [
                  `  low balance: below ${formatM2M(ctx.config.lowBalanceThreshold)} M2M, top it up (crosstown channel topup ${channelId})`,
                ]
              : []),
          ].join('\n'),
      });
    }),
  );

  helpExamples(
    addChain(channel.command('topup').description('Add M2M to an open channel'))
      .argument('<channelId>', '0x… channel id')
      .requiredOption('--amount <m2m>', 'M2M to add'),
    [
      'crosstown channel topup 0x3f… --amount 25',
      'crosstown channel topup 0x3f… --amount 25 --yes --format json',
    ],
    'A top-up that would take the deposit above max-channel-deposit is refused with exit code 4.',
  ).action(
    run(async (id: string, o: ChainOptions & { amount: string }) => {
      const channelId = channelIdArg(id);
      const amount = amountArg(o.amount, 'amount');
      const ctx = await chainContext(o);
      const channels = needChannels(ctx);
      const before = await readChannel(publicClientFor(ctx), { channels, channelId });
      if (before.deposit + amount > ctx.config.maxChannelDeposit) {
        throw new CliError(
          `the deposit would become ${formatM2M(before.deposit + amount)} M2M, above max-channel-deposit (${formatM2M(ctx.config.maxChannelDeposit)} M2M): add less or raise the limit`,
          ExitCode.Refused,
        );
      }
      if (o.format === 'text') note(ctx.banner);
      await confirm(`Add ${formatM2M(amount)} M2M to channel ${channelId} on ${ctx.network.name}?`, o);
      const key = await unlockWallet(ctx.config, o);
      const clients = clientsFor(ctx, key);
      key.secretKey.fill(0);
      const r = await withProgress(`topping up ${formatM2M(amount)} M2M (waiting for confirmation)`, o, () =>
        topUpChannel(clients, { channels, token: needToken(ctx), channelId, amount }),
      );
      const after = await readChannel(clients.public, { channels, channelId });
      await recordChannel(ctx, after);
      const value = {
        network: ctx.network.name,
        chainId: ctx.network.chainId,
        ...channelJson(after),
        added: r.added.toString(),
        txHash: r.receipt.transactionHash,
      };
      printResult(o.format, {
        value,
        rows: [value],
        text: () => `${ctx.banner}\nTopped up:\n${channelText(after)}`,
      });
    }),
  );

  helpExamples(
    addChain(
      channel
        .command('close')
        .description('Start closing a channel; run again after the challenge window to withdraw'),
    ).argument('<channelId>', '0x… channel id'),
    ['crosstown channel close 0x3f…', 'crosstown channel close 0x3f… --yes --format json | jq -r .action'],
    'First run: starts the challenge window (action "close-started"). During it: action "waiting". After it: withdraws the rest (action "withdrawn").',
  ).action(
    run(async (id: string, o: ChainOptions) => {
      const channelId = channelIdArg(id);
      const ctx = await chainContext(o);
      const channels = needChannels(ctx);
      const client = publicClientFor(ctx);
      const before = await readChannel(client, { channels, channelId });
      if (before.settled)
        throw new CliError(`channel ${channelId} is already settled: nothing to close or withdraw`);
      const now = (await client.getBlock()).timestamp;
      let action: 'close-started' | 'waiting' | 'withdrawn' = 'waiting';
      let txHash: string | undefined;
      let refunded: bigint | undefined;
      if (o.format === 'text') note(ctx.banner);
      if (!before.closing || now >= before.closesAt) {
        const what = before.closing ? 'Withdraw what is left of' : 'Start closing';
        await confirm(`${what} channel ${channelId} on ${ctx.network.name}?`, o);
        const key = await unlockWallet(ctx.config, o);
        const clients = clientsFor(ctx, key);
        key.secretKey.fill(0);
        if (!before.closing) {
          const r = await withProgress('starting the close (waiting for confirmation)', o, () =>
            startClose(clients, { channels, channelId }),
          );
          action = 'close-started';
          txHash = r.receipt.transactionHash;
        } else {
          const r = await withProgress('withdrawing (waiting for confirmation)', o, () =>
            withdraw(clients, { channels, channelId }),
          );
          action = 'withdrawn';
          txHash = r.receipt.transactionHash;
          refunded = r.refunded;
        }
      }
      const after = await readChannel(client, { channels, channelId });
      const value = {
        network: ctx.network.name,
        chainId: ctx.network.chainId,
        action,
        ...channelJson(after),
        ...(txHash ? { txHash } : {}),
        ...(refunded !== undefined ? { refunded: refunded.toString() } : {}),
      };
      const say = {
        'close-started': `Close started: withdraw the rest after ${new Date(Number(after.closesAt) * 1000).toISOString()} with \`crosstown channel close ${channelId}\``,
        waiting: `The challenge window is still running: run this again after ${new Date(Number(after.closesAt) * 1000).toISOString()}`,
        withdrawn: `Withdrawn: ${formatM2M(refunded ?? 0n)} M2M returned to the wallet`,
      }[action];
      printResult(o.format, {
        value,
        rows: [value],
        text: () => `${ctx.banner}\n${say}\n${channelText(after)}`,
      });
    }),
  );

  helpExamples(
    addChain(
      channel.command('list').description("The wallet's channels, rebuilt from on-chain events"),
    ).option('--from-block <n>', 'first block to scan (default: the devnet deploy block, else 0)'),
    ['crosstown channel list', 'crosstown channel list --format csv > channels.csv'],
  ).action(
    run(async (o: ChainOptions & { fromBlock?: string }) => {
      const ctx = await chainContext(o);
      const wallet = walletAddress(ctx.config);
      const list = await withProgress('scanning channel events', o, () =>
        listChannels(publicClientFor(ctx), {
          channels: needChannels(ctx),
          wallet,
          fromBlock: o.fromBlock !== undefined ? BigInt(o.fromBlock) : ctx.fromBlock,
        }),
      );
      const rows = list.map(channelJson);
      printResult(o.format, {
        value: { network: ctx.network.name, chainId: ctx.network.chainId, wallet, channels: rows },
        rows,
        text: () =>
          [
            ctx.banner,
            `Wallet ${wallet}: ${list.length} channel(s)`,
            ...list.map((c) => `${channelText(c)}\n  role: ${c.role}`),
          ].join('\n'),
      });
    }),
  );
}
