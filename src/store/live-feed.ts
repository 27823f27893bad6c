// Live feed across processes sharing one PostgreSQL database: every event another process commits (stored or
// ephemeral) is handed to `onEvent` exactly once, in order, also after this feed was stopped or lost its connection.
//
// How: every save writes a row to `event_feed` (in the same transaction as the event) and NOTIFYs; PostgreSQL
// delivers the NOTIFY only at commit. The feed LISTENs, and on each notification (and on start, on reconnect, and
// on a slow timer as a safety net) reads the rows after its cursor. Delivery is driven by the table, never by the
// notification, so a missed or merged notification loses nothing and a repeated one delivers nothing twice.
//
// Why the cursor is (xid, seq) and not seq alone: seq is drawn when a row is INSERTed but the row only becomes
// visible at COMMIT, and two transactions commit in either order. Reading `seq > last` could see seq 6 before seq 5
// commits, move past 5 and never see it. So the feed only reads rows written by transactions older than every
// transaction still running (`xid < xmin` of the current snapshot): all of those have finished, and every later
// row gets a larger xid, so nothing can ever appear behind the cursor.
import type pg from 'pg';
import type { NostrEvent } from '../nostr/types.js';
import { FEED_CHANNEL } from './postgres.js';

/** A position in the feed: the last row delivered. Compare as the pair (xid, seq). */
export interface FeedCursor {
  xid: bigint;
  seq: bigint;
}

export interface FeedEventInfo {
  /** The `origin` of the store that saved it (PostgresEventStore.origin). */
  origin: string;
  /** Ephemeral events were never stored; they exist only in the feed (for `feedRetentionSeconds`). */
  ephemeral: boolean;
  cursor: FeedCursor;
}

export interface PgLiveFeedOptions {
  /** Called once per event, in feed order; the next is not delivered until the returned promise settles. */
  onEvent(event: NostrEvent, info: FeedEventInfo): void | Promise<void>;
  /** Events saved by this origin are skipped: pass your own store's `origin`, your process delivered those already. */
  skipOrigin?: string;
  /** Where to start: `'now'` (default: only events committed from now on) or a cursor saved from an earlier run. */
  from?: FeedCursor | 'now';
  /** Errors of `onEvent` and of the database (the feed keeps going). Default: ignored. */
  onError?(error: Error): void;
  /** Safety-net poll, also what delivers while the LISTEN connection is down. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Rows read per query. Default 500. */
  batchSize?: number;
}

export interface PgLiveFeed {
  /** LISTENs, then catches up from the cursor. Resolves once listening. */
  start(): Promise<void>;
  /** Stops listening and polling; waits for a delivery in progress. `start()` again resumes from the cursor. */
  stop(): Promise<void>;
  /** The last row delivered or skipped; persist it to resume a later process where this one stopped. */
  readonly cursor: FeedCursor | undefined;
}

const INT8_MAX = 9223372036854775807n;
const HORIZON = 'pg_snapshot_xmin(pg_current_snapshot())::text::bigint';

