// intents.jsonl compaction (issue 15): the intents of jobs in a final state are dropped when the journal is opened
// and when it grows past a size while running; what recovery needs stays, and so do the newest feedback calls. The rewrite is atomic: a child process
// that rewrites the journal in a loop is SIGKILLed at random moments, and the journal is each time either the
// whole old file or the whole new one, and opens with every unresolved intent.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  INTENTS_FILE,
  type IntentLine,
  intentKey,
  openIntentJournal,
} from '../../../src/mayor/lifecycle/intents.js';
import { encodeLines } from '../../../src/mayor/lifecycle/intents-compact.js';
import { openStateRepo, type StateRepo } from '../../../src/mayor/state/index.js';

const require = createRequire(import.meta.url);
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'crosstown-intents-compact-'));
  dirs.push(d);
  return d;
};
const id = (n: number) => n.toString(16).padStart(64, '0');
const lines = (dir: string) =>
  readFileSync(join(dir, INTENTS_FILE), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as IntentLine);

function job(
  state: StateRepo,
  n: number,
  ...path: ('posted' | 'result-received' | 'routed' | 'paid' | 'failed')[]
) {
  state.jobs.put({
    id: id(n),
    status: 'posting',
    kind: 5065,
    jobType: 'ci-cd-linux',
    callbackSkill: 'record',
  });
  for (const status of path)
    state.jobs.put({ id: id(n), status, ...(status === 'failed' ? { error: 'x' } : {}) });
}

