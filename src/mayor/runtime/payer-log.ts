// The Mayor's own record of what it pays its node for: every paid PREPARE before it goes, its outcome, and every
// claim the node accepted, as JSON lines in `payments-out.jsonl` in the state repository (ignored by git: it
// changes with every write). After a restart the Mayor starts from these records, not from the node's word: the
// node may list as owed only packets it fulfilled for us or that we sent and never learned the fate of, and its
// cumulative may rise only by the packets it stops listing (a claim whose answer the crash cut off).
//
// What is owed, what is of unknown fate and which named payments went through belong to the node (its list of what a
// peer owes spans that peer's channels); the channel and the cumulative the node accepted on it are kept beside them.
//
// Lines are appended with write(2), not fsynced: they survive the process (a crash, SIGKILL), not the machine. After an
// OS crash the node's list can name a packet whose line was lost; the resync then refuses it and says so, until the
// operator allows the amount (`max resync owed`). A record that lost an accepted claim (its cumulative is below the
// channel record's) is not followed; a write that fails removes the file, so a restart never follows a stale one.
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { Hex } from 'viem';
import type { UnpaidPacket } from '../../connector/store.js';
import { packetsWithout } from '../../connector/unpaid.js';

/** Unknown outcomes kept at most (the oldest go first; each resync clears those the node did not list). */
const MAX_UNKNOWN = 10_000;
/** Named payments remembered at most (the oldest go first). */
const MAX_PAID = 10_000;
/** Appended lines after which the log is rewritten with only what is live. */
const COMPACT_AFTER = 50_000;

type Line =
  /** The node these records follow (chain, contract, settlement address), our channel to it and what it accepted. */
  | { t: 'node'; node: string; ch: Hex; cum: string }
  /**
   * A paid PREPARE about to go: its outcome is unknown until a `fulfilled` or `rejected` line. `for` names what it
   * pays (a provider payment: `<job id>:<provider>`).
   */
  | { t: 'sent'; c: string; a: string; for?: string }
  /**
   * Its FULFILL came, or the node listed it as owed (with `f`, its fulfillment, when it was one we sent and never
   * learned the fate of): owed until an accepted claim pays it.
   */
  | { t: 'fulfilled'; c: string; a: string; f?: string }
  /** Not owed: the node rejected it, or did not list it when asked what we owe. */
  | { t: 'rejected'; c: string; a: string }
  /** The node accepted a claim up to `cum`, paying these packets. */
  | { t: 'accepted'; cum: string; pays: string[] }
  /** A named payment went through: its FULFILL came (`f`, the fulfillment), or an older node listed it as owed. */
  | { t: 'paid'; for: string; f?: string };

/** A packet, and what it pays for when it was named. */
interface Packet extends UnpaidPacket {
  for?: string;
}

/** What became of a named payment: it went through, with its fulfillment when its FULFILL reached us. */
export interface PaidRecord {
  fulfillment?: Uint8Array;
}

/** Packets per condition, oldest first (as UnpaidPackets keeps them: a claim pays a condition's oldest packet). */
class Packets {
  private readonly byCondition = new Map<string, Packet[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(p: Packet): void {
    const list = this.byCondition.get(p.condition);
    if (list) list.push(p);
    else this.byCondition.set(p.condition, [p]);
    this.count++;
  }

  /** Removes the oldest packet of this condition and amount; undefined if there is none. */
  remove(p: UnpaidPacket): Packet | undefined {
    const list = this.byCondition.get(p.condition);
    const i = list?.findIndex((q) => q.amount === p.amount) ?? -1;
    if (!list || i < 0) return undefined;
    return this.take(p.condition, list, i);
  }

  /** Removes the oldest packet of this condition, whatever its amount (a claim lists conditions only). */
  removeCondition(condition: string): void {
    const list = this.byCondition.get(condition);
    if (list) this.take(condition, list, 0);
  }

  /** Whether a packet names `label`. */
  names(label: string): boolean {
    for (const list of this.byCondition.values()) if (list.some((p) => p.for === label)) return true;
    return false;
  }

  /** Drops the oldest conditions until at most `max` packets are left. */
  trim(max: number): void {
    for (const [condition, list] of this.byCondition) {
      if (this.count <= max) return;
      this.count -= list.length;
      this.byCondition.delete(condition);
    }
  }

  entries(): Packet[] {
    return [...this.byCondition.values()].flat();
  }

  private take(condition: string, list: Packet[], i: number): Packet {
    const [removed] = list.splice(i, 1);
    if (list.length === 0) this.byCondition.delete(condition);
    this.count--;
    return removed!;
  }
}

export class PayerLog {
  private nodeKey: string | undefined;
  private channelId: Hex | undefined;
  private acceptedCum = 0n;
  private readonly owedPackets = new Packets();
  private readonly unknownPackets = new Packets();
  /** Named payments that went through, oldest first. */
  private readonly paidByLabel = new Map<string, PaidRecord>();
  private fd: number | undefined;
  private appended = 0;
  private failed = false;

  private constructor(
    readonly path: string,
    private readonly warn: (message: string) => void,
  ) {}

