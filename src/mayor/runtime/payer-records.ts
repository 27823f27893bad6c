// How attach() uses the payer's record (payer-log.ts): whether it can be followed for this node and channel, what a
// resync may then accept from the node (PayerLog.listable: a named payment's one attempt), and the PREPAREs in flight
// that no resync may count as of unknown fate.

import { join } from 'node:path';
import type { Hex } from 'viem';
import type { ResyncOptions } from '../../connector/claim-sender.js';
import type { UnpaidPacket } from '../../connector/store.js';
import { packetsWithout } from '../../connector/unpaid.js';
import { PAYER_LOG_FILE, type StateRepo } from '../state/index.js';
import { PayerLog } from './payer-log.js';

/** Without a record to check it against, the node's word is taken up to this (its default credit limit, 1 M2M). */
const UNCHECKED_MAX_OWED = 10n ** 18n;

export interface PayerRecordsOptions {
  state?: StateRepo;
  warn: (message: string) => void;
  /** The node: chain id, channel contract and settlement address (its list of what we owe spans our channels). */
  node: string;
  channelId: Hex;
  /** Where the channel came from: `opened` now, or found in `state` / on the `chain`. */
  channelSource: 'opened' | 'state' | 'chain';
  /** The cumulative known from the channel record and the chain. */
  cumulative: bigint;
  /** Whether the state holds no channel to this node from before: then nothing can be owed to it. */
  firstChannel: boolean;
  /** The operator's `max resync owed`, if set. */
  maxResyncOwed?: bigint;
}

/** A resync's options, with the packets of unknown fate it settles (those the node does not list are not owed). */
export interface PayerResyncOptions extends ResyncOptions {
  unknownBefore?: readonly UnpaidPacket[];
  /** PREPAREs sent while the resync runs (none of them is one it settled). */
  sentDuring?: UnpaidPacket[];
}

export interface PayerRecords {
  readonly log: PayerLog | undefined;
  /** The cumulative to continue from (the record's, when it holds a claim the channel record missed). */
  readonly cumulative: bigint;
  /** Packets owed to the node that no accepted claim paid, from the record (empty when it is not followed). */
  readonly owed: UnpaidPacket[];
  /**
   * The options of the next resync: with a record that is followed, the node may list only packets we hold as owed
   * or sent and never learned the fate of (none in flight now), and its cumulative rise only by what it stops
   * listing. `inProcess`: this process opened or already resynced the channel (its memory is complete).
   */
  resyncOptions(inProcess: boolean): PayerResyncOptions;
  /** After a resync succeeded with `used`: the record follows what it settled. */
  resynced(used: PayerResyncOptions, channelId: Hex, cumulative: bigint, owed: UnpaidPacket[]): void;
  /** The resync that used `used` ended (succeeded or not). */
  finished(used: PayerResyncOptions): void;
  /** A PREPARE goes out (its line is written); call the result when its answer (or none) came. */
  sending(condition: string, amount: bigint, label?: string): () => void;
}

export function followPayerRecords(o: PayerRecordsOptions): PayerRecords {
  let log: PayerLog | undefined;
  if (o.state) {
    try {
      log = PayerLog.open(join(o.state.dir, PAYER_LOG_FILE), o.warn);
    } catch (err) {
      o.warn(
        `Could not read or rewrite ${PAYER_LOG_FILE} (${(err as Error).message}): paying without the payer's record; after a restart the node's word about what we owe is taken up to max resync owed.`,
      );
    }
  }
  // Followed when it was kept while paying this node and either holds this very channel with at least the cumulative
  // the channel record holds (an OS crash can lose its tail), or the channel is new. A first channel to a node owes
  // nothing from before, whatever the record held: it starts over, followed. A record that cannot be followed starts
  // over too, unfollowed, so that lines of this run never complete a stale one; a resync that succeeds makes it
  // follow what it settled.
  const first = o.channelSource === 'opened' && o.firstChannel;
  const sameChannel = log?.channel === o.channelId && log.cumulative >= o.cumulative;
  let followed =
    log !== undefined && (first || (log.follows(o.node) && (o.channelSource === 'opened' || sameChannel)));
  const cumulative = followed && !first && sameChannel ? log!.cumulative : o.cumulative;
  const owed = followed && !first ? log!.owed() : [];
  if (log && (first || !followed)) log.startOver();
  if (followed) log!.track(o.node, o.channelId, cumulative);

  /** PREPAREs sent and not answered yet: their fate is not unknown, only pending. */
  const inFlight = new Set<UnpaidPacket>();
  /** The `sentDuring` lists of the resyncs running now. */
  const running = new Set<UnpaidPacket[]>();

  return {
    log,
    cumulative,
    owed,
    resyncOptions(inProcess) {
      const unchecked = o.maxResyncOwed ?? UNCHECKED_MAX_OWED;
      if (followed) {
        const sentDuring: UnpaidPacket[] = [];
        running.add(sentDuring);
        return {
          maxOwed: o.maxResyncOwed ?? 0n,
          maxUnexplained: 0n,
          expected: log!.listable([...inFlight]),
          unknownBefore: packetsWithout(log!.unknown(), [...inFlight]),
          sentDuring,
        };
      }
      return inProcess ? { maxOwed: unchecked, maxUnexplained: 0n } : { maxOwed: unchecked };
    },
    resynced(used, channelId, cum, owedNow) {
      if (!log) return;
      if (used.unknownBefore) {
        // Packets are told apart by condition and amount only: an attempt in flight, or sent during the resync, is not
        // one of those it settled (one listed and merged meanwhile would otherwise leave it to be taken for it).
        const settled = packetsWithout(log.unknown(), [
          ...new Set([...inFlight, ...(used.sentDuring ?? [])]),
        ]);
        log.notOwed(packetsWithout(used.unknownBefore, packetsWithout(used.unknownBefore, settled)));
      }
      if (followed) return;
      // The node's word was taken (up to max resync owed): from here on the record follows what it settled.
      log.track(o.node, channelId, cum, owedNow);
      followed = true;
    },
    finished(used) {
      if (used.sentDuring) running.delete(used.sentDuring);
    },
    sending(condition, amount, label) {
      if (!log || amount === 0n) return () => {};
      log.sent(condition, amount, label);
      const packet = { condition, amount };
      inFlight.add(packet);
      for (const list of running) list.push(packet);
      return () => inFlight.delete(packet);
    },
  };
}
