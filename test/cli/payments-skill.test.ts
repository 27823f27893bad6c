// `crosstown payments …` over a real state repository (git) filled through the audit library, and `skill new`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPaymentAudit } from '../../src/mayor/audit/index.js';
import { openStateRepo } from '../../src/mayor/state/index.js';
import { json, runCli, tempHome } from './helpers.js';
import {
  paymentsExportShape,
  paymentsHistoryShape,
  paymentsStatsShape,
  problems,
  skillNewShape,
} from './shapes.js';

const M2M = 10n ** 18n;

async function seed(home: string): Promise<void> {
  const state = await openStateRepo({ dir: join(home, 'mayor') });
  const audit = openPaymentAudit({ state });
  const t0 = Date.now() - 60_000;
  audit.record({
    time: t0,
    direction: 'out',
    jobId: 'job-a',
    amount: 8_750_000_000_000_000n,
    bytes: 875,
    status: 'fulfilled',
    counterparty: 'g.crosstown.relay',
  });
  audit.record({
    time: t0 + 1,
    direction: 'out',
    jobId: 'job-a',
    amount: M2M,
    status: 'fulfilled',
    counterparty: 'g.crosstown.beta',
  });
  audit.record({
    time: t0 + 2,
    direction: 'in',
    jobId: 'job-b',
    amount: 2n * M2M,
    status: 'fulfilled',
    counterparty: 'g.crosstown.gamma',
    channelId: 'ch-1',
  });
  audit.record({
    time: t0 + 3,
    direction: 'out',
    jobId: 'job-c',
    amount: 5n,
    status: 'rejected',
    counterparty: '=cmd|evil',
  });
  await state.close();
}

describe('crosstown payments', () => {
  it('history, export and stats read the audit in every format', async () => {
    const home = tempHome();
    await seed(home);
    const env = { CROSSTOWN_HOME: home };
    const [history, out, csv, exportJson, stats, statsText, future] = await Promise.all([
      runCli(['payments', 'history', '--format', 'json'], env),
      runCli(['payments', 'history', '--direction', 'out', '--status', 'fulfilled', '--format', 'json'], env),
      runCli(['payments', 'export'], env),
      runCli(['payments', 'export', '--format', 'json'], env),
      runCli(['payments', 'stats', '--format', 'json'], env),
      runCli(['payments', 'stats'], env),
      runCli(['payments', 'history', '--from', '2999-01-01', '--format', 'json'], env),
    ]);
    for (const r of [history, out, csv, exportJson, stats, statsText, future])
      expect(r.status, r.stderr).toBe(0);
    expect(problems(paymentsHistoryShape, json(history))).toEqual([]);
    expect((json(history) as unknown[]).length).toBe(4);
    expect((json(out) as { amount: string }[]).map((p) => p.amount)).toEqual([
      '8750000000000000',
      M2M.toString(),
    ]);
    expect(csv.stdout.split('\r\n')[0]).toBe(
      'time,direction,job_id,amount,amount_m2m,bytes,status,counterparty,channel_id',
    );
    expect(csv.stdout).toContain("'=cmd|evil");
    // history's CSV names its columns as export does, and says what each payment was for.
    const historyCsv = await runCli(['payments', 'history', '--format', 'csv'], env);
    expect(historyCsv.stdout.split('\n')[0]).toBe(
      'time,direction,what,job_id,amount,amount_m2m,bytes,status,counterparty,channel_id',
    );
    const historyText = await runCli(['payments', 'history'], env);
    expect(historyText.stdout.split('\n')[0]).toMatch(/^TIME +WHAT +AMOUNT \(M2M\) +STATUS +JOB +TO\/FROM$/);
    expect(historyText.stdout).toMatch(/write fee +0\.00875 /);
    expect(historyText.stdout).toMatch(/provider payment +1 /);
    expect(problems(paymentsExportShape, json(exportJson))).toEqual([]);
    expect(problems(paymentsStatsShape, json(stats))).toEqual([]);
    expect(json(stats)).toMatchObject({
      count: 4,
      netFulfilled: (2n * M2M - M2M - 8_750_000_000_000_000n).toString(),
      byDirection: { in: { count: 1 }, out: { count: 3 } },
    });
    expect(statsText.stdout).toContain('Payments: 4');
    expect(json(future)).toEqual([]);
  });

  it('reads the log while a running Mayor (here: this test process) holds the repository lock', async () => {
    const home = tempHome();
    await seed(home);
    const state = await openStateRepo({ dir: join(home, 'mayor') });
    try {
      openPaymentAudit({ state }).record({
        direction: 'in',
        amount: 7n,
        status: 'fulfilled',
        counterparty: 'g.x',
      });
      await state.flush();
      const history = await runCli(['payments', 'history', '--format', 'json'], { CROSSTOWN_HOME: home });
      expect(history.status, history.stderr).toBe(0);
      expect((json(history) as unknown[]).length).toBe(5);
    } finally {
      await state.close();
    }
  });

  it('rejects bad filters with exit 2', async () => {
    const env = { CROSSTOWN_HOME: tempHome() };
    const [dir, date, text] = await Promise.all([
      runCli(['payments', 'history', '--direction', 'sideways'], env),
      runCli(['payments', 'stats', '--from', 'yesterday-ish'], env),
      runCli(['payments', 'export', '--format', 'text'], env),
    ]);
    expect(dir.status).toBe(2);
    expect(date.status).toBe(2);
    expect(date.stderr).toContain('ISO');
    expect(text.status).toBe(2);
  });
});

