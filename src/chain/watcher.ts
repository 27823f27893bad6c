// The receiver's guard: when a sender starts closing a channel, submit the best claim we hold before the
// challenge window ends, so the sender cannot withdraw money it already promised.
import type { Address, Hex } from 'viem';
import { readChannel } from './actions/readChannel.js';
import { type SubmitClaimResult, submitClaim } from './actions/submitClaim.js';
import type { ChainClients } from './clients.js';
import { paymentChannelsAbi } from './generated/PaymentChannels.js';
import type { SignedClaim } from './types.js';

export interface ClaimWatcherOptions {
  /** Clients of the receiver's wallet (claims must come from the receiver). */
  clients: ChainClients;
  channels: Address;
  /** The highest claim held for a channel, or undefined if none (e.g. read from the Mayor's state). */
  bestClaim: (channelId: Hex) => SignedClaim | undefined | Promise<SignedClaim | undefined>;
  /** Also settle the channel in the same transaction (the sender gets the rest at once). Default false. */
  close?: boolean;
  /** Also handle closures started since this block (e.g. while the process was down). */
  fromBlock?: bigint;
  /** How often to look for new ClosureStarted events, in ms. Default 1000. */
  pollingIntervalMs?: number;
  onClaimed?: (channelId: Hex, result: SubmitClaimResult) => void;
  onError?: (error: unknown, channelId: Hex | undefined) => void;
}

export interface ClaimWatcher {
  /** Resolves when the catch-up scan (fromBlock) is done and the live subscription is running. */
  ready: Promise<void>;
  /** Resolves when every closure seen so far has been handled. */
  idle(): Promise<void>;
  stop(): void;
}

export function watchClosures(options: ClaimWatcherOptions): ClaimWatcher {
  const { clients, channels } = options;
  const receiver = clients.wallet.account.address;
  const seen = new Set<Hex>();
  // One queue: every claim comes from the same account, so sends must not race for a nonce.
  let queue: Promise<void> = Promise.resolve();

  const handle = (channelId: Hex) => {
    if (seen.has(channelId)) return;
    seen.add(channelId);
    queue = queue.then(async () => {
      try {
        const claim = await options.bestClaim(channelId);
        if (!claim) return;
        const state = await readChannel(clients.public, { channels, channelId });
        if (state.settled || claim.cumulativeAmount <= state.claimed) return; // nothing to gain
        const result = await submitClaim(clients, { channels, claim, close: options.close ?? false });
        options.onClaimed?.(channelId, result);
      } catch (err) {
        seen.delete(channelId); // allow a retry on the next event or scan
        options.onError?.(err, channelId);
      }
    });
  };

  // Our own polling loop rather than viem's watchContractEvent: viem keeps re-polling a dead RPC after unwatch,
  // which kept stopped nodes alive. Each round reads ClosureStarted logs from the next unread block to the head.
  const pollMs = options.pollingIntervalMs ?? 1000;
  let nextBlock = options.fromBlock;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const pollOnce = async () => {
    try {
      const head = await clients.public.getBlockNumber();
      nextBlock ??= head;
      if (head < nextBlock) return;
      const logs = await clients.public.getContractEvents({
        address: channels,
        abi: paymentChannelsAbi,
        eventName: 'ClosureStarted',
        args: { receiver },
        fromBlock: nextBlock,
        toBlock: head,
        strict: true,
      });
      for (const log of logs) handle(log.args.channelId);
      nextBlock = head + 1n;
    } catch (err) {
      options.onError?.(err, undefined);
    }
  };
  const loop = async () => {
    await pollOnce();
    if (!stopped) timer = setTimeout(loop, pollMs);
  };
  const ready = pollOnce().then(() => {
    if (!stopped) timer = setTimeout(loop, pollMs);
  });

  return {
    ready,
    async idle() {
      await ready;
      await queue;
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
