// A provider Mayor's earnings, durable (issue 13 item 6): every payment a requester made for a job (a packet the
// node now owes us), every claim of the node we accepted, every on-chain redemption, as fsynced JSON lines in
// `<provider home>/earnings.jsonl`, written before the FULFILL or the claim's acknowledgement goes back. After a
// restart the ClaimReceiver continues from the best accepted claim and still knows the unpaid packets, so the
// node's next claim is accepted, and the closure watcher and `crosstown earnings redeem` have every claim.
import {
  closeSync,
  existsSync,
  fsync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  write as writeFd,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Hex } from 'viem';
import type { SignedClaim } from '../../chain/types.js';
import type { UnpaidPacket } from '../../connector/store.js';

export const EARNINGS_FILE = 'earnings.jsonl';

type Line =
  | { t: 'owed'; c: string; a: string; job: string; from: string; at: number }
  | { t: 'claim'; ch: Hex; cum: string; sig: Hex; pays: string[]; at: number }
  | { t: 'redeemed'; ch: Hex; total: string; at: number }
  /** A payment in doubt that the requester paid again: its FULFILL never reached the node (payment-doubt.ts). */
  | { t: 'void'; c: string; a: string; job: string; from: string; at: number }
  | { t: 'start'; block: string; at: number };

/** What the ledger says, for the operator (`crosstown earnings`). */
export interface EarningsSummary {
  /** Jobs a requester paid for. */
  jobs: { jobId: string; requester: string; amount: bigint; at: number; condition: string }[];
  /** Paid by requesters (the node owes it until a claim covers it). */
  earned: bigint;
  /** Covered by claims of the node we accepted (best claim per channel). */
  claimed: bigint;
  /** Earned but not covered by a claim yet. */
  unclaimed: bigint;
  /** Best claim and last known redeemed total per node -> us channel. */
  channels: { channelId: Hex; claimed: bigint; redeemed: bigint; claim: SignedClaim }[];
}

export class EarningsLedger {
  private readonly owed = new Map<string, { amount: bigint; count: number }>();
  private readonly best = new Map<string, SignedClaim>();
  private readonly redeemedTotals = new Map<string, bigint>();
  private readonly jobs: EarningsSummary['jobs'] = [];
  /** Sum of the payments recorded (and not voided) per `<requester>:<job id>`. */
  private readonly paidJobs = new Map<string, bigint>();
  /** Every `<requester>:<job id>` with a payment recorded, voided or not. */
  private readonly seenJobs = new Set<string>();
  private earnedTotal = 0n;
  private start: bigint | undefined;
  private fd: number | undefined;
  /** acceptedDurably lines on their way to the disk, chained so they land (and apply) in order. */
  private writing: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private closeWhenIdle = false;

  private constructor(readonly path: string) {}

  /** Opens (and replays) the ledger in `home`; a torn last line after a crash is ignored. */
  static open(home: string): EarningsLedger {
    const ledger = new EarningsLedger(join(home, EARNINGS_FILE));
    if (existsSync(ledger.path)) {
      for (const raw of readFileSync(ledger.path, 'utf8').split('\n')) {
        if (!raw.trim()) continue;
        let line: Line;
        try {
          line = JSON.parse(raw) as Line;
        } catch {
          continue; // torn write: it was never acknowledged
        }
        ledger.apply(line);
      }
    }
    return ledger;
  }

  /**
   * What `from` paid for `jobId` (payments recorded and not voided), base units. Durable before each FULFILL went
   * back, so, unlike the payment audit (committed in the background), it holds every payment the node may have.
   */
  paidFor(from: string, jobId: string): bigint {
    return this.paidJobs.get(`${from}:${jobId}`) ?? 0n;
  }

  /** Whether a payment of `from` for `jobId` was ever recorded here (then `paidFor` is the whole truth, voids included). */
  knows(from: string, jobId: string): boolean {
    return this.seenJobs.has(`${from}:${jobId}`);
  }

  /** The block the provider first ran at: where the closure watcher starts scanning. */
  get startBlock(): bigint | undefined {
    return this.start;
  }

  markStart(block: bigint): void {
    if (this.start === undefined) this.write({ t: 'start', block: block.toString(), at: Date.now() });
  }

  /** A requester's payment for `jobId`: the node owes us `amount` for the packet `condition`. Durable on return. */
  owe(condition: string, amount: bigint, jobId: string, from: string): void {
    this.write({ t: 'owed', c: condition, a: amount.toString(), job: jobId, from, at: Date.now() });
  }

  /** A claim of the node passed every check: durable before it is acknowledged (ClaimReceiver onAccept). */
  accepted(claim: SignedClaim, pays: readonly string[]): void {
    this.write(claimLine(claim, pays));
  }

