// The README's journeys, run as written: every command of the bash blocks under "The journeys", in order, in a
// fresh CROSSTOWN_HOME, each in its own window of a real terminal (tmux), answering the prompts a person would.
// `devnet up` and `mayor start` keep running in their windows as in the README's terminals; `mayor attach` is checked
// from the screen at 120x40 and again at 80x24. A command fails the test when it exits non-zero or prints an error.
// Launcher: `npx crosstown` runs this checkout's bin/crosstown (what npx would find), so the test does not depend on
// how npx finds the bin: it runs dist/ when the build is current (CI builds it in `npm ci`; each command then starts
// in ~1 s instead of the ~3 s tsx needs to load src/) and src/ through tsx otherwise; `npx vitest` runs as written.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '../..');
const home = mkdtempSync(join(tmpdir(), 'crosstown-walkthrough-'));
// Journey 4 runs in a project of its own, outside the repository (node_modules linked so `npx vitest` resolves).
const devDir = mkdtempSync(join(tmpdir(), 'crosstown-skilldev-'));
symlinkSync(join(REPO, 'node_modules'), join(devDir, 'node_modules'));
const passFile = join(home, 'pass');
writeFileSync(passFile, 'correct horse battery staple\n', { mode: 0o600 });
const SOCKET = `crosstown-walkthrough-${process.pid}`;
const launcher = join(home, 'crosstown.sh');
writeFileSync(launcher, `#!/bin/sh\nexec '${process.execPath}' '${join(REPO, 'bin/crosstown.js')}' "$@"\n`, {
  mode: 0o755,
});

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
}

afterAll(async () => {
  // Ctrl-C to every window still running (devnet up, mayor start), then the server goes.
  const running = () =>
    tmux('list-windows', '-F', '#{window_name} #{pane_dead}')
      .trim()
      .split('\n')
      .map((w) => w.split(' '))
      .filter(([name, dead]) => dead === '0' && name !== 'shell')
      .map(([name]) => name!);
  try {
    for (const name of running()) tmux('send-keys', '-t', name, 'C-c');
    // They stop on their own (devnet up takes its children down): wait for that (at most 10 s), not a fixed time.
    for (const end = Date.now() + 10_000; running().length > 0 && Date.now() < end; )
      await new Promise((r) => setTimeout(r, 100));
    tmux('kill-server');
  } catch {
    // no server: nothing was started
  }
  rmSync(home, { recursive: true, force: true });
  rmSync(devDir, { recursive: true, force: true });
});

