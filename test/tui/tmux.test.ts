// The dashboard in a real terminal: tmux runs the preview script in a detached 80x24 session, we read the
// screen with capture-pane and type with send-keys. Needs the `tmux` binary (Debian/Ubuntu package: tmux).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { columns, waitFor } from './helpers.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SOCKET = `crosstown-tui-test-${process.pid}`;
const SESSION = 'preview';
const dir = mkdtempSync(path.join(tmpdir(), 'crosstown-tui-'));
const rcFile = path.join(dir, 'rc');

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8', cwd: REPO });
}

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const screen = () => tmux('capture-pane', '-p', '-t', SESSION);
const until = async (ok: (s: string) => boolean, timeoutMs = 10_000) =>
  (await waitFor(screen, ok, timeoutMs)).value;

afterAll(() => {
  try {
    tmux('kill-server');
  } catch {
    // already gone: the session ended when the preview quit
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('dashboard in tmux (80x24)', () => {
  it('shows connection, channel, a posted job then its result; opens the job; q exits 0', async () => {
    expect(hasTmux(), 'tmux is not installed: apt-get install -y tmux').toBe(true);
    // The shell records the preview's exit code, so we can check that q ends it cleanly.
    tmux(
      'new-session',
      '-d',
      '-s',
      SESSION,
      '-x',
      '80',
      '-y',
      '24',
      '-c',
      REPO,
      `npx tsx scripts/dashboard-preview.tsx; echo $? > '${rcFile}'`,
    );

    // Startup (npx, tsx) can take a while on a busy machine; the scripted sequence starts after it.
    let s = await until((s) => s.includes('connected ws://127.0.0.1:7777'), 40_000);
    expect(s.split('\n')[0]).toMatch(/^ TESTNET {2}base-sepolia · chain 84532 +mayor alice$/);

    s = await until(
      (s) => /Channel +50 M2M left of 50 M2M/.test(s) || s.includes('49.99125 M2M left of 50 M2M'),
    );
    s = await until((s) => /> job-5abc123 +posted +docker-build-amd64/.test(s));
    expect(s).toContain('↑ Posted job-5abc123: docker-build-amd64 (875 bytes, 0.00875 M2M)');
    expect(s).toContain('49.99125 M2M left of 50 M2M');
    expect(s).not.toContain('Result for job-5abc123');

    s = await until((s) => s.includes('Result for job-5abc123 from bob: Build: SUCCESS'));
    expect(s).toMatch(/> job-5abc123 +paid +docker-build-amd64 +0\.00875 M2M +875 B 47\/47 passed/);
    expect(s).toMatch(/→ Paid bob for job-5abc123 +-0\.1 M2M/);
    const lines = s.split('\n');
    for (const l of lines) expect(columns(l)).toBeLessThanOrEqual(80);
    // One frame on screen, drawn over the previous ones: one banner, nothing left below the footer.
    expect(lines.filter((l) => l.startsWith(' TESTNET')).length).toBe(1);
    expect(lines.findLastIndex((l) => l.trim() !== '')).toBe(lines.findIndex((l) => l.startsWith(' q quit')));

    tmux('send-keys', '-t', SESSION, 'Enter');
    s = await until((s) => s.includes('Logs 1-14 of 64'));
    expect(s).toContain('Result SUCCESS  Build: SUCCESS | Tests: 47/47 passed');
    expect(s).toContain('Tests  47 passed, 0 failed, 47 total');
    expect(s).toContain('$ docker build --platform linux/amd64 -t sample-app .');

    tmux('send-keys', '-t', SESSION, 'End');
    s = await until((s) => s.includes('Logs 51-64 of 64'));
    expect(s).toContain('Tests: 47 passed, 47 total');
    tmux('send-keys', '-t', SESSION, 'PageUp');
    await until((s) => s.includes('Logs 38-51 of 64'));

    tmux('send-keys', '-t', SESSION, 'Escape');
    await until((s) => s.includes('── Activity'));

    tmux('send-keys', '-t', SESSION, 'q');
    await waitFor(
      () => (existsSync(rcFile) ? readFileSync(rcFile, 'utf8').trim() : ''),
      (rc) => rc !== '',
      10_000,
    );
    expect(readFileSync(rcFile, 'utf8').trim()).toBe('0');
  }, 90_000);
});
