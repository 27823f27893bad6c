// The receiver's guard: when a sender starts closing a channel, submit the best claim we hold before the
// challenge window ends, so the sender cannot withdraw money it already promised. Every closing channel stays in a
// retry loop (with backoff) until it is settled or its window is over, and a claim accepted after our first
// redemption is redeemed too. The scan of ClosureStarted logs resumes from a persisted block and re-reads the last
// `confirmations` blocks each round, so a shallow reorg cannot hide a close. See docs/connector.md.
import type { Address, Hex } from 'viem';
import { readChannel } from './actions/readChannel.js';
import { type SubmitClaimResult, submitClaim } from './actions/submitClaim.js';
import type { ChainClients } from './clients.js';
import { ChainError } from './errors.js';
import { paymentChannelsAbi } from './generated/PaymentChannels.js';
import type { SignedClaim } from './types.js';

/** One redemption attempt on a closing channel (or the end of its tracking), for the operator's log. */
export interface RedeemAttempt {
  channelId: Hex;
  /** 1 for the first try after a success or the first sighting; grows with each consecutive failure. */
  attempt: number;
  outcome: 'redeemed' | 'failed' | 'settled' | 'window-over';
  /** Words for the log: the error of a failed attempt, or what happened. */
  reason: string;
  /** Paid by a successful attempt. */
  paid?: bigint;
  /** When the next attempt is due after a failure. */
  retryInMs?: number;
  closesAt: bigint;
  /** closesAt minus the chain's latest block time (negative once the window is over). */
  secondsLeft: bigint;
}

export interface ClaimWatcherOptions {
  /** Clients of the receiver's wallet (claims must come from the receiver). */
  clients: ChainClients;
  channels: Address;
  /** The highest claim held for a channel, or undefined if none (e.g. read from the Mayor's state). */
  bestClaim: (channelId: Hex) => SignedClaim | undefined | Promise<SignedClaim | undefined>;
  /** Sends a claim (default: submitClaim with `clients`); e.g. through the caller's wallet queue. */
  submit?: (claim: SignedClaim, close: boolean) => Promise<SubmitClaimResult>;
  /** Also settle the channel in the same transaction (the sender gets the rest at once). Default false. */
  close?: boolean;
  /**
   * First block to scan for ClosureStarted (e.g. the persisted `onScanned` block + 1, to catch closes started while
   * the process was down). Default: the head minus `confirmations`.
   */
  fromBlock?: bigint;
  /** How often to look for new ClosureStarted events and retry closing channels, in ms. Default 1000. */
  pollingIntervalMs?: number;
  /** Depth under which a block counts as final: each round re-reads the last `confirmations` blocks. Default 2. */
  confirmations?: number;
  /** Every block up to this one has been scanned and is `confirmations` deep: persist it, resume from it + 1. */
  onScanned?: (block: bigint) => void;
  /** Channels to read at start (e.g. those with accepted claims): any found closing enters the retry loop. */
  knownChannels?: () => readonly Hex[] | Promise<readonly Hex[]>;
  /** Told as soon as a channel is seen closing, before any redemption: stop accepting claims on it. */
  onClosing?: (channelId: Hex, closesAt: bigint) => void;
  /** Each attempt on a closing channel with its outcome (log it). */
  onAttempt?: (attempt: RedeemAttempt) => void;
  /** Backoff of failed attempts: first delay and cap, ms. Default 1000 and 60000. */
  retry?: { initialMs?: number; maxMs?: number };
  /** Retries are spaced so one still lands this many seconds before closesAt. Default 300. */
  marginSeconds?: bigint;
  /** Largest block range of one getLogs call (public RPCs limit it). Default 5000. */
  maxBlockRange?: bigint;
  onClaimed?: (channelId: Hex, result: SubmitClaimResult) => void;
  onError?: (error: unknown, channelId: Hex | undefined) => void;
}

