// Test harness: a REAL throwaway PostgreSQL for tests. Never a mock, never a skip.
//
// - CROSSTOWN_TEST_DATABASE_URL set: that server is used; every `startPostgres()` creates its own fresh database
//   (CREATE DATABASE) and `stop()` drops it.
// - Otherwise: `initdb` + `pg_ctl` (found on PATH or under /usr/lib/postgresql/*/bin) create a cluster in a temp dir,
//   listening on 127.0.0.1 on a free port with its unix socket in the same temp dir. initdb refuses to run as root,
//   so as root the binaries run as the `postgres` OS user (runuser) and the temp dir is handed to that user.
// - Neither: startPostgres() throws, so the tests that need it FAIL with a message saying what to install.
import { execFile } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export const POSTGRES_NOT_FOUND =
  'PostgreSQL not found: install the `postgresql` Debian package or set CROSSTOWN_TEST_DATABASE_URL';

export interface PostgresHandle {
  /** URL of a fresh, empty database reserved for this handle. */
  url: string;
  /** Creates another fresh database on the same server and returns its URL (dropped by `stop`). */
  createDatabase(): Promise<string>;
  /** Drops the databases (external server) or stops the cluster and removes its directory. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Where to read CROSSTOWN_TEST_DATABASE_URL and PATH. Default process.env. */
  env?: Record<string, string | undefined>;
  /** Where Debian installs PostgreSQL versions. Default /usr/lib/postgresql. */
  debianRoot?: string;
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresHandle> {
  const env = options.env ?? process.env;
  const external = env.CROSSTOWN_TEST_DATABASE_URL;
  if (external) return onExternalServer(external);
  const bin = findBinaries(env.PATH ?? '', options.debianRoot ?? '/usr/lib/postgresql');
  if (!bin) throw new Error(POSTGRES_NOT_FOUND);
  return startCluster(bin);
}

/** The directory holding both `initdb` and `pg_ctl`: PATH first, then the newest Debian install. */
export function findBinaries(path: string, debianRoot: string): string | undefined {
  const executable = (dir: string) => {
    try {
      accessSync(join(dir, 'initdb'), constants.X_OK);
      accessSync(join(dir, 'pg_ctl'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  for (const dir of path.split(delimiter)) if (dir && executable(dir)) return dir;
  let versions: string[] = [];
  try {
    versions = readdirSync(debianRoot).sort((a, b) => Number(b) - Number(a));
  } catch {
    return undefined;
  }
  for (const v of versions) {
    const dir = join(debianRoot, v, 'bin');
    if (executable(dir)) return dir;
  }
  return undefined;
}

function uniqueName(): string {
  return `crosstown_test_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e9).toString(36)}`;
}

function databaseUrl(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

function withDatabases(adminUrl: string, first: string, after: () => Promise<void>): PostgresHandle {
  const created = [first];
  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  return {
    url: databaseUrl(adminUrl, first),
    async createDatabase() {
      const name = uniqueName();
      await admin((c) => c.query(`CREATE DATABASE ${name}`));
      created.push(name);
      return databaseUrl(adminUrl, name);
    },
    async stop() {
      await admin(async (c) => {
        // FORCE (PostgreSQL 13+) ends sessions a failed test left open.
        for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
      await after();
    },
  };
}

async function onExternalServer(adminUrl: string): Promise<PostgresHandle> {
  const name = uniqueName();
  const client = new pg.Client({ connectionString: adminUrl });
  try {
    await client.connect();
    await client.query(`CREATE DATABASE ${name}`);
  } catch (err) {
    throw new Error(
      `could not create a test database on CROSSTOWN_TEST_DATABASE_URL (${redact(adminUrl)}): ${(err as Error).message}; ` +
        'the URL must name a role allowed to CREATE DATABASE',
      { cause: err },
    );
  } finally {
    await client.end().catch(() => {});
  }
  return withDatabases(adminUrl, name, async () => {});
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable URL>';
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function startCluster(bin: string): Promise<PostgresHandle> {
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'crosstown-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'postgres.log');
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']).catch(() => {
      throw new Error(
        `${POSTGRES_NOT_FOUND} (running as root needs the \`postgres\` OS user, which is missing)`,
      );
    });
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    chmodSync(dir, 0o700);
    // The postgres user must be able to reach the temp dir through its parents (mkdtemp under /tmp: fine).
  }
  const exec = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : run(join(bin, tool), args);

  try {
    // trust auth on a private socket dir and loopback; fsync off: the tests crash clients, never the server, and
    // a test cluster need not survive power loss. `save` still waits for COMMIT (synchronous_commit stays on).
    await exec('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
      '--locale=C',
    ]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`, {
      cause: err,
    });
  }

  let port = 0;
  let lastError: unknown;
  // The free port can be taken between probing and binding; try a few.
  for (let attempt = 0; attempt < 5 && port === 0; attempt++) {
    const candidate = await freePort();
    try {
      await exec('pg_ctl', [
        '-D',
        data,
        '-l',
        log,
        '-w',
        '-t',
        '60',
        '-o',
        `-p ${candidate} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`,
        'start',
      ]);
      port = candidate;
    } catch (err) {
      lastError = err;
    }
  }
  if (port === 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`pg_ctl start failed: ${(lastError as { stderr?: string }).stderr ?? String(lastError)}`);
  }

  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const first = uniqueName();
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${first}`);
  await client.end();

  return withDatabases(adminUrl, first, async () => {
    await exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });
}