  /**
   * As accepted(), but the write and fsync run on the thread pool: the main thread keeps moving packets while the
   * claim's line goes to the disk. Resolves once it is durable (and applied); the acknowledgement waits for it.
   * Lines written this way keep their order among themselves; a claim's line always follows the `owed` lines of
   * the packets it pays, which were durable before their FULFILL (and so before the node could claim them).
   */
  acceptedDurably(claim: SignedClaim, pays: readonly string[]): Promise<void> {
    const line = claimLine(claim, pays);
    const run = this.writing.then(() => this.writeOffThread(line));
    this.writing = run.catch(() => undefined);
    this.inFlight++;
    return run.finally(() => {
      if (--this.inFlight === 0 && this.closeWhenIdle) this.close();
    });
  }

  /** Takes back a payment recorded by `owe` that the node never had (see payment-doubt.ts). Durable on return. */
  void(condition: string, amount: bigint, jobId: string, from: string): void {
    this.write({ t: 'void', c: condition, a: amount.toString(), job: jobId, from, at: Date.now() });
  }

  redeemed(channelId: Hex, totalClaimed: bigint): void {
    this.write({ t: 'redeemed', ch: channelId, total: totalClaimed.toString(), at: Date.now() });
  }

  /** Packets paid by requesters and not covered by an accepted claim, oldest first. */
  unpaid(): UnpaidPacket[] {
    const out: UnpaidPacket[] = [];
    for (const [condition, { amount, count }] of this.owed)
      for (let i = 0; i < count; i++) out.push({ condition, amount });
    return out;
  }

  /** The best accepted claim of each node -> us channel. */
  claims(): SignedClaim[] {
    return [...this.best.values()];
  }

  summary(): EarningsSummary {
    const channels = [...this.best.values()].map((claim) => ({
      channelId: claim.channelId,
      claimed: claim.cumulativeAmount,
      redeemed: this.redeemedTotals.get(claim.channelId.toLowerCase()) ?? 0n,
      claim,
    }));
    const claimed = channels.reduce((s, c) => s + c.claimed, 0n);
    const unclaimed = this.unpaid().reduce((s, p) => s + p.amount, 0n);
    return { jobs: [...this.jobs], earned: this.earnedTotal, claimed, unclaimed, channels };
  }

  close(): void {
    // A line still on its way to the disk keeps the file open; it is closed after that line.
    this.closeWhenIdle = this.inFlight > 0;
    if (this.closeWhenIdle) return;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private writeOffThread(line: Line): Promise<void> {
    const fd = this.open();
    const text = `${JSON.stringify(line)}\n`;
    return new Promise<void>((resolve, reject) => {
      writeFd(fd, text, (err) => {
        if (err) return reject(err);
        fsync(fd, (err2) => {
          if (err2) return reject(err2);
          this.apply(line);
          resolve();
        });
      });
    });
  }

  private open(): number {
    if (this.fd === undefined) {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      this.fd = openSync(this.path, 'a', 0o600);
    }
    return this.fd;
  }

  private write(line: Line): void {
    const fd = this.open();
    writeSync(fd, `${JSON.stringify(line)}\n`);
    fsyncSync(fd);
    this.apply(line);
  }

  private apply(line: Line): void {
    switch (line.t) {
      case 'owed': {
        const amount = BigInt(line.a);
        const e = this.owed.get(line.c) ?? { amount, count: 0 };
        e.count++;
        this.owed.set(line.c, e);
        this.earnedTotal += amount;
        this.jobs.push({ jobId: line.job, requester: line.from, amount, at: line.at, condition: line.c });
        const key = `${line.from}:${line.job}`;
        this.paidJobs.set(key, (this.paidJobs.get(key) ?? 0n) + amount);
        this.seenJobs.add(key);
        return;
      }
      case 'void': {
        const e = this.owed.get(line.c);
        if (!e) return;
        if (--e.count === 0) this.owed.delete(line.c);
        const i = this.jobs.findIndex((j) => j.condition === line.c && j.jobId === line.job);
        if (i >= 0) this.jobs.splice(i, 1);
        const key = `${line.from}:${line.job}`;
        const left = (this.paidJobs.get(key) ?? 0n) - BigInt(line.a);
        if (left > 0n) this.paidJobs.set(key, left);
        else this.paidJobs.delete(key);
        this.earnedTotal -= BigInt(line.a);
        return;
      }
      case 'claim': {
        for (const c of line.pays) {
          const e = this.owed.get(c);
          if (!e) continue;
          if (--e.count === 0) this.owed.delete(c);
        }
        const key = line.ch.toLowerCase();
        const cum = BigInt(line.cum);
        if ((this.best.get(key)?.cumulativeAmount ?? -1n) < cum)
          this.best.set(key, { channelId: line.ch, cumulativeAmount: cum, signature: line.sig });
        return;
      }
      case 'redeemed': {
        const key = line.ch.toLowerCase();
        const total = BigInt(line.total);
        if ((this.redeemedTotals.get(key) ?? 0n) < total) this.redeemedTotals.set(key, total);
        return;
      }
      case 'start':
        this.start ??= BigInt(line.block);
        return;
    }
  }
}

/** The ledger line of an accepted claim. */
function claimLine(claim: SignedClaim, pays: readonly string[]): Line {
  return {
    t: 'claim',
    ch: claim.channelId,
    cum: claim.cumulativeAmount.toString(),
    sig: claim.signature,
    pays: [...pays],
    at: Date.now(),
  };
}
