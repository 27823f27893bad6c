// The PostgreSQL store against the shared EventStore contract, plus what is specific to it: migrations, reopening,
// configuration-based selection. Runs against a real throwaway PostgreSQL (test/support/postgres.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NostrEvent } from '../../src/nostr/types.js';
import { openPostgresStore, PostgresEventStore } from '../../src/store/postgres.js';
import { openEventStore, resolveStoreLocation } from '../../src/store/postgres-open.js';
import { MIGRATIONS, migrate } from '../../src/store/postgres-schema.js';
import { SqliteEventStore } from '../../src/store/sqlite.js';
import { POSTGRES_NOT_FOUND, type PostgresHandle, startPostgres } from '../support/postgres.js';
import { describeEventStoreConformance } from './conformance.js';

let server: PostgresHandle;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

// Every factory call must give an empty store: open (migrating on first use), then empty the tables. The stores
// the suite still holds are idle while it builds a fresh one, so TRUNCATE does not wait on them.
describeEventStoreConformance('PostgreSQL', async ({ maxLimit }) => {
  const store = await openPostgresStore({ url: server.url, maxLimit, poolSize: 2 });
  await store.pool.query('TRUNCATE events, tags, event_feed RESTART IDENTITY');
  return store;
});

const sk = generateSecretKey();
const event = (kind: number, tags: string[][] = [], createdAt = 1_700_000_000): NostrEvent =>
  JSON.parse(
    JSON.stringify(finalizeEvent({ kind, created_at: createdAt, tags, content: `hi ${Math.random()}` }, sk)),
  ) as NostrEvent;

describe('PostgresEventStore specifics', () => {
  it('migrates once: a second open applies nothing, and schema_migrations records each version once', async () => {
    const url = await server.createDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      expect(await migrate(pool)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await migrate(pool)).toEqual([]);
      const { rows } = await pool.query('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      await pool.end();
    }
  });

  it('lets several processes open a fresh database at once: one migrates, the others wait and find it done', async () => {
    const url = await server.createDatabase();
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: url, max: 1 }));
    try {
      const applied = await Promise.all(pools.map((p) => migrate(p)));
      expect(applied.filter((a) => a.length > 0)).toEqual([MIGRATIONS.map((m) => m.version)]);
      const { rows } = await pools[0]!.query('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0].n).toBe(MIGRATIONS.length);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('refuses a database migrated by a newer crosstown, saying to upgrade', async () => {
    const url = await server.createDatabase();
    const first = await openPostgresStore({ url });
    await first.pool.query("INSERT INTO schema_migrations (version, name) VALUES (999, 'from the future')");
    await first.close();
    await expect(openPostgresStore({ url })).rejects.toMatchObject({
      code: 'STORE_OPEN_FAILED',
      message: expect.stringMatching(/schema version 999.*upgrade crosstown/),
    });
  });

  it('rolls a failing migration back and leaves the database at the previous version', async () => {
    const url = await server.createDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      await migrate(pool);
      const broken = [
        ...MIGRATIONS,
        { version: 2, name: 'broken', sql: 'CREATE TABLE half (x int); SELECT nope;' },
      ];
      await expect(migrate(pool, broken)).rejects.toMatchObject({ code: 'STORE_OPEN_FAILED' });
      const { rows } = await pool.query(
        "SELECT to_regclass('half') AS t, max(version) AS v FROM schema_migrations",
      );
      expect(rows[0]).toEqual({ t: null, v: 1 });
    } finally {
      await pool.end();
    }
  });

  it('keeps events across close and reopen', async () => {
    const url = await server.createDatabase();
    const first = await openPostgresStore({ url });
    const e = event(1, [['t', 'kept']]);
    await first.save(e);
    await first.close();
    const second = await openPostgresStore({ url });
    expect(await second.get(e.id)).toEqual(e);
    expect((await second.query([{ '#t': ['kept'] }])).map((x) => x.id)).toEqual([e.id]);
    await second.close();
  });

  it('handles values PostgreSQL text cannot hold (U+0000) without failing', async () => {
    const store = await openPostgresStore({ url: await server.createDatabase() });
    const e = event(1, [
      ['t', 'a\u0000b'],
      ['t', 'plain'],
    ]);
    expect((await store.save(e)).status).toBe('stored');
    expect(await store.get(e.id)).toEqual(e);
    expect(await store.query([{ '#t': ['a\u0000b'] }])).toEqual([]);
    expect((await store.query([{ '#t': ['plain', 'x\u0000'] }])).map((x) => x.id)).toEqual([e.id]);
    expect(await store.count([{ ids: ['\u0000'] }])).toBe(0);
    expect(await store.get('\u0000')).toBeUndefined();
    await store.close();
  });

  it('never holds more connections than the pool size', async () => {
    const store = await openPostgresStore({ url: await server.createDatabase(), poolSize: 3 });
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.save(event(1, [], 1_700_000_000 + i))));
    expect(store.pool.totalCount).toBeLessThanOrEqual(3);
    expect(await store.count([{}])).toBe(40);
    await store.close();
  });

  it('drives single-tag filters from the tag index', async () => {
    const store = await openPostgresStore({ url: await server.createDatabase() });
    // Enough rows (written directly, not through save) that an index beats a scan for the planner.
    await store.pool.query(`
      INSERT INTO events (id, pubkey, created_at, kind, raw)
        SELECT lpad(to_hex(i), 64, '0'), repeat('a', 64), 1700000000 + i, 1 + i % 5, '{}' FROM generate_series(1, 20000) i;
      INSERT INTO tags (event_seq, name, value, created_at)
        SELECT seq, 't', 'v' || (seq % 500), created_at FROM events;
      ANALYZE;`);
    const { filterToPgSelect } = await import('../../src/store/postgres-filter.js');
    const plan = async (filter: Parameters<typeof filterToPgSelect>[0]) => {
      const { sql, params } = filterToPgSelect(filter, 20);
      const { rows } = await store.pool.query(`EXPLAIN ${sql}`, params);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    };
    expect(await plan({ '#t': ['v3'] })).toMatch(/tags_name_value/);
    expect(await plan({ ids: ['f'.repeat(64)] })).toMatch(/events_id_key/);
    await store.close();
  });

  it('fails to open with a typed error that names the server, without the password', async () => {
    await expect(
      openPostgresStore({ url: 'postgres://someone:s3cret@127.0.0.1:1/nothing' }),
    ).rejects.toMatchObject({
      code: 'STORE_OPEN_FAILED',
      message: expect.not.stringContaining('s3cret'),
    });
  });
});

