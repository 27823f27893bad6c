// ConnectorStore on one SQLite file (better-sqlite3). WAL + synchronous FULL: a write has reached the disk when
// the call returns, so the connector may then answer the FULFILL or accept the claim it recorded. addUnpaid, the
// hot path (one per fulfilled packet), is group-committed: the inserts of one event-loop turn share one transaction
// and one fsync, and each promise resolves only after that commit, so the FULFILL still waits for the disk.
import Database from 'better-sqlite3';
import type { Hex } from 'viem';
import type { SignedClaim } from '../chain/types.js';
import { ConnectorError } from './errors.js';
import type { ConnectorStore, OutgoingChannel, UnpaidDirection, UnpaidPacket } from './store.js';
import type { PeerConfig } from './types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS peers (id TEXT PRIMARY KEY, config TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS unpaid (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  peer TEXT NOT NULL, direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  condition TEXT NOT NULL, amount TEXT NOT NULL
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

interface PendingUnpaid {
  peerId: string;
  direction: UnpaidDirection;
  packet: UnpaidPacket;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface ConnectorStoreOptions {
  /** The database file, e.g. `<node data dir>/connector.db`; ':memory:' for a throwaway one. */
  path: string;
}

export function openConnectorStore(options: ConnectorStoreOptions): SqliteConnectorStore {
  return new SqliteConnectorStore(options);
}

export class SqliteConnectorStore implements ConnectorStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly st: Record<string, Database.Statement>;
  private readonly acceptTx: (peerId: string, claim: SignedClaim, pays: readonly string[]) => void;
  private readonly outgoingTx: (peerId: string, ch: OutgoingChannel, pays: readonly string[]) => void;
  private readonly addUnpaidTx: (batch: readonly PendingUnpaid[]) => void;
  private pending: PendingUnpaid[] = [];
  private flushScheduled = false;

  constructor(options: ConnectorStoreOptions) {
    this.path = options.path;
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
    const p = (sql: string) => this.db.prepare(sql);
    this.st = {
      peers: p('SELECT config FROM peers ORDER BY id'),
      savePeer: p(
        'INSERT INTO peers (id, config) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET config = excluded.config',
      ),
      deletePeer: p('DELETE FROM peers WHERE id = ?'),
      unpaid: p('SELECT condition, amount FROM unpaid WHERE peer = ? AND direction = ? ORDER BY seq'),
      addUnpaid: p('INSERT INTO unpaid (peer, direction, condition, amount) VALUES (?, ?, ?, ?)'),
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
    this.acceptTx = this.db.transaction((peerId: string, claim: SignedClaim, pays: readonly string[]) => {
      for (const c of pays) s.removeOne!.run(peerId, 'in', c);
      s.putClaim!.run(
        claim.channelId.toLowerCase(),
        peerId,
        claim.cumulativeAmount.toString(),
        claim.signature,
      );
    });
    this.outgoingTx = this.db.transaction((peerId: string, ch: OutgoingChannel, pays: readonly string[]) => {
      for (const c of pays) s.removeOne!.run(peerId, 'out', c);
      s.putOut!.run(peerId, ch.channelId, ch.deposit.toString(), ch.cumulative.toString());
    });
    this.addUnpaidTx = this.db.transaction((batch: readonly PendingUnpaid[]) => {
      for (const p of batch) {
        s.addUnpaid!.run(p.peerId, p.direction, p.packet.condition, p.packet.amount.toString());
      }
    });
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
    this.flushNow();
    return (this.st.unpaid!.all(peerId, direction) as { condition: string; amount: string }[]).map((r) => ({
      condition: r.condition,
      amount: BigInt(r.amount),
    }));
  }

  /** Queued for the commit at the end of this event-loop turn; resolves once that commit is on disk. */
  addUnpaid(peerId: string, direction: UnpaidDirection, packet: UnpaidPacket): Promise<void> {
    if (!this.db.open) {
      return Promise.reject(
        new ConnectorError('BAD_CONFIG', `the connector database ${this.path} is closed`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ peerId, direction, packet: { ...packet }, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate, not a microtask: FULFILLs arriving in the other I/O callbacks of this turn join the batch.
        setImmediate(() => this.flushNow());
      }
    });
  }

  /** Commits the queued inserts now (one transaction, one fsync) and settles their promises. */
  private flushNow(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    try {
      this.addUnpaidTx(batch);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    for (const p of batch) p.resolve();
  }

  acceptClaim(peerId: string, claim: SignedClaim, pays: readonly string[]): void {
    this.flushNow(); // the packets it pays were queued before it
    this.acceptTx(peerId, claim, pays);
  }

  acceptedClaims(peerId: string): SignedClaim[] {
    return (this.st.claimsOf!.all(peerId) as ClaimRow[]).map(claimOf);
  }

  acceptedClaim(channelId: Hex): SignedClaim | undefined {
    const row = this.st.claim!.get(channelId.toLowerCase()) as ClaimRow | undefined;
    return row && claimOf(row);
  }

  saveOutgoing(peerId: string, channel: OutgoingChannel, pays: readonly string[]): void {
    this.flushNow();
    this.outgoingTx(peerId, channel, pays);
  }

  outgoing(peerId: string): OutgoingChannel | undefined {
    const r = this.st.out!.get(peerId) as
      | { channel_id: string; deposit: string; cumulative: string }
      | undefined;
    return (
      r && { channelId: r.channel_id as Hex, deposit: BigInt(r.deposit), cumulative: BigInt(r.cumulative) }
    );
  }

  close(): void {
    if (!this.db.open) return;
    this.flushNow();
    this.db.close();
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
