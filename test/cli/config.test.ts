// `crosstown config …` through the real binary, in a temporary CROSSTOWN_HOME.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, runCli, tempHome } from './helpers.js';
import { configEntry, configListShape, configResetShape, configSetShape, problems } from './shapes.js';

describe('crosstown config', () => {
  it('set stores a validated value, get and list show it with its source, reset removes it', async () => {
    const home = tempHome();
    const env = { CROSSTOWN_HOME: home };
    const set = await runCli(['config', 'set', 'default-deposit', '25', '--format', 'json'], env);
    expect(set.status, set.stderr).toBe(0);
    const setJson = json(set);
    expect(problems(configSetShape, setJson)).toEqual([]);
    expect(setJson).toMatchObject({ key: 'default-deposit', value: '25', source: 'file' });
    expect(readFileSync(join(home, 'crosstown.toml'), 'utf8')).toContain('default-deposit = "25"');

    const [get, list, envWins] = await Promise.all([
      runCli(['config', 'get', 'default-deposit', '--format', 'json'], env),
      runCli(['config', 'list', '--format', 'json'], env),
      runCli(['config', 'get', 'default-deposit', '--format', 'json'], {
        ...env,
        CROSSTOWN_DEFAULT_DEPOSIT: '7',
      }),
    ]);
    expect(problems(configEntry, json(get))).toEqual([]);
    expect(json(get)).toMatchObject({ value: '25', source: 'file' });
    expect(problems(configListShape, json(list))).toEqual([]);
    const settings = (json(list) as { settings: { key: string; source: string }[] }).settings;
    expect(settings.find((s) => s.key === 'default-deposit')?.source).toBe('file');
    expect(settings.find((s) => s.key === 'network')?.source).toBe('default');
    expect(json(envWins)).toMatchObject({ value: '7', source: 'env', origin: 'CROSSTOWN_DEFAULT_DEPOSIT' });

    const reset = await runCli(['config', 'reset', 'default-deposit', '--format', 'json'], env);
    expect(problems(configResetShape, json(reset))).toEqual([]);
    const after = await runCli(['config', 'get', 'default-deposit', '--format', 'json'], env);
    expect(json(after)).toMatchObject({ value: '50', source: 'default' });
  }, 120_000);

  it('refuses bad values and unknown keys with exit 2 and says how to fix them', async () => {
    const env = { CROSSTOWN_HOME: tempHome() };
    const [bad, unknown, conflict, csv] = await Promise.all([
      runCli(['config', 'set', 'relay-urls', 'http://x'], env),
      runCli(['config', 'get', 'no-such-key'], env),
      runCli(['config', 'set', 'default-deposit', '500'], env),
      runCli(['config', 'list', '--format', 'csv'], env),
    ]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('ws://');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('Unknown setting');
    expect(conflict.status).toBe(2);
    expect(conflict.stderr).toContain('max-channel-deposit');
    expect(csv.status).toBe(0);
    expect(csv.stdout.split('\n')[0]).toBe('key,value,source,origin');
  });

  it('reset of the whole file needs --yes when there is no terminal', async () => {
    const home = tempHome();
    const env = { CROSSTOWN_HOME: home };
    await runCli(['config', 'set', 'network', 'base-sepolia'], env);
    const refused = await runCli(['config', 'reset'], env);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect(readFileSync(join(home, 'crosstown.toml'), 'utf8')).toContain('base-sepolia');
    const done = await runCli(['config', 'reset', '--yes', '--format', 'json'], env);
    expect(done.status).toBe(0);
    expect(json(done)).toMatchObject({ reset: 'all' });
  });
});