describe('crosstown skill new', () => {
  it('writes a skill and its test; refuses a bad name (exit 2) and an existing file (exit 1)', async () => {
    const dir = join(tempHome(), 'skills');
    const made = await runCli(
      ['skill', 'new', 'my-dm', '--kinds', '1059', '--dir', dir, '--format', 'json'],
      {},
    );
    expect(made.status, made.stderr).toBe(0);
    expect(problems(skillNewShape, json(made))).toEqual([]);
    expect(json(made)).toMatchObject({ name: 'my-dm', kinds: [1059] });
    // 1059 is the built-in encrypted-dm's kind: the developer is told before the Mayor leaves the skill out.
    expect(made.stderr).toMatch(/warning: kind 1059 is handled by the built-in skill encrypted-dm/);
    expect(existsSync(join(dir, 'my-dm.ts'))).toBe(true);
    expect(existsSync(join(dir, 'my-dm.test.ts'))).toBe(true);
    const [bad, again, builtin] = await Promise.all([
      runCli(['skill', 'new', 'Bad_Name', '--dir', dir], {}),
      runCli(['skill', 'new', 'my-dm', '--kinds', '1059', '--dir', dir], {}),
      runCli(['skill', 'new', 'encrypted-dm', '--kinds', '1059', '--dir', dir], {}),
    ]);
    expect(builtin.status).toBe(1);
    expect(builtin.stderr).toMatch(/"encrypted-dm" is the name of a built-in skill/);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('kebab-case');
    expect(again.status).toBe(1);
    expect(again.stderr).not.toContain('    at ');
  });

  it('the skill it writes loads in `skill list` from a directory outside any package (README journey 4)', async () => {
    // No package.json above the skill: Node takes the .ts file for CommonJS. The CLI as installed (dist/ when
    // built, else src/ with tsx registered at run time) must still load it, as the CLI run through tsx does.
    const home = tempHome();
    const dir = join(home, 'skills');
    const made = await runCli(['skill', 'new', 'dm-notes', '--kinds', '4', '--dir', dir], {
      CROSSTOWN_HOME: home,
    });
    expect(made.status, made.stderr).toBe(0);
    const set = await runCli(['config', 'set', 'skills-dir', dir], { CROSSTOWN_HOME: home });
    expect(set.status, set.stderr).toBe(0);
    const list = await runCli(['skill', 'list', '--format', 'json'], { CROSSTOWN_HOME: home });
    expect(list.status, list.stderr).toBe(0);
    const skills = (json(list) as { skills: { name: string; kinds: string; problem: string }[] }).skills;
    expect(skills.find((s) => s.name === 'dm-notes')).toMatchObject({ kinds: '4', problem: '' });
    expect(skills.filter((s) => s.problem !== '')).toEqual([]);
  });
});