export function createPgLiveFeed(pool: pg.Pool, options: PgLiveFeedOptions): PgLiveFeed {
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const batchSize = options.batchSize ?? 500;
  const reportError = (err: unknown) =>
    options.onError?.(err instanceof Error ? err : new Error(String(err)));

  let cursor: FeedCursor | undefined =
    options.from === 'now' || options.from === undefined ? undefined : options.from;
  let running = false;
  let listener: pg.PoolClient | undefined;
  let detach: (() => void) | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let retryDelay = 5;
  let reconnectDelay = 100;
  let pumping: Promise<void> | undefined;
  let again = false;

  /** Reads and delivers everything after the cursor that is safe to read. One pump at a time. */
  function kick(): void {
    if (!running) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = pump()
      .catch(reportError)
      .finally(() => {
        pumping = undefined;
        // A notification that came after the pump's last read (e.g. during the held-back check) must not wait
        // for the next one.
        if (again) kick();
      });
  }

  async function pump(): Promise<void> {
    do {
      again = false;
      const from = cursor ?? { xid: -1n, seq: -1n };
      const { rows } = await pool.query<{
        xid: string;
        seq: string;
        origin: string;
        ephemeral: boolean;
        raw: string;
      }>(
        `SELECT xid, seq, origin, ephemeral, raw FROM event_feed
         WHERE (xid, seq) > ($1::bigint, $2::bigint) AND xid < ${HORIZON}
         ORDER BY xid, seq LIMIT $3`,
        [from.xid.toString(), from.seq.toString(), batchSize],
      );
      for (const row of rows) {
        if (!running) return;
        const at = { xid: BigInt(row.xid), seq: BigInt(row.seq) };
        // Advance first: an onEvent that throws must not have the event delivered again.
        cursor = at;
        if (row.origin === options.skipOrigin) continue;
        try {
          await options.onEvent(JSON.parse(row.raw) as NostrEvent, {
            origin: row.origin,
            ephemeral: row.ephemeral,
            cursor: at,
          });
        } catch (err) {
          reportError(err);
        }
      }
      if (rows.length === batchSize) again = true;
    } while (again && running);
    await retryIfHeldBack();
  }

  /**
   * Committed rows of a transaction younger than some still-running transaction are held back until that one
   * finishes. Usually it is another save that NOTIFYs when it commits, but it may be anything, so look again soon,
   * backing off to the poll interval.
   */
  async function retryIfHeldBack(): Promise<void> {
    const from = cursor ?? { xid: -1n, seq: -1n };
    const { rows } = await pool.query<{ waiting: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM event_feed WHERE (xid, seq) > ($1::bigint, $2::bigint) AND xid >= ${HORIZON}) AS waiting`,
      [from.xid.toString(), from.seq.toString()],
    );
    clearTimeout(retryTimer);
    if (!rows[0]?.waiting || !running) {
      retryDelay = 5;
      return;
    }
    retryTimer = setTimeout(kick, retryDelay);
    retryDelay = Math.min(retryDelay * 2, pollIntervalMs);
  }

  async function listen(): Promise<void> {
    const client = await pool.connect();
    const notified = () => kick();
    const ended = () => lost();
    const off = () => {
      client.off('notification', notified);
      client.off('error', lost);
      client.off('end', ended);
    };
    const lost = (err?: Error) => {
      if (listener !== client) return;
      listener = undefined;
      off();
      client.release(err ?? new Error('LISTEN connection ended'));
      if (err) reportError(err);
      scheduleReconnect();
    };
    client.on('notification', notified);
    client.on('error', lost);
    client.on('end', ended);
    try {
      await client.query(`LISTEN ${FEED_CHANNEL}`);
    } catch (err) {
      off();
      client.release(err as Error);
      throw err;
    }
    listener = client;
    detach = off;
  }

  function scheduleReconnect(): void {
    if (!running) return;
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(() => {
      listen()
        .then(() => {
          reconnectDelay = 100;
          kick(); // catch up on what was committed while we were not listening
        })
        .catch((err) => {
          reportError(err);
          reconnectDelay = Math.min(reconnectDelay * 2, 5000);
          scheduleReconnect();
        });
    }, reconnectDelay);
  }

  return {
    get cursor() {
      return cursor;
    },
    async start() {
      if (running) return;
      if (cursor === undefined) {
        // From now: every transaction that has not finished yet (xid >= horizon) is still to come.
        const { rows } = await pool.query<{ horizon: string }>(`SELECT ${HORIZON} AS horizon`);
        cursor = { xid: BigInt(rows[0]!.horizon) - 1n, seq: INT8_MAX };
      }
      running = true;
      try {
        // LISTEN before the catch-up read, so that a commit in between is either read or notified.
        await listen();
      } catch (err) {
        running = false;
        throw err;
      }
      pollTimer = setInterval(kick, pollIntervalMs);
      pollTimer.unref();
      kick();
    },
    async stop() {
      running = false;
      clearInterval(pollTimer);
      clearTimeout(retryTimer);
      clearTimeout(reconnectTimer);
      await pumping;
      const client = listener;
      listener = undefined;
      if (client) {
        try {
          await client.query(`UNLISTEN ${FEED_CHANNEL}`);
          detach?.();
          client.release();
        } catch (err) {
          detach?.();
          client.release(err as Error);
        }
      }
    },
  };
}
