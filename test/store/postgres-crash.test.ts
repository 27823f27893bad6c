// Durability before acknowledgement, with a real crash: a child process (tsx) saves events through its own
// PostgresEventStore in several concurrent loops and prints `ack <id>` after each `save` resolves; we SIGKILL it
// mid-stream. Every acknowledged event must be in the database afterwards.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/store/postgres.js';
import { type PostgresHandle, startPostgres } from '../support/postgres.js';

const repo = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'crosstown-pg-crash-'));
let server: PostgresHandle;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// The child signs nothing (the store trusts its caller to have verified): random ids keep it fast and dependency-free.
const CHILD = `
import { randomBytes } from 'node:crypto';
import { openPostgresStore } from ${JSON.stringify(pathToFileURL(join(repo, 'src/store/postgres.ts')).href)};
const store = await openPostgresStore({ url: process.env.CROSSTOWN_CRASH_URL, poolSize: 4 });
const pubkey = randomBytes(32).toString('hex');
let n = 0;
async function loop() {
  for (;;) {
    const i = n++;
    const addressable = i % 3 === 0;
    const event = {
      id: randomBytes(32).toString('hex'),
      pubkey,
      created_at: 1700000000 + i,
      kind: addressable ? 30023 : 1,
      tags: addressable ? [['d', 'slot-' + i]] : [['t', 'crash']],
      content: 'event ' + i,
      sig: '0'.repeat(128),
    };
    const outcome = await store.save(event);
    if (outcome.status !== 'stored') throw new Error('unexpected ' + outcome.status);
    // A pipe write is synchronous on Linux: once this returns, the parent will read the line even if we die now.
    process.stdout.write('ack ' + event.id + '\\n');
  }
}
for (let lane = 0; lane < 8; lane++) void loop();
`;

interface Run {
  acked: string[];
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Starts the writer, kills it with SIGKILL once `killAfter` saves were acknowledged, returns what it acknowledged. */
function runAndKill(url: string, killAfter: number): Promise<Run> {
  const script = join(dir, `writer-${Date.now()}.mts`);
  writeFileSync(script, CHILD);
  // node with tsx's loader, not the tsx CLI: the CLI runs the script in a grandchild, which a SIGKILL would not reach.
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: repo,
    env: { ...process.env, CROSSTOWN_CRASH_URL: url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acked: string[] = [];
  let buffer = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) if (line.startsWith('ack ')) acked.push(line.slice(4));
    if (acked.length >= killAfter && child.exitCode === null && !child.killed) child.kill('SIGKILL');
  });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`the writer acknowledged only ${acked.length} saves in 45 s; stderr: ${stderr}`));
    }, 45_000);
    // 'close' (not 'exit'): every byte the child wrote before dying has been read.
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      done({ acked, signal, stderr });
    });
  });
}

describe('PostgreSQL store: durability across a SIGKILL of the writing process', () => {
  it('has every acknowledged save after the writer is killed mid-stream (three rounds)', async () => {
    const url = await server.createDatabase();
    const all: string[] = [];
    for (const killAfter of [150, 400, 700]) {
      const run = await runAndKill(url, killAfter);
      expect(run.signal, `the writer should have been killed, not exited; stderr: ${run.stderr}`).toBe(
        'SIGKILL',
      );
      expect(run.acked.length).toBeGreaterThanOrEqual(killAfter);
      all.push(...run.acked);
    }
    const store = await openPostgresStore({ url });
    try {
      const present = await store.count([{ ids: all }]);
      expect(present).toBe(all.length);
      // Nothing half-written either: every stored event has its tag rows (regular ones) and its feed row.
      const { rows } = await store.pool.query<{ untagged: number; unfed: number }>(
        `SELECT (SELECT count(*)::int FROM events e WHERE kind = 1 AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.event_seq = e.seq)) AS untagged,
                (SELECT count(*)::int FROM events) - (SELECT count(*)::int FROM event_feed) AS unfed`,
      );
      expect(rows[0]).toEqual({ untagged: 0, unfed: 0 });
    } finally {
      await store.close();
    }
  });
});