export interface ClaimWatcher {
  /** Resolves when the first round (catch-up scan, known channels, first attempts) is done. */
  ready: Promise<void>;
  /** Runs one more round now (scan, attempts due) and resolves when it is done. */
  idle(): Promise<void>;
  /** Puts a channel in the retry loop (e.g. a periodic check read it closing). */
  track(channelId: Hex, closesAt: bigint): void;
  /** Channels in the retry loop. */
  closing(): { channelId: Hex; closesAt: bigint; attempts: number }[];
  stop(): void;
}

interface Tracked {
  channelId: Hex;
  closesAt: bigint;
  /** Consecutive failed attempts. */
  failures: number;
  /** Not before this time (ms). */
  nextAt: number;
  /** Claimed on-chain as far as we know: no attempt unless the best claim is above it. */
  claimed: bigint;
  /** An attempt is owed: first sighting, or a failure to retry. */
  pending: boolean;
}

export function watchClosures(options: ClaimWatcherOptions): ClaimWatcher {
  const { clients, channels } = options;
  const receiver = clients.wallet.account.address;
  const pollMs = options.pollingIntervalMs ?? 1000;
  const confirmations = BigInt(options.confirmations ?? 2);
  const initialMs = options.retry?.initialMs ?? 1000;
  const maxMs = options.retry?.maxMs ?? 60_000;
  const margin = options.marginSeconds ?? 300n;
  const range = options.maxBlockRange ?? 5000n;
  const close = options.close ?? false;
  const submit =
    options.submit ??
    ((claim: SignedClaim, c: boolean) => submitClaim(clients, { channels, claim, close: c }));
  const tracked = new Map<string, Tracked>();
  let scannedThrough = options.fromBlock !== undefined ? options.fromBlock - 1n : undefined;

  const track = (channelId: Hex, closesAt: bigint) => {
    const key = channelId.toLowerCase();
    if (tracked.has(key)) return;
    tracked.set(key, { channelId, closesAt, failures: 0, nextAt: 0, claimed: -1n, pending: true });
    options.onClosing?.(channelId, closesAt);
  };

  const scan = async () => {
    const head = await clients.public.getBlockNumber();
    if (scannedThrough !== undefined && head < scannedThrough) {
      options.onError?.(
        new ChainError(
          'CHAIN_REWOUND',
          `The chain's head (block ${head}) is below the last block scanned for closes (${scannedThrough}): the chain was reset or replaced. Check the RPC URL; for a restarted devnet, reset the node's local state.`,
        ),
        undefined,
      );
      scannedThrough = head > confirmations ? head - confirmations : -1n;
    }
    scannedThrough ??= head > confirmations ? head - confirmations - 1n : -1n;
    // Re-read the unconfirmed tail every round: a reorg may have moved a ClosureStarted into another block.
    let from = scannedThrough + 1n > head - confirmations ? head - confirmations : scannedThrough + 1n;
    if (from < 0n) from = 0n;
    while (from <= head) {
      const to = from + range - 1n < head ? from + range - 1n : head;
      const logs = await clients.public.getContractEvents({
        address: channels,
        abi: paymentChannelsAbi,
        eventName: 'ClosureStarted',
        args: { receiver },
        fromBlock: from,
        toBlock: to,
        strict: true,
      });
      for (const log of logs) track(log.args.channelId, BigInt(log.args.closesAt));
      from = to + 1n;
    }
    const confirmed = head - confirmations;
    if (confirmed > scannedThrough) {
      scannedThrough = confirmed;
      options.onScanned?.(confirmed);
    }
  };

  const checkKnown = async () => {
    for (const channelId of (await options.knownChannels?.()) ?? []) {
      try {
        const state = await readChannel(clients.public, { channels, channelId });
        if (state.closing) track(channelId, state.closesAt);
      } catch (err) {
        options.onError?.(err, channelId);
      }
    }
  };

  const attempt = async (t: Tracked, chainNow: bigint) => {
    const key = t.channelId.toLowerCase();
    const secondsLeft = t.closesAt - chainNow;
    // Numbered before the outcome changes `failures`: the first try is 1, the try after two failures is 3.
    const attemptNo = t.failures + 1;
    const report = (a: Omit<RedeemAttempt, 'channelId' | 'closesAt' | 'secondsLeft' | 'attempt'>) =>
      options.onAttempt?.({
        channelId: t.channelId,
        closesAt: t.closesAt,
        secondsLeft,
        attempt: attemptNo,
        ...a,
      });
    try {
      const best = await options.bestClaim(t.channelId);
      if (!t.pending && (!best || best.cumulativeAmount <= t.claimed)) {
        // Nothing new to redeem: keep watching until the window is over (a claim may still be accepted in a race).
        if (secondsLeft < 0n) {
          tracked.delete(key);
          report({ outcome: 'window-over', reason: 'challenge window over, nothing left to redeem' });
        }
        return;
      }
      const state = await readChannel(clients.public, { channels, channelId: t.channelId });
      t.claimed = state.claimed;
      if (state.settled) {
        tracked.delete(key);
        report({ outcome: 'settled', reason: `channel settled with ${state.claimed} claimed` });
        return;
      }
      t.pending = false;
      // The contract pays min(cumulative, deposit) - claimed.
      const cap = best && best.cumulativeAmount < state.deposit ? best.cumulativeAmount : state.deposit;
      const payable = best ? cap : 0n;
      if (!best || payable <= state.claimed) {
        t.failures = 0;
        return;
      }
      const result = await submit(best, close);
      t.claimed = result.totalClaimed;
      t.failures = 0;
      report({
        outcome: 'redeemed',
        reason: `claim of ${best.cumulativeAmount} submitted`,
        paid: result.paid,
      });
      options.onClaimed?.(t.channelId, result);
      if (result.refundedToSender !== undefined) tracked.delete(key);
    } catch (err) {
      if (err instanceof ChainError && err.code === 'ChannelAlreadySettled') {
        tracked.delete(key);
        report({ outcome: 'settled', reason: 'channel already settled' });
        return;
      }
      t.pending = true;
      t.failures++;
      // Backoff, but spaced so that another try still lands before closesAt - margin.
      let delay = Math.min(initialMs * 2 ** (t.failures - 1), maxMs);
      const untilMarginMs = Number(secondsLeft - margin) * 1000;
      if (untilMarginMs > 0) delay = Math.max(initialMs, Math.min(delay, Math.floor(untilMarginMs / 2)));
      else delay = initialMs;
      t.nextAt = Date.now() + delay;
      report({ outcome: 'failed', reason: (err as Error).message ?? String(err), retryInMs: delay });
      options.onError?.(err, t.channelId);
    }
  };

  const attemptAll = async () => {
    if (tracked.size === 0) return;
    const block = await clients.public.getBlock({ blockTag: 'latest' });
    for (const t of [...tracked.values()]) {
      if (t.nextAt > Date.now()) continue;
      await attempt(t, block.timestamp);
    }
  };

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const round = async (first: boolean) => {
    try {
      await scan();
    } catch (err) {
      options.onError?.(err, undefined);
    }
    if (first) await checkKnown();
    try {
      await attemptAll();
    } catch (err) {
      options.onError?.(err, undefined);
    }
  };
  // Rounds never overlap: each one is chained after the previous.
  let current: Promise<void> = round(true);
  const ready = current;
  // Our own polling loop rather than viem's watchContractEvent: viem keeps re-polling a dead RPC after unwatch,
  // which kept stopped nodes alive.
  const loop = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = current.then(() => (stopped ? undefined : round(false)));
      void current.then(loop);
    }, pollMs);
  };
  void ready.then(loop);

  return {
    ready,
    idle() {
      current = current.then(() => round(false));
      return current;
    },
    track,
    closing: () =>
      [...tracked.values()].map((t) => ({
        channelId: t.channelId,
        closesAt: t.closesAt,
        attempts: t.failures,
      })),
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
