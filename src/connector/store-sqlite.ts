// ConnectorStore on one SQLite file (better-sqlite3). WAL + synchronous FULL: a write has reached the disk when
// the call returns, so the connector may then answer the FULFILL or accept the claim it recorded. addUnpaid and
// acceptClaim, the hot paths (one per fulfilled packet, one per claim), are group-committed on a writer thread
// (store-writer.ts), in the order they came: the writes queued while a commit is on its way to the disk form the next
// transaction, and each promise resolves only after its commit, so the FULFILL (and the claim's answer) still waits
// for the disk while the main thread keeps moving packets.

import Database from 'better-sqlite3';
import type { Hex } from 'viem';
import type { SignedClaim } from '../chain/types.js';
import { InlineCheckpoints } from '../store/inline-checkpoints.js';
import { mark, tracing } from '../transport/trace.js';
import { ConnectorError } from './errors.js';
import type { ConnectorStore, OutgoingChannel, UnpaidDirection, UnpaidPacket } from './store.js';
import { UnpaidWriter, type WriterOp } from './store-writer.js';
import type { PeerConfig } from './types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS peers (id TEXT PRIMARY KEY, config TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS unpaid (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  peer TEXT NOT NULL, direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  condition TEXT NOT NULL, amount TEXT NOT NULL,
  fulfillment TEXT
);
CREATE INDEX IF NOT EXISTS unpaid_by_peer ON unpaid (peer, direction, condition, seq);
CREATE TABLE IF NOT EXISTS claims_in (
  channel_id TEXT PRIMARY KEY, peer TEXT NOT NULL, cumulative TEXT NOT NULL, signature TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS channels_out (
  peer TEXT PRIMARY KEY, channel_id TEXT NOT NULL, deposit TEXT NOT NULL, cumulative TEXT NOT NULL
);
`;

// PeerConfig fields holding bigints: JSON has no bigint, so they are stored as decimal strings.
const BIG_FIELDS = ['creditLimit', 'maxPacketAmount', 'settleThreshold'] as const;

/** A write waiting for the writer thread: a fulfilled packet or an accepted claim. */
interface PendingWrite {
  op: WriterOp;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface ConnectorStoreOptions {
  /** The database file, e.g. `<node data dir>/connector.db`; ':memory:' for a throwaway one. */
  path: string;
  /**
   * Asked when queued writes find the writer thread idle: true commits them on this thread instead (same
   * transaction, same fsync before their promises resolve), without the two thread hand-offs, which cost more than
   * the commit when nothing else is waiting. The node answers true while at most one packet is in its connector (a
   * payer 1 in flight); under load the writes keep going to the writer thread, group-committed.
   */
  commitInline?: () => boolean;
}

/** Commits made on this thread (commitInline) between two checkpoints: about 4 WAL frames per packet's commit. */
const INLINE_COMMITS_PER_CHECKPOINT = 128;

export function openConnectorStore(options: ConnectorStoreOptions): SqliteConnectorStore {
  return new SqliteConnectorStore(options);
}

export class SqliteConnectorStore implements ConnectorStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly st: Record<string, Database.Statement>;
  private readonly outgoingTx: (peerId: string, ch: OutgoingChannel, pays: readonly string[]) => void;
  private readonly writeTx: Database.Transaction<(batch: readonly PendingWrite[]) => void>;
  private readonly writer: UnpaidWriter;
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  /** The batch the writer thread is committing (one at a time). */
  private inFlight: { id: number; batch: PendingWrite[] } | undefined;
  private nextBatchId = 1;
  private writerError: string | undefined;
  private readonly commitInline: (() => boolean) | undefined;
  /** Checkpoints of what this thread commits (src/store/inline-checkpoints.ts). */
  private readonly checkpoints: InlineCheckpoints;
  private inline = 0;

  constructor(options: ConnectorStoreOptions) {
    this.path = options.path;
    this.commitInline = options.commitInline;
    try {
      this.db = new Database(options.path);
    } catch (err) {
      throw new ConnectorError(
        'BAD_CONFIG',
        `cannot open the connector database ${options.path}: ${(err as Error).message}; check the data directory exists and is writable`,
        { cause: err },
      );
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(SCHEMA);
    // connector.db files from before fulfillments were kept: their packets have none (NULL), new ones do.
    const columns = this.db.pragma('table_info(unpaid)') as { name: string }[];
    if (!columns.some((c) => c.name === 'fulfillment'))
      this.db.exec('ALTER TABLE unpaid ADD COLUMN fulfillment TEXT');
    const p = (sql: string) => this.db.prepare(sql);
    this.st = {
      peers: p('SELECT config FROM peers ORDER BY id'),
      savePeer: p(
        'INSERT INTO peers (id, config) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET config = excluded.config',
      ),
      deletePeer: p('DELETE FROM peers WHERE id = ?'),
      unpaid: p(
        'SELECT condition, amount, fulfillment FROM unpaid WHERE peer = ? AND direction = ? ORDER BY seq',
      ),
      addUnpaid: p(
        'INSERT INTO unpaid (peer, direction, condition, amount, fulfillment) VALUES (?, ?, ?, ?, ?)',
      ),
      removeOne: p(
        'DELETE FROM unpaid WHERE seq = (SELECT min(seq) FROM unpaid WHERE peer = ? AND direction = ? AND condition = ?)',
      ),
      putClaim: p(
        'INSERT INTO claims_in (channel_id, peer, cumulative, signature) VALUES (?, ?, ?, ?) ON CONFLICT(channel_id) DO UPDATE SET peer = excluded.peer, cumulative = excluded.cumulative, signature = excluded.signature',
      ),
      claimsOf: p('SELECT channel_id, cumulative, signature FROM claims_in WHERE peer = ?'),
      claim: p('SELECT channel_id, cumulative, signature FROM claims_in WHERE channel_id = ?'),
      putOut: p(
        'INSERT INTO channels_out (peer, channel_id, deposit, cumulative) VALUES (?, ?, ?, ?) ON CONFLICT(peer) DO UPDATE SET channel_id = excluded.channel_id, deposit = excluded.deposit, cumulative = excluded.cumulative',
      ),
      out: p('SELECT channel_id, deposit, cumulative FROM channels_out WHERE peer = ?'),
    };
    const s = this.st;
    this.outgoingTx = this.db.transaction((peerId: string, ch: OutgoingChannel, pays: readonly string[]) => {
      for (const c of pays) s.removeOne!.run(peerId, 'out', c);
      s.putOut!.run(peerId, ch.channelId, ch.deposit.toString(), ch.cumulative.toString());
    });
    // The same writes as the writer thread's, for a drain on this thread (store-writer.ts WRITER_SOURCE).
    this.writeTx = this.db.transaction((batch: readonly PendingWrite[]) => {
      for (const { op } of batch) {
        if (op[0] === 'u') s.addUnpaid!.run(op[1], op[2], op[3], op[4], op[5]);
        else if (op[0] === 'o')
          this.outgoingTx(
            op[1],
            { channelId: op[2] as Hex, deposit: BigInt(op[3]), cumulative: BigInt(op[4]) },
            op[5],
          );
        else {
          for (const c of op[5]) s.removeOne!.run(op[1], 'in', c);
          s.putClaim!.run(op[2], op[1], op[3], op[4]);
        }
      }
    });
    this.db.pragma('busy_timeout = 5000'); // the writer thread's commit may hold the write lock for an fsync
    // This connection's commits (commitInline, drainSync) never checkpoint: the writer thread does, off the packet's
    // path (asked every INLINE_COMMITS_PER_CHECKPOINT commits made here; its own commits autocheckpoint).
    this.db.pragma('wal_autocheckpoint = 0');
    this.checkpoints = new InlineCheckpoints(
      INLINE_COMMITS_PER_CHECKPOINT,
      (passes) => this.writer.checkpoint(passes),
      'connector.db',
    );
    this.writer = new UnpaidWriter(options.path, {
      onDone: (id, error) => this.batchDone(id, error),
      // `complete` counts the frames there were when the pass began: commits made here meanwhile are not in it.
      onCheckpoint: (complete) => this.checkpoints.passDone(complete),
      onDead: (reason) => {
        this.writerError = `the connector database writer stopped (${reason}); restart the node`;
        const lost = [...(this.inFlight?.batch ?? []), ...this.pending];
        this.inFlight = undefined;
        this.pending = [];
        for (const p of lost) p.reject(new ConnectorError('BAD_CONFIG', this.writerError));
      },
    });
  }

  /** Batches committed on this thread because commitInline said the node was idle. */
  get ranInline(): number {
    return this.inline;
  }

  peers(): PeerConfig[] {
    return (this.st.peers!.all() as { config: string }[]).map((r) => {
      const c = JSON.parse(r.config) as Record<string, unknown>;
      for (const k of BIG_FIELDS) if (typeof c[k] === 'string') c[k] = BigInt(c[k]);
      return c as unknown as PeerConfig;
    });
  }

  savePeer(config: PeerConfig): void {
    const json = JSON.stringify(config, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    this.st.savePeer!.run(config.id, json);
  }

  deletePeer(id: string): void {
    this.st.deletePeer!.run(id);
  }

  unpaid(peerId: string, direction: UnpaidDirection): UnpaidPacket[] {
    this.drainSync();
    return (
      this.st.unpaid!.all(peerId, direction) as {
        condition: string;
        amount: string;
        fulfillment: string | null;
      }[]
    ).map((r) => ({
      condition: r.condition,
      amount: BigInt(r.amount),
      ...(r.fulfillment !== null && { fulfillment: r.fulfillment }),
    }));
  }

  /** Queued for the next commit of the writer thread; resolves once that commit is on disk. */
  addUnpaid(peerId: string, direction: UnpaidDirection, packet: UnpaidPacket): Promise<void> {
    return this.enqueue([
      'u',
      peerId,
      direction,
      packet.condition,
      packet.amount.toString(),
      packet.fulfillment ?? null,
    ]);
  }

  private enqueue(op: WriterOp): Promise<void> {
    if (!this.db.open || this.writerError) {
      const why = this.writerError ?? `the connector database ${this.path} is closed`;
      return Promise.reject(new ConnectorError('BAD_CONFIG', why));
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ op, resolve, reject });
      if (!this.flushScheduled && !this.inFlight) {
        this.flushScheduled = true;
        // setImmediate, not a microtask: FULFILLs arriving in the other I/O callbacks of this turn join the batch.
        setImmediate(() => this.sendBatch());
      }
    });
  }

  /** Hands the queued packets to the writer thread as one transaction, unless a commit is already running. */
  private sendBatch(): void {
    this.flushScheduled = false;
    if (this.inFlight || this.pending.length === 0 || !this.db.open) return;
    const batch = this.pending;
    this.pending = [];
    if (!this.checkpoints.toWriter && this.commitInline?.()) {
      this.commitHere(batch);
      return;
    }
    const id = this.nextBatchId++;
    this.inFlight = { id, batch };
    if (tracing) mark(`connector.db commit start ${batch.length} ops`);
    this.writer.write(
      id,
      batch.map((p) => p.op),
    );
  }

  /** Commits queued writes on this thread (an idle node: see commitInline); resolves them once on disk. */
  private commitHere(batch: PendingWrite[]): void {
    if (tracing) mark(`connector.db commit inline ${batch.length} ops`);
    try {
      this.writeTx.immediate(batch);
    } catch (err) {
      const error = new ConnectorError(
        'BAD_CONFIG',
        `could not record fulfilled packets or claims in ${this.path}: ${(err as Error).message}`,
        { cause: err },
      );
      for (const p of batch) p.reject(error);
      return;
    }
    if (tracing) mark('connector.db commit done');
    this.inline++;
    this.checkpoints.committed();
    for (const p of batch) p.resolve();
  }

  private batchDone(id: number, error: string | undefined): void {
    if (this.inFlight?.id !== id) return; // already settled by drainSync
    if (tracing) mark(`connector.db commit done`);
    const { batch } = this.inFlight;
    this.inFlight = undefined;
    if (error === undefined) for (const p of batch) p.resolve();
    else {
      const err = new ConnectorError(
        'BAD_CONFIG',
        `could not record fulfilled packets or claims in ${this.path}: ${error}`,
      );
      for (const p of batch) p.reject(err);
    }
    // What queued up during that commit goes now, as the next group.
    if (this.pending.length > 0) this.sendBatch();
    else this.writer.idle();
  }

  /**
   * Before a claim, a read or close: waits (blocking, one fsync at most) for the writer's commit and commits what
   * is still queued on this thread, so a claim never passes a packet recorded before it.
   */
  private drainSync(): void {
    mark('connector.db drainSync');
    if (this.inFlight) {
      const { id, batch } = this.inFlight;
      const ok = this.writer.waitFor(id);
      this.inFlight = undefined;
      // Settled here: the thread's answer, when it comes, is ignored (batchDone), so it must not keep the process
      // alive (a node that read its store while a commit was on its way never exited).
      this.writer.idle();
      if (ok) for (const p of batch) p.resolve();
      else {
        const err = new ConnectorError(
          'BAD_CONFIG',
          `could not confirm the commit of fulfilled packets or claims in ${this.path}; check the disk`,
        );
        for (const p of batch) p.reject(err);
      }
    }
    this.flushScheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    try {
      this.writeTx(batch);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    this.checkpoints.committed(false);
    for (const p of batch) p.resolve();
  }

  /**
   * Queued behind the packets it pays (they were recorded before it), committed with them by the writer thread;
   * resolves once on disk. The main thread does not wait for the fsync.
   */
  acceptClaim(peerId: string, claim: SignedClaim, pays: readonly string[]): Promise<void> {
    return this.enqueue([
      'c',
      peerId,
      claim.channelId.toLowerCase(),
      claim.cumulativeAmount.toString(),
      claim.signature,
      [...pays],
    ]);
  }

  /** Claims whose commit has returned (a queued claim is not accepted yet: its receiver still waits for it). */
  acceptedClaims(peerId: string): SignedClaim[] {
    return (this.st.claimsOf!.all(peerId) as ClaimRow[]).map(claimOf);
  }

  acceptedClaim(channelId: Hex): SignedClaim | undefined {
    const row = this.st.claim!.get(channelId.toLowerCase()) as ClaimRow | undefined;
    return row && claimOf(row);
  }

  /**
   * Queued behind the packets it pays (recorded when they were fulfilled), committed by the writer thread; resolves
   * once on disk. The main thread neither commits nor waits for a commit here (it used to block on both per claim).
   */
  saveOutgoing(peerId: string, channel: OutgoingChannel, pays: readonly string[]): Promise<void> {
    return this.enqueue([
      'o',
      peerId,
      channel.channelId,
      channel.deposit.toString(),
      channel.cumulative.toString(),
      [...pays],
    ]);
  }

  outgoing(peerId: string): OutgoingChannel | undefined {
    this.drainSync();
    const r = this.st.out!.get(peerId) as
      | { channel_id: string; deposit: string; cumulative: string }
      | undefined;
    return (
      r && { channelId: r.channel_id as Hex, deposit: BigInt(r.deposit), cumulative: BigInt(r.cumulative) }
    );
  }

  /** Commits what is queued, closes this connection, then waits for the writer thread's connection to close. */
  async close(): Promise<void> {
    if (!this.db.open) return this.writer.closed();
    this.drainSync();
    const closed = this.writer.close();
    this.db.close();
    await closed;
  }
}

interface ClaimRow {
  channel_id: string;
  cumulative: string;
  signature: string;
}

const claimOf = (r: ClaimRow): SignedClaim => ({
  channelId: r.channel_id as Hex,
  cumulativeAmount: BigInt(r.cumulative),
  signature: r.signature as Hex,
});