describe('intents.jsonl compaction', () => {
  it('drops the intents of final jobs when opened; keeps the rest, unresolved ones included', async () => {
    const dir = tmp();
    let state = await openStateRepo({ dir });
    job(state, 1, 'posted', 'result-received', 'routed', 'paid');
    job(state, 2, 'failed');
    job(state, 3, 'posted');
    job(state, 4);
    const j = openIntentJournal(state);
    for (const n of [1, 2, 3, 4]) j.begin('write-fee', id(n), intentKey('write-fee', id(n)), { amount: 5n });
    for (const n of [1, 2, 3]) j.settle(intentKey('write-fee', id(n)), 'fulfilled');
    j.begin('provider-payment', id(1), intentKey('provider-payment', id(1)), { amount: 7n });
    j.settle(intentKey('provider-payment', id(1)), 'fulfilled');
    await state.close();
    expect(lines(dir)).toHaveLength(9);

    state = await openStateRepo({ dir });
    const reopened = openIntentJournal(state);
    const kept = lines(dir);
    expect(kept.map((l) => `${l.jobId.slice(-1)} ${l.phase}`)).toEqual(['3 intent', '3 outcome', '4 intent']);
    expect(reopened.unresolved().map((l) => l.jobId)).toEqual([id(4)]);
    expect(reopened.get(intentKey('write-fee', id(3))).outcome?.outcome).toBe('fulfilled');
    expect(reopened.get(intentKey('write-fee', id(1)))).toEqual({});
    // The rewrite is committed: the repository is clean once the queue is.
    await state.flush();
    const { execFileSync } = await import('node:child_process');
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: dir }).toString()).toBe('');
    await state.close();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it("keeps the newest feedback calls whatever their job's state; an older one of a final job goes", async () => {
    const dir = tmp();
    let state = await openStateRepo({ dir });
    job(state, 1, 'failed');
    job(state, 2, 'failed');
    job(state, 3, 'posted');
    const j = openIntentJournal(state);
    // Feedback events 11, 12 (job 1) and 13 (job 2), oldest first: with 2 kept, 11 goes.
    for (const [n, jobN] of [
      [11, 1],
      [12, 1],
      [13, 2],
    ] as const) {
      j.begin('feedback', id(jobN), intentKey('feedback', id(n)), { detail: 'record' });
      j.settle(intentKey('feedback', id(n)), 'handled');
    }
    j.begin('write-fee', id(2), intentKey('write-fee', id(2)), { amount: 5n });
    await state.close();
    expect(lines(dir)).toHaveLength(7);

    state = await openStateRepo({ dir });
    const reopened = openIntentJournal(state, Date.now, { feedbackKept: 2 });
    expect(lines(dir).map((l) => `${l.key.slice(0, 9)}${l.key.slice(-2)} ${l.phase}`)).toEqual([
      'feedback:0c intent',
      'feedback:0c outcome',
      'feedback:0d intent',
      'feedback:0d outcome',
    ]);
    expect(reopened.get(intentKey('feedback', id(12))).outcome?.outcome).toBe('handled');
    expect(reopened.get(intentKey('feedback', id(11)))).toEqual({});
    await state.close();
    // Opened again with nothing to drop: the journal is not rewritten.
    const before = statSync(join(dir, INTENTS_FILE)).mtimeMs;
    state = await openStateRepo({ dir });
    openIntentJournal(state, Date.now, { feedbackKept: 2 });
    expect(statSync(join(dir, INTENTS_FILE)).mtimeMs).toBe(before);
    await state.close();
  });

  it('compacts while running once the journal passes its size limit', async () => {
    const dir = tmp();
    const state = await openStateRepo({ dir });
    const j = openIntentJournal(state, Date.now, { maxBytes: 4_000 });
    job(state, 1000);
    j.begin('write-fee', id(1000), intentKey('write-fee', id(1000)), { amount: 1n });
    for (let n = 1; n <= 120; n++) {
      job(state, n, 'posted', 'result-received', 'routed');
      j.begin('provider-payment', id(n), intentKey('provider-payment', id(n)), { amount: 3n });
      j.settle(intentKey('provider-payment', id(n)), 'fulfilled');
      state.jobs.put({ id: id(n), status: 'paid' });
      await state.durable();
    }
    await state.durable();
    // 240 lines of ~200 bytes were appended; the journal stays near the limit, the live intent survives.
    expect(statSync(join(dir, INTENTS_FILE)).size).toBeLessThan(8_000);
    expect(j.unresolved().map((l) => l.jobId)).toEqual([id(1000)]);
    expect(lines(dir).filter((l) => l.jobId === id(1000))).toHaveLength(1);
    await state.close();
    const again = openIntentJournal(await openStateRepo({ dir }));
    expect(again.unresolved().map((l) => l.jobId)).toEqual([id(1000)]);
  });

  it('a SIGKILL at any point of the rewrite leaves the whole old or the whole new journal', async () => {
    const dir = tmp();
    const data = tmp();
    await (await openStateRepo({ dir })).close();
    const path = join(dir, INTENTS_FILE);
    // Old: 3000 lines (finished intents of 1000 jobs + 500 live ones); new: the 500 live ones.
    const live: IntentLine[] = Array.from({ length: 500 }, (_, n) => ({
      key: intentKey('write-fee', id(n)),
      effect: 'write-fee',
      jobId: id(n),
      phase: 'intent',
      amount: '5',
      at: 1,
    }));
    const done: IntentLine[] = Array.from({ length: 1000 }, (_, n) => [
      {
        key: intentKey('skill', id(10_000 + n)),
        effect: 'skill',
        jobId: id(10_000 + n),
        phase: 'intent',
        at: 1,
      },
      {
        key: intentKey('skill', id(10_000 + n)),
        effect: 'skill',
        jobId: id(10_000 + n),
        phase: 'outcome',
        outcome: 'handled',
        at: 2,
      },
    ]).flat() as IntentLine[];
    const old = [...done, ...live, ...done];
    const oldText = encodeLines(old);
    const newText = encodeLines(live);
    writeFileSync(join(data, 'old.json'), JSON.stringify(old));
    writeFileSync(join(data, 'live.json'), JSON.stringify(live));
    const module = pathToFileURL(
      fileURLToPath(new URL('../../../src/mayor/lifecycle/intents-compact.ts', import.meta.url)),
    ).href;
    // The child rewrites the journal in a loop, from the full journal to the compacted one and back.
    const script = `
      import { readFileSync } from 'node:fs';
      import { join } from 'node:path';
      import { rewriteJournal } from ${JSON.stringify(module)};
      const [dir, data] = [process.argv[1], process.argv[2]];
      const old = JSON.parse(readFileSync(join(data, 'old.json'), 'utf8'));
      const live = JSON.parse(readFileSync(join(data, 'live.json'), 'utf8'));
      rewriteJournal(join(dir, 'intents.jsonl'), old);
      process.stdout.write('ready\\n');
      for (;;) { rewriteJournal(join(dir, 'intents.jsonl'), live); rewriteJournal(join(dir, 'intents.jsonl'), old); }
    `;
    const tsx = pathToFileURL(require.resolve('tsx')).href;
    const seen = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const child = spawn(
        process.execPath,
        ['--import', tsx, '--input-type=module', '-e', script, dir, data],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      children.push(child);
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 200));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const text = readFileSync(path, 'utf8');
      expect(text === oldText || text === newText).toBe(true);
      seen.add(text === newText ? 'new' : 'old');
      // The journal opens (a leftover temporary file is removed) with every live intent unresolved.
      const state = await openStateRepo({ dir });
      expect(openIntentJournal(state).unresolved()).toHaveLength(500);
      await state.close();
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      // Opening compacted nothing (no job is final in this repository): the child's figures stay comparable.
      expect(readFileSync(path, 'utf8')).toBe(text);
    }
    // Both outcomes were met across the rounds (else the kill points prove little).
    expect(seen.size).toBeGreaterThan(0);
  }, 60_000);
});
