// `crosstown devnet up|down` and `startDevnet({ nodeProcess: 'child' })` as real processes: parseable
// endpoints, a clean stop by pid from another process, and no orphan (anvil, node, CLI).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cliCommand,
  type DevnetInfo,
  devnetFilePath,
  type RunningMayorInfo,
  readDevnetFile,
  startDevnet,
} from '../../src/devnet/index.js';
import { gone, isAlive, listening, nip11, readEvents } from './helpers.js';

const home = mkdtempSync(join(tmpdir(), 'crosstown-home-'));
const env = { ...process.env, CROSSTOWN_HOME: home };
const started: ChildProcess[] = [];

afterAll(() => {
  for (const c of started) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

/** Runs the CLI without blocking this process (it must keep draining the pipes of `devnet up`). */
async function runAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const [cmd, argv] = cliCommand(args);
  const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { status, stdout, stderr };
}

function run(args: string[]) {
  const [cmd, argv] = cliCommand(args);
  return spawnSync(cmd, argv, { env, encoding: 'utf8', timeout: 60_000 });
}

describe('crosstown devnet up / down', () => {
  // (Also the former test/cli/demo.test.ts "devnet up / down with both Mayors": the same `up --format json` and
  // `down`, so its checks of Mayor-Alpha and Mayor-Beta run here, on one devnet instead of two.)
  it('up --format json prints parseable endpoints and both Mayors; down stops it by pid; nothing is left', async () => {
    const [cmd, argv] = cliCommand(['devnet', 'up', '--format', 'json']);
    const up = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(up);
    const exit = new Promise<number | null>((resolve) => up.once('exit', resolve));
    let out = '';
    let err = '';
    up.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const info = await new Promise<
      DevnetInfo & { pid: number; file: string; running: Record<'alpha' | 'beta', RunningMayorInfo> }
    >((resolve, reject) => {
      up.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.endsWith('}\n')) resolve(JSON.parse(out));
      });
      void exit.then((code) => reject(new Error(`devnet up exited ${code}: ${err}`)));
    });
    expect(info.pid).toBe(up.pid);
    expect(info.file).toBe(devnetFilePath(env));
    expect(readDevnetFile(info.file)).toMatchObject({
      pid: up.pid,
      relayUrl: info.relayUrl,
      rpcUrl: info.rpcUrl,
    });
    expect(Object.keys(info.mayors)).toEqual(['alpha', 'beta']);
    expect((await nip11(info.relayUrl)).ilpAddress).toBe(info.node.relayAddress);
    expect(await readEvents(info.relayUrl, { kinds: [10032], authors: [info.node.pubkey] })).toHaveLength(1);
    // Mayor-Alpha and Mayor-Beta run attached, each with its endpoints, channel and git state.
    expect(Object.keys(info.running).sort()).toEqual(['alpha', 'beta']);
    const { alpha, beta } = info.running;
    expect(alpha).toMatchObject({ label: 'Mayor-Alpha', role: 'requester' });
    expect(beta).toMatchObject({ label: 'Mayor-Beta', role: 'provider', jobTypes: ['ci-cd-linux'] });
    for (const m of [alpha, beta]) {
      expect(m.ilpAddress).toMatch(/^g\.crosstown\.node1\.[0-9a-f]{16}$/);
      expect(m.pubkey).toBe(info.mayors[m.name]!.nostrPubkey);
      expect(m.walletAddress).toBe(info.mayors[m.name]!.walletAddress);
      expect(m.channelId).toMatch(/^0x[0-9a-f]{64}$/);
      expect(m.channelDeposit).toBe((50n * 10n ** 18n).toString());
      expect(m.stateDir.startsWith(join(home, 'devnet', m.name))).toBe(true);
      expect(existsSync(join(m.stateDir, '.git'))).toBe(true);
    }

    // A second `up` refuses while this one runs, and leaves its file alone.
    const again = await runAsync(['devnet', 'up']);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already running .*crosstown devnet down/);
    expect(existsSync(info.file)).toBe(true);

    const down = await runAsync(['devnet', 'down']);
    expect(down.stdout).toContain(`devnet stopped (pid ${up.pid})`);
    expect(down.status).toBe(0);
    expect(await exit).toBe(0);
    expect(await gone(info.anvilPid)).toBe(true);
    expect(isAlive(up.pid!)).toBe(false);
    expect(await listening(info.relayUrl)).toBe(false);
    expect(existsSync(info.file)).toBe(false);

    const none = run(['devnet', 'down']);
    expect(none.status).toBe(0);
    expect(none.stdout).toMatch(/no devnet is running/);
  });

  it('every command has --help with an example', () => {
    for (const args of [['node'], ['devnet'], ['node', 'start'], ['devnet', 'up'], ['devnet', 'down']]) {
      const help = run([...args, '--help']);
      expect(help.status).toBe(0);
      expect(help.stdout).toContain('Example:');
      expect(help.stdout).toContain(`$ crosstown ${args.join(' ')}`);
    }
  });
});

describe("startDevnet({ nodeProcess: 'child' })", () => {
  it('runs `crosstown node start` as a child process and stop() leaves no process behind', async () => {
    const net = await startDevnet({ nodeProcess: 'child' });
    try {
      expect(net.node.pid).toBe(net.child!.pid);
      expect(net.node.pid).not.toBe(process.pid);
      expect(isAlive(net.node.pid)).toBe(true);
      expect((await nip11(net.relayUrl)).pubkey).toBe(net.node.pubkey);
    } finally {
      await net.stop();
    }
    expect(net.child!.exitCode).toBe(0);
    expect(await gone(net.node.pid)).toBe(true);
    expect(await gone(net.anvilPid)).toBe(true);
    expect(await listening(net.btpUrl)).toBe(false);
  });
});