  /**
   * Reads the log (a torn last line is skipped) and rewrites it with only what is live. Throws if it cannot, after
   * removing the file when it can: a later start must not follow a record this run did not keep.
   */
  static open(path: string, warn: (message: string) => void = () => {}): PayerLog {
    const log = new PayerLog(path, warn);
    try {
      if (existsSync(path)) {
        for (const raw of readFileSync(path, 'utf8').split('\n')) {
          if (!raw.trim()) continue;
          try {
            log.apply(JSON.parse(raw) as Line);
          } catch {
            // A torn write: the effect it announced had not started.
          }
        }
      }
      log.compact();
    } catch (err) {
      try {
        unlinkSync(path);
      } catch {
        // Gone already, or not removable: the warning of the caller says what to do.
      }
      throw err;
    }
    return log;
  }

  /** Whether these records follow `node` (they were kept while paying it). */
  follows(node: string): boolean {
    return this.nodeKey === node;
  }

  /** The channel these records follow (undefined: none yet). */
  get channel(): Hex | undefined {
    return this.channelId;
  }

  /** The cumulative the node last accepted on that channel, as far as we recorded. */
  get cumulative(): bigint {
    return this.acceptedCum;
  }

  /** Packets the node fulfilled that no accepted claim paid yet (a claim cut off by a crash included). */
  owed(): UnpaidPacket[] {
    return this.owedPackets.entries().map(({ condition, amount }) => ({ condition, amount }));
  }

  /** Packets sent whose outcome we never learned. */
  unknown(): UnpaidPacket[] {
    return this.unknownPackets.entries().map(({ condition, amount }) => ({ condition, amount }));
  }

  /**
   * Of the packets of unknown fate, those the node may list as owed: every unnamed one (a relay write); of a named
   * payment, one attempt, and none once another attempt went through. A provider takes one payment per job and
   * refuses the others "already paid", so a second fulfilled attempt cannot be honest, and the fulfillment the node
   * holds from the attempt that went through (one per condition: pay() retries the same PREPARE) would "prove" a
   * kept one. `inFlight`: attempts sent and not answered yet, which are not of unknown fate (left out first, so that
   * an attempt in flight never takes the place of the one the node may list).
   */
  listable(inFlight: readonly UnpaidPacket[] = []): UnpaidPacket[] {
    const named = new Set<string>();
    const out: UnpaidPacket[] = [];
    for (const p of packetsWithout(this.unknownPackets.entries(), inFlight)) {
      if (p.for !== undefined) {
        if (this.paidByLabel.has(p.for) || named.has(p.for)) continue;
        named.add(p.for);
      }
      out.push({ condition: p.condition, amount: p.amount });
    }
    return out;
  }

  /**
   * What became of the payments named `label`: 'paid' (with the fulfillment when its FULFILL reached us) when one
   * went through, 'unknown' when one was sent and its fate is not known yet (ask the node: a resync), else 'none'.
   */
  fate(label: string): { fate: 'paid'; record: PaidRecord } | { fate: 'unknown' | 'none' } {
    const record = this.paidByLabel.get(label);
    if (record) return { fate: 'paid', record };
    return { fate: this.unknownPackets.names(label) ? 'unknown' : 'none' };
  }

  /**
   * From now on the records follow `channelId` to `node`, from `cumulative`. Another node starts them over; `owed`
   * (when given) replaces what they held as owed: the payer's own view once it resynced without these records.
   */
  track(node: string, channelId: Hex, cumulative: bigint, owed?: readonly UnpaidPacket[]): void {
    if (this.nodeKey !== undefined && this.nodeKey !== node) {
      this.owedPackets.trim(0);
      this.unknownPackets.trim(0);
      this.paidByLabel.clear();
    }
    this.nodeKey = node;
    this.channelId = channelId;
    this.acceptedCum = cumulative;
    if (owed) {
      this.owedPackets.trim(0);
      for (const p of owed) this.owedPackets.add(p);
    }
    this.compactOrStop();
  }

  /**
   * Forgets the node, the channel and what was owed or of unknown fate (a record that cannot be followed, a first
   * channel, a chain reset); named payments that went through stay (each was a real FULFILL). Until `track` names a
   * node again, a restart does not follow it.
   */
  startOver(): void {
    this.nodeKey = undefined;
    this.channelId = undefined;
    this.acceptedCum = 0n;
    this.owedPackets.trim(0);
    this.unknownPackets.trim(0);
    this.compactOrStop();
  }

  sent(condition: string, amount: bigint, label?: string): void {
    this.append({
      t: 'sent',
      c: condition,
      a: amount.toString(),
      ...(label !== undefined && { for: label }),
    });
  }

  fulfilled(condition: string, amount: bigint, fulfillment?: string): void {
    this.append({
      t: 'fulfilled',
      c: condition,
      a: amount.toString(),
      ...(fulfillment !== undefined && { f: fulfillment }),
    });
  }

  rejected(condition: string, amount: bigint): void {
    this.append({ t: 'rejected', c: condition, a: amount.toString() });
  }