describe('test harness', () => {
  it('fails (never skips) with what to install when there is neither a URL nor PostgreSQL binaries', async () => {
    await expect(
      startPostgres({ env: { PATH: '/nonexistent' }, debianRoot: '/nonexistent' }),
    ).rejects.toThrow(POSTGRES_NOT_FOUND);
    expect(POSTGRES_NOT_FOUND).toMatch(
      /install the `postgresql` Debian package or set CROSSTOWN_TEST_DATABASE_URL/,
    );
  });

  it('uses CROSSTOWN_TEST_DATABASE_URL when set: a fresh database per start, dropped on stop', async () => {
    const admin = new URL(server.url);
    admin.pathname = '/postgres';
    const handle = await startPostgres({ env: { CROSSTOWN_TEST_DATABASE_URL: admin.toString() } });
    const name = new URL(handle.url).pathname.slice(1);
    expect(name).not.toBe('postgres');
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    try {
      const exists = async () =>
        (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
      expect(await exists()).toBe(true);
      await handle.stop();
      expect(await exists()).toBe(false);
    } finally {
      await client.end();
    }
  });
});

describe('openEventStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crosstown-open-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('chooses the backend from the URL, then CROSSTOWN_RELAY_DATABASE_URL, then the default path', () => {
    const env = {};
    expect(resolveStoreLocation('postgres://u@h/db', { env })).toEqual({
      kind: 'postgres',
      url: 'postgres://u@h/db',
    });
    expect(resolveStoreLocation('postgresql://h/db', { env }).kind).toBe('postgres');
    expect(resolveStoreLocation('sqlite:/var/x.db', { env })).toEqual({ kind: 'sqlite', path: '/var/x.db' });
    expect(resolveStoreLocation('sqlite:///var/x.db', { env })).toEqual({
      kind: 'sqlite',
      path: '/var/x.db',
    });
    expect(resolveStoreLocation('sqlite::memory:', { env })).toEqual({ kind: 'sqlite', path: ':memory:' });
    expect(resolveStoreLocation('./relay.db', { env })).toEqual({ kind: 'sqlite', path: './relay.db' });
    expect(
      resolveStoreLocation(undefined, {
        env: { CROSSTOWN_RELAY_DATABASE_URL: 'postgres://e/db' },
        defaultPath: 'd.db',
      }),
    ).toEqual({ kind: 'postgres', url: 'postgres://e/db' });
    expect(resolveStoreLocation(undefined, { env, defaultPath: 'd.db' })).toEqual({
      kind: 'sqlite',
      path: 'd.db',
    });
    expect(() => resolveStoreLocation(undefined, { env })).toThrow(/CROSSTOWN_RELAY_DATABASE_URL/);
    expect(() => resolveStoreLocation('mysql://u:pw@h/db', { env })).toThrow(/unsupported.*postgres:\/\//);
    expect(() => resolveStoreLocation('mysql://u:pw@h/db', { env })).not.toThrow(/pw/);
  });

  it('opens a working PostgreSQL store for postgres:// and a SQLite store for a path', async () => {
    const pgStore = await openEventStore(await server.createDatabase(), { maxLimit: 5 });
    expect(pgStore).toBeInstanceOf(PostgresEventStore);
    for (let i = 0; i < 8; i++) await pgStore.save(event(1, [], 1_700_000_000 + i));
    expect((await pgStore.query([{}])).length).toBe(5);
    await pgStore.close();

    const sqlite = await openEventStore(`sqlite:${join(dir, 'r.db')}`, { env: {} });
    expect(sqlite).toBeInstanceOf(SqliteEventStore);
    const e = event(1);
    await sqlite.save(e);
    expect(await sqlite.get(e.id)).toEqual(e);
    await sqlite.close();
  });
});
