// renderDashboard on terminal-like streams (not ink-testing-library): Ink's real, throttled output path,
// the terminal's own size and resize events, and the exit promise.
import { afterEach, describe, expect, it } from 'vitest';
import { type DashboardHandle, renderDashboard } from '../../src/tui/index.js';
import { busySource, columns, FakeStdin, FakeStdout, JOB_PRICE, KEY, waitFor } from './helpers.js';

let handle: DashboardHandle | undefined;
afterEach(() => handle?.unmount());

function start(cols: number, rows: number) {
  const source = busySource();
  const stdout = new FakeStdout(cols, rows);
  const stdin = new FakeStdin();
  handle = renderDashboard(source, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
  });
  const until = async (ok: (screen: string) => boolean) => (await waitFor(() => stdout.screen(), ok)).value;
  return { source, stdout, stdin, until, handle };
}

describe('renderDashboard', () => {
  it('draws at the terminal size and never taller than it', async () => {
    const { until } = start(80, 24);
    const screen = await until((s) => s.includes('job-5abc123'));
    const lines = screen.replace(/\n$/, '').split('\n');
    expect(lines.length).toBeLessThanOrEqual(23);
    for (const l of lines) expect(columns(l)).toBeLessThanOrEqual(80);
    expect(screen).toContain('TESTNET');
  });

  it('reflows when the terminal is resized', async () => {
    const { stdout, until } = start(100, 30);
    await until((s) => s.includes('rpc https://sepolia.base.org'));
    stdout.resize(40, 24);
    const screen = await until((s) => s.includes('0x39ea…36B9'));
    for (const l of screen.split('\n')) expect(columns(l)).toBeLessThanOrEqual(40);
  });

  // Latency (target: within 100 ms) is a benchmark figure (`npm run bench -- tui`); here: every change reaches
  // the screen through Ink's throttled output, none is lost when events arrive between frames.
  it('draws every change through the throttled output, none lost between frames', async () => {
    const { source, until } = start(80, 24);
    await until((s) => s.includes('job-5abc123'));
    for (const n of [1, 2, 3, 4, 5, 6]) {
      // Events arrive at their own pace (here every 20 ms), not in lockstep with frames.
      await new Promise((r) => setTimeout(r, 20));
      if (n < 6) source.setRelay('ws://127.0.0.1:7777', 'connected', { subscriptions: 10 + n });
      else source.postJob({ id: 'job-late', jobType: 'ci-cd-linux', bytes: 64, price: JOB_PRICE });
      await until((s) => s.includes(n < 6 ? `${10 + n} subs` : 'job-late'));
    }
  });

  it('q unmounts it and waitUntilExit resolves; the source loses its listener', async () => {
    const { source, stdin, until, handle: h } = start(80, 24);
    await until((s) => s.includes('job-5abc123'));
    expect(source.listenerCount).toBe(1);
    stdin.write('q');
    await h.waitUntilExit();
    expect(source.listenerCount).toBe(0);
  });

  it('Ctrl-C quits too', async () => {
    const { stdin, until, handle: h } = start(80, 24);
    await until((s) => s.includes('job-5abc123'));
    stdin.write(KEY.ctrlC);
    await h.waitUntilExit();
  });

  it('renders without keys when stdin is not a terminal (piped)', async () => {
    const source = busySource();
    const stdout = new FakeStdout(80, 24);
    const stdin = new FakeStdin();
    stdin.isTTY = false;
    handle = renderDashboard(source, {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
    });
    await waitFor(
      () => stdout.screen(),
      (s) => s.includes('job-5abc123'),
    );
    source.setConnector('error', 'gone');
    await waitFor(
      () => stdout.screen(),
      (s) => s.includes('gone'),
    );
  });

  it('unmount() also resolves waitUntilExit', async () => {
    const { until, handle: h } = start(80, 24);
    await until((s) => s.includes('job-5abc123'));
    h.unmount();
    await h.waitUntilExit();
  });
});