  /** A named payment's FULFILL came, with this fulfillment. */
  paid(label: string, fulfillment: Uint8Array): void {
    this.append({ t: 'paid', for: label, f: Buffer.from(fulfillment).toString('hex') });
  }

  accepted(cumulative: bigint, pays: readonly string[]): void {
    if (cumulative === this.acceptedCum && pays.length === 0) return; // an open or a top-up: nothing paid
    this.append({ t: 'accepted', cum: cumulative.toString(), pays: [...pays] });
  }

  /** After a resync: these packets of unknown fate, sent before it and not listed by the node, are not owed. */
  notOwed(packets: readonly UnpaidPacket[]): void {
    for (const p of packets) if (this.unknownHas(p)) this.rejected(p.condition, p.amount);
  }

  close(): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) return;
    try {
      closeSync(fd);
    } catch {
      // Already unusable (the write that failed): nothing more to release.
    }
  }

  private unknownHas(p: UnpaidPacket): boolean {
    const found = this.unknownPackets.remove(p);
    if (found) this.unknownPackets.add(found);
    return found !== undefined;
  }

  private apply(line: Line): void {
    switch (line.t) {
      case 'node':
        this.nodeKey = line.node;
        this.channelId = line.ch;
        this.acceptedCum = BigInt(line.cum);
        return;
      case 'sent':
        this.unknownPackets.add({
          condition: line.c,
          amount: BigInt(line.a),
          ...(line.for !== undefined && { for: line.for }),
        });
        this.unknownPackets.trim(MAX_UNKNOWN);
        return;
      case 'fulfilled': {
        const p = { condition: line.c, amount: BigInt(line.a) };
        const label = this.unknownPackets.remove(p)?.for;
        this.owedPackets.add(p);
        // A named payment the node listed as owed went through, though its FULFILL never reached us; the node showed its
        // fulfillment (a sealed result's key), unless the node's word was taken without records to check it against.
        if (
          label !== undefined &&
          (!this.paidByLabel.has(label) || (line.f && !this.paidByLabel.get(label)!.fulfillment))
        )
          this.remember(label, line.f ? { fulfillment: new Uint8Array(Buffer.from(line.f, 'hex')) } : {});
        return;
      }
      case 'rejected':
        this.unknownPackets.remove({ condition: line.c, amount: BigInt(line.a) });
        return;
      case 'accepted':
        this.acceptedCum = BigInt(line.cum);
        for (const c of line.pays) this.owedPackets.removeCondition(c);
        return;
      case 'paid':
        this.remember(line.for, line.f ? { fulfillment: new Uint8Array(Buffer.from(line.f, 'hex')) } : {});
        return;
    }
  }

  private remember(label: string, record: PaidRecord): void {
    this.paidByLabel.delete(label);
    this.paidByLabel.set(label, record);
    if (this.paidByLabel.size > MAX_PAID) this.paidByLabel.delete(this.paidByLabel.keys().next().value!);
  }

  private append(line: Line): void {
    this.apply(line);
    if (this.failed) return;
    try {
      this.fd ??= openSync(this.path, 'a', 0o600);
      writeSync(this.fd, `${JSON.stringify(line)}\n`);
      if (++this.appended >= COMPACT_AFTER) this.compact();
    } catch (err) {
      this.stop(err);
    }
  }

  private compactOrStop(): void {
    if (this.failed) return;
    try {
      this.compact();
    } catch (err) {
      this.stop(err);
    }
  }

  /**
   * A write failed: the file no longer holds everything, so it goes (a restart must not follow it) and nothing more
   * is written. The payments go on; the records in memory still guard this run's resyncs.
   */
  private stop(err: unknown): void {
    this.failed = true;
    this.close();
    let removed = true;
    try {
      unlinkSync(this.path);
    } catch (e) {
      removed = (e as NodeJS.ErrnoException).code === 'ENOENT';
    }
    this.warn(
      `Could not write ${this.path} (${(err as Error).message}): ${removed ? 'it was removed; ' : 'and could not remove it: remove it by hand before the next start; '}after a restart the node's word about what we owe is taken up to max resync owed, as without it.`,
    );
  }

  /** Rewrites the file with what is live: the node and channel, what is owed, what is of unknown fate, what was paid. */
  private compact(): void {
    const lines: Line[] = [];
    if (this.nodeKey && this.channelId)
      lines.push({ t: 'node', node: this.nodeKey, ch: this.channelId, cum: this.acceptedCum.toString() });
    // Owed first: a `fulfilled` line read after a `sent` line of the same packet would take it for its outcome.
    for (const p of this.owedPackets.entries())
      lines.push({ t: 'fulfilled', c: p.condition, a: p.amount.toString() });
    for (const p of this.unknownPackets.entries())
      lines.push({
        t: 'sent',
        c: p.condition,
        a: p.amount.toString(),
        ...(p.for !== undefined && { for: p.for }),
      });
    for (const [label, r] of this.paidByLabel)
      lines.push({
        t: 'paid',
        for: label,
        ...(r.fulfillment && { f: Buffer.from(r.fulfillment).toString('hex') }),
      });
    this.close();
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    this.appended = 0;
  }
}