/** The commands of each bash block under "## The journeys": continuations joined, trailing comments dropped. */
function readmeBlocks(): { title: string; commands: string[] }[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The journeys'), readme.indexOf('## Configuration'));
  return [...section.matchAll(/\*\*(Journey \d)[^\n]*?\n[\s\S]*?```bash\n([\s\S]*?)```/g)].map((m) => ({
    title: m[1]!,
    commands: m[2]!
      .replace(/\\\n\s*/g, '')
      .split('\n')
      .map((l) => l.replace(/\s{2,}#.*$/, '').trim())
      .filter((l) => l !== ''),
  }));
}

let windows = 0;

interface Window {
  name: string;
  screen(): string;
  history(): string;
  until(ok: (screen: string) => boolean, timeoutMs?: number, what?: string): Promise<string>;
  exitCode(): number | undefined;
}

/** Runs one README line in a new tmux window (cwd `cwd`), as typed at a shell prompt. */
function start(line: string, cwd: string, size = { x: 120, y: 40 }): Window {
  const name = `w${++windows}`;
  const rc = join(home, `${name}.rc`);
  const cmd = line.replace(/^npx crosstown /, `'${launcher}' `);
  tmux('new-window', '-d', '-n', name, '-c', cwd, `bash -c ${shq(`${cmd}; echo $? > '${rc}'`)}`);
  tmux('resize-window', '-t', name, '-x', String(size.x), '-y', String(size.y));
  const screen = () => tmux('capture-pane', '-p', '-t', name);
  const history = () => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', name);
  return {
    name,
    screen,
    history,
    exitCode: () =>
      existsSync(rc) && readFileSync(rc, 'utf8').trim() !== '' ? Number(readFileSync(rc, 'utf8')) : undefined,
    async until(ok, timeoutMs = 120_000, what = 'the expected screen') {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const s = screen();
        if (ok(s)) return s;
        if (Date.now() > end)
          throw new Error(`${line}: never showed ${what}; the terminal shows:\n${history()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

const shq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Errors the README does not show: a command printing one of these fails the walkthrough. */
// (A count is not an error: "0 refused, 0 failed".)
const ERROR = /(?<!\d )\b(error|failed|refused|cannot|not found|no such|unknown)\b|✗|ERR!/i;

/** Runs a command to its end, answering y to confirmations; returns everything it printed. */
async function runToEnd(line: string, cwd: string): Promise<string> {
  const w = start(line, cwd);
  const end = Date.now() + 180_000;
  let answered = 0;
  while (w.exitCode() === undefined) {
    if (Date.now() > end) throw new Error(`${line}: still running after 180 s:\n${w.history()}`);
    const asks = (w.history().match(/\[y\/N\]/g) ?? []).length;
    if (asks > answered) {
      tmux('send-keys', '-t', w.name, 'y', 'Enter');
      answered = asks;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const out = w.history();
  expect(w.exitCode(), `${line} exited ${w.exitCode()}:\n${out}`).toBe(0);
  expect(out, `${line} printed an error:\n${out}`).not.toMatch(ERROR);
  return out;
}

const lines = (s: string) => s.trimEnd().split('\n');
const columns = (l: string) => [...l].length;

describe('README journeys, as written, in a terminal', () => {
  it('journeys 2, 1, 3 and 4: every command exits 0 without an error; the dashboard agrees with the CLI', async () => {
    const blocks = readmeBlocks();
    expect(blocks.map((b) => b.title)).toEqual(['Journey 2', 'Journey 1', 'Journey 3', 'Journey 4']);
    const [j2, j1, j3, j4] = blocks.map((b) => b.commands) as [string[], string[], string[], string[]];
    // The server's environment is what every window gets: a fresh home, the passphrase from a 0600 file.
    execFileSync(
      'tmux',
      [
        '-L',
        SOCKET,
        'new-session',
        '-d',
        '-s',
        'walk',
        '-n',
        'shell',
        '-x',
        '120',
        '-y',
        '40',
        'sleep 86400',
      ],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? home,
          TERM: 'xterm-256color',
          CROSSTOWN_HOME: home,
          CROSSTOWN_PASSPHRASE_FILE: passFile,
          CI: 'false',
        },
      },
    );
    tmux('set-option', '-g', 'remain-on-exit', 'on');
    tmux('set-option', '-g', 'history-limit', '20000');

    // Journey 2: devnet up stays in its terminal; the others run to their end; attach stays on screen.
    expect(j2[0]).toBe('npx crosstown devnet up');
    const devnet = start(j2[0]!, REPO);
    await devnet.until((s) => s.includes('crosstown devnet is up'), 120_000, 'the devnet up');
    for (const line of j2.slice(1, -1)) await runToEnd(line, REPO);
    expect(j2.at(-1)).toBe('npx crosstown mayor attach');
    const attach = start(j2.at(-1)!, REPO);
    let screen = await attach.until((s) => /Channel +50 M2M left of 50 M2M/.test(s), 90_000, 'the dashboard');
    expect(lines(screen)[0]).toMatch(/^ LOCAL +devnet · chain \d+ +mayor mayor$/);
    expect(screen).toMatch(/ q quit {2}r refresh/);

    // Journey 1 against the attached Mayor: post and wait, status by the short id, payments, channel.
    const post = await runToEnd(j1[0]!, REPO);
    const jobId = /Job ([0-9a-f]{64}) \(ci-cd-linux, kind 5065\): paid/.exec(post)?.[1];
    expect(jobId, post).toBeDefined();
    expect(post).toContain('result: Build: SUCCESS | Tests: 4/4 passed');
    expect(j1[1]).toBe('npx crosstown job status <id>');
    const status = await runToEnd(j1[1]!.replace('<id>', `job-${jobId!.slice(0, 7)}`), REPO);
    expect(status).toContain(`Job ${jobId}`);
    expect(status).toContain('result: Build: SUCCESS | Tests: 4/4 passed');
    const history = await runToEnd(j1[2]!, REPO);
    expect(history).toMatch(/TIME +WHAT +AMOUNT \(M2M\)/);
    expect(history).toMatch(/write fee .* job [0-9a-f]{12}|write fee +[\d.]+ +fulfilled +[0-9a-f]{12}…/);
    expect(history).toMatch(/provider payment +[\d.]+ +fulfilled/);
    const channel = await runToEnd(j1[3]!, REPO);
    const remaining = /Payment Channel: ([\d.]+) M2M remaining/.exec(channel)?.[1];
    expect(remaining, channel).toBeDefined();
    expect(Number(remaining)).toBeLessThan(50);
    const mayorStatus = await runToEnd('npx crosstown mayor status', REPO);
    expect(mayorStatus).toContain(` ${remaining} of 50 M2M left`);

    // The dashboard shows the same balance (live), the job paid with its test counts, and fits 80x24.
    screen = await attach.until((s) => s.includes(`${remaining} M2M left of 50 M2M`), 10_000, 'the balance');
    expect(screen).toMatch(new RegExp(`${jobId!.slice(0, 13)}… +paid +ci-cd-linux .* 4/4 passed`));
    expect(screen).not.toContain('undefined');
    tmux('resize-window', '-t', attach.name, '-x', '80', '-y', '24');
    screen = await attach.until(
      // One frame, from the top row, footer included: no stale copy of the 120-column frame is left.
      (s) =>
        lines(s).length <= 24 &&
        lines(s)[0]!.startsWith(' LOCAL') &&
        lines(s).filter((l) => l.startsWith(' LOCAL')).length === 1 &&
        / q quit/.test(lines(s).at(-1)!),
      10_000,
      'one 80x24 frame',
    );
    for (const l of lines(screen)) expect(columns(l)).toBeLessThanOrEqual(80);
    expect(lines(screen).filter((l) => l.startsWith(' LOCAL')).length).toBe(1);
    expect(screen).toContain(`${remaining} M2M left of 50 M2M`);
    tmux('send-keys', '-t', attach.name, 'q');
    await attach.until(() => attach.exitCode() !== undefined, 30_000, 'the end of mayor attach');
    expect(attach.exitCode(), attach.history()).toBe(0);

    // Journey 3: a second Mayor in the same home, its own settings; the first stays a requester.
    for (const line of j3.slice(0, -1)) await runToEnd(line, REPO);
    expect(j3.at(-1)).toBe('npx crosstown mayor start --name beta2');
    const beta2 = start(j3.at(-1)!, REPO);
    screen = await beta2.until((s) => s.includes('Running; Ctrl-C to stop'), 90_000, 'beta2 running');
    expect(beta2.history()).not.toMatch(ERROR);
    expect(screen).toMatch(/Provider: serves ci-cd-linux at 0\.1 M2M; this run: 0 served/);
    expect(await runToEnd('npx crosstown config get provider.enabled', REPO)).toMatch(/^false$/m);

    // Journey 4 in a project outside the repository.
    for (const line of j4) await runToEnd(line, devDir);
    const list = await runToEnd('npx crosstown skill list', devDir);
    expect(list).toMatch(/dm-notes +kinds 4 +priority 0 +\/.*dm-notes\.ts/);
    expect(readFileSync(join(home, 'crosstown.toml'), 'utf8')).toContain(
      `skills-dir = "${join(devDir, 'skills')}"`,
    );
  }, 600_000);
});
