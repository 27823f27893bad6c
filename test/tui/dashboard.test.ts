// Component tests: the dashboard rendered by Ink into ink-testing-library's in-memory terminal (100 columns;
// narrower widths are passed as props), driven by a DemoDashboardSource and by key presses on its stdin.
import { cleanup, render } from 'ink-testing-library';
import { createElement } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { Dashboard, type DashboardSource, DemoDashboardSource } from '../../src/tui/index.js';
import { busySource, columns, JOB_PRICE, KEY, M2M, NETWORKS, plain, result, waitFor } from './helpers.js';

afterEach(() => cleanup());

function mount(
  source: DashboardSource,
  props: { width?: number; height?: number; onQuit?: () => void } = {},
) {
  const r = render(createElement(Dashboard, { source, width: 80, height: 24, ...props }));
  const frame = () => plain(r.lastFrame());
  const until = async (ok: (f: string) => boolean) => (await waitFor(frame, ok)).value;
  const press = async (key: string, ok: (f: string) => boolean) => {
    r.stdin.write(key);
    return until(ok);
  };
  return { r, frame, until, press };
}

describe('network banner', () => {
  it('shows a local devnet with its chain id and token', () => {
    const { frame } = mount(new DemoDashboardSource({ network: NETWORKS.local }));
    const top = frame().split('\n').slice(0, 2).join('\n');
    expect(top).toContain('LOCAL');
    expect(top).toContain('devnet · chain 31337');
    expect(top).toContain('0x5FbDB2315678afecb367f032d93F642f64180aa3');
  });

  it('shows a testnet with chain id, token and rpc', () => {
    const { frame } = mount(new DemoDashboardSource({ network: NETWORKS.testnet }));
    const [first, second] = frame().split('\n');
    expect(first).toMatch(/^ TESTNET {2}base-sepolia · chain 84532/);
    expect(second).toContain('token 0x39eaF99Cd4965A28DFe8B1455DD42aB49D0836B9');
    expect(second).toContain('rpc https://sepolia.base.org');
  });

  it('shows mainnet as a real-money warning', () => {
    const { frame } = mount(new DemoDashboardSource({ network: NETWORKS.mainnet }));
    expect(frame().split('\n')[0]).toMatch(/^ MAINNET: REAL MONEY {2}base · chain 8453/);
  });

  it('says when the token is not deployed yet', () => {
    const { frame } = mount(new DemoDashboardSource({ network: { ...NETWORKS.local, token: undefined } }));
    expect(frame()).toContain('token not deployed');
  });
});

describe('connections', () => {
  it('shows each relay and connector state, with errors', async () => {
    const source = new DemoDashboardSource();
    source.setRelay('ws://a.example', 'connecting');
    const { until } = mount(source);
    await until((f) => /◌ connecting ws:\/\/a\.example/.test(f) && /○ disconnected ws:\/\/127/.test(f));
    source.setRelay('ws://a.example', 'connected', { subscriptions: 4 });
    source.setRelay('ws://b.example', 'error', { lastError: 'ECONNREFUSED 127.0.0.1:7000' });
    source.setConnector('connecting');
    const f = await until((f) => f.includes('● connected ws://a.example · 4 subs'));
    expect(f).toMatch(/Relays +● connected ws:\/\/a\.example · 4 subs/);
    expect(f).toContain('✗ error ws://b.example · ECONNREFUSED 127.0.0.1:7000');
    expect(f).toMatch(/Connector ◌ connecting ws:\/\/127\.0\.0\.1:7768/);
    source.setConnector('error', 'BTP auth rejected');
    await until((f) => f.includes('✗ error ws://127.0.0.1:7768 · BTP auth rejected'));
  });

  it('says when no relay is configured and folds extra relays', async () => {
    const source = new DemoDashboardSource();
    const { until } = mount(source);
    await until((f) => f.includes('Relay     none configured'));
    for (const n of [1, 2, 3, 4, 5]) source.setRelay(`ws://r${n}.example`, 'connected');
    const f = await until((f) => f.includes('+2 more'));
    expect(f).toContain('ws://r3.example');
    expect(f).not.toContain('ws://r4.example');
  });
});

describe('channel', () => {
  it('shows balance, deposit and spent, and no warning above the threshold', () => {
    const { frame } = mount(busySource());
    const f = frame();
    // 50 M2M minus two posts: 0.012 + 0.00875
    expect(f).toContain('Channel   49.97925 M2M left of 50 M2M · spent 0.02075 M2M');
    expect(f).not.toContain('LOW BALANCE');
  });

  it('warns as soon as the balance drops below the threshold', async () => {
    const source = busySource();
    const { until } = mount(source);
    source.spend(45n * M2M - 20_750_000_000_000_001n + 1n); // remaining exactly 5 M2M: not below
    await until((f) => f.includes('5 M2M left'));
    expect(mount(source).frame()).not.toContain('LOW BALANCE');
    source.spend(1n); // one base unit below the threshold
    const f = await until((f) => f.includes('LOW BALANCE'));
    expect(f).toContain('4.999999999999999999 M2M left');
    expect(f).toContain('below 5 M2M');
  });

  it('says when no channel is open', () => {
    expect(mount(new DemoDashboardSource()).frame()).toContain('Channel   none open');
  });
});

describe('jobs and activity', () => {
  it('lists jobs in flight first with state, type, price and size', () => {
    const f = mount(busySource()).frame();
    expect(f).toContain('Jobs · 1 in flight · 2 total');
    const rows = f.split('\n').filter((l) => l.includes('job-'));
    const inFlight = rows.findIndex((l) =>
      /job-5abc123 +posted +docker-build-amd64 +0\.00875 M2M +875 B/.test(l),
    );
    const done = rows.findIndex((l) =>
      /job-done0001 +routed +ci-cd-linux +0\.012 M2M +1200 B +47\/47 passed/.test(l),
    );
    expect(inFlight).toBeGreaterThanOrEqual(0);
    expect(done).toBeGreaterThan(inFlight);
  });

  it('shows activity newest first with times and amounts', () => {
    const source = busySource();
    source.appendActivity({ kind: 'earning', text: 'Earned from carol for job-x', amount: 25n * 10n ** 16n });
    const f = mount(source, { width: 100, height: 30 }).frame();
    const lines = f.split('\n');
    const earned = lines.findIndex((l) =>
      /\d\d:\d\d:\d\d ← Earned from carol for job-x +\+0\.25 M2M$/.test(l),
    );
    const posted = lines.findIndex((l) =>
      /↑ Posted job-5abc123: docker-build-amd64 \(875 bytes, 0\.00875 M2M\) +-0\.00875 M2M$/.test(l),
    );
    expect(earned).toBeGreaterThan(0);
    expect(posted).toBeGreaterThan(earned);
    expect(f).toContain('↓ Result for job-done0001 from bob: Build: SUCCESS | Tests: 47/47 passed');
  });

  it('never prints escape sequences that come inside job data', () => {
    const source = busySource();
    source.appendActivity({ kind: 'error', text: 'evil \u001b[2J\u001b]0;pwned\u0007 relay\nsays hi' });
    const r = render(createElement(Dashboard, { source, width: 80, height: 24 }));
    const raw = r.lastFrame() ?? '';
    expect(raw).not.toContain('\u001b[2J');
    expect(raw).not.toContain('pwned\u0007');
    expect(plain(raw)).toContain('! evil  relay says hi');
  });
});

describe('keys', () => {
  it('q quits', async () => {
    let quits = 0;
    const { r } = mount(busySource(), { onQuit: () => quits++ });
    r.stdin.write('q');
    await waitFor(
      () => quits,
      (n) => n === 1,
    );
  });

  it('Ctrl-C quits', async () => {
    let quits = 0;
    const { r } = mount(busySource(), { onQuit: () => quits++ });
    r.stdin.write(KEY.ctrlC);
    await waitFor(
      () => quits,
      (n) => n === 1,
    );
  });

  it('r refreshes through the source and reports the outcome', async () => {
    const source = busySource();
    const { press } = mount(source);
    await press('r', (f) => /refreshed \d\d:\d\d:\d\d/.test(f));
    expect(source.refreshCalls).toBe(1);
    const failing = new DemoDashboardSource({}, { refreshError: 'mayor not reachable on 127.0.0.1:7700' });
    const other = mount(failing);
    await other.press('r', (f) => f.includes('refresh failed: mayor not reachable on 127.0.0.1:7700'));
  });

  it('r reports a refresh() that throws instead of returning a rejected promise', async () => {
    const demo = busySource();
    const throwing: DashboardSource = {
      snapshot: () => demo.snapshot(),
      subscribe: (l) => demo.subscribe(l),
      refresh: () => {
        throw new Error('not connected to the Mayor');
      },
    };
    await mount(throwing).press('r', (f) => f.includes('refresh failed: not connected to the Mayor'));
  });

  it('r works for a source without refresh()', async () => {
    const demo = busySource();
    const bare: DashboardSource = { snapshot: () => demo.snapshot(), subscribe: (l) => demo.subscribe(l) };
    await mount(bare).press('r', (f) => f.includes('refreshed'));
  });

  it('h shows the job history, esc goes back', async () => {
    const { press } = mount(busySource());
    const f = await press('h', (f) => f.includes('Job history · 2 jobs'));
    expect(f).not.toContain('Activity');
    await press(KEY.escape, (f) => f.includes('Activity') && !f.includes('Job history'));
  });

  it('h toggles the history off again', async () => {
    const { press } = mount(busySource());
    await press('h', (f) => f.includes('Job history'));
    await press('h', (f) => f.includes('Activity'));
  });

  it('c shows channel details and payments', async () => {
    const source = busySource();
    const { press, until } = mount(source);
    const f = await press('c', (f) => f.includes('Payment channel'));
    expect(f).toContain('0x8c1f4e2a9b7d3c5e6f0a1b2c3d4e5f60718293a4b5c6d7e8f9012345678abcd');
    expect(f).toMatch(/Deposit +50 M2M/);
    expect(f).toMatch(/Spent +0\.02075 M2M \(cumulative, signed\)/);
    expect(f).toMatch(/Remaining +49\.97925 M2M/);
    expect(f).toMatch(/Warn below +5 M2M/);
    expect(f).toMatch(/\[#{39}-\]/); // 49.98 of 50 left: 39 of 40 cells
    expect(f).toContain('Posted job-5abc123');
    source.spend(46n * M2M);
    await until((f) => f.includes('LOW BALANCE: top up the channel'));
  });

  it('? shows the help', async () => {
    const { press } = mount(busySource());
    const f = await press('?', (f) => f.includes('── Keys'));
    for (const k of ['q, Ctrl-C', 'job history', 'payment channel details', 'open the selected job', 'Esc']) {
      expect(f).toContain(k);
    }
    await press(KEY.escape, (f) => f.includes('Activity'));
  });

  it('up/down move the selection and enter opens the selected job', async () => {
    const { press, frame } = mount(busySource());
    expect(frame()).toMatch(/^> job-5abc123/m);
    await press(KEY.down, (f) => /^> job-done0001/m.test(f));
    await press(KEY.down, (f) => /^> job-done0001/m.test(f)); // stays on the last
    await press(KEY.up, (f) => /^> job-5abc123/m.test(f));
    await press('j', (f) => /^> job-done0001/m.test(f));
    const f = await press(KEY.enter, (f) => f.includes('Job job-done0001'));
    expect(f).toContain('Result SUCCESS  Build: SUCCESS | Tests: 47/47 passed');
    expect(f).toContain('Tests  47 passed, 0 failed, 47 total');
    expect(f).toContain('posted');
    expect(f).toContain('1200 bytes · 0.012 M2M · provider bob');
    await press(KEY.escape, (f) => f.includes('Activity') && /^> job-done0001/m.test(f));
  });

  it('enter from the history opens the job and esc returns to the history', async () => {
    const { press } = mount(busySource());
    await press('h', (f) => f.includes('Job history'));
    await press(KEY.down, (f) => /^> job-done0001/m.test(f));
    await press(KEY.enter, (f) => f.includes('Job job-done0001'));
    await press(KEY.escape, (f) => f.includes('Job history'));
  });

  it('the job view shows the logs and scrolls them', async () => {
    const source = busySource();
    const { press, frame } = mount(source);
    await press(KEY.down, (f) => /^> job-done0001/m.test(f));
    let f = await press(KEY.enter, (f) => f.includes('Logs 1-'));
    // 24 rows: one kept free, 9 fixed lines, 14 log lines; 42 lines of log.
    expect(f).toContain('Logs 1-14 of 42');
    expect(f).toContain('$ docker build -t app .');
    expect(f).toContain('log line 13');
    expect(f).not.toContain('log line 14\n');
    f = await press(KEY.down, (f) => f.includes('Logs 2-15 of 42'));
    expect(f).not.toContain('$ docker build');
    await press(KEY.up, (f) => f.includes('Logs 1-14 of 42'));
    await press(KEY.up, (f) => f.includes('Logs 1-14 of 42')); // clamps at the top
    await press(KEY.pageDown, (f) => f.includes('Logs 14-27 of 42'));
    await press(KEY.pageUp, (f) => f.includes('Logs 1-14 of 42'));
    f = await press('G', (f) => f.includes('Logs 29-42 of 42'));
    expect(f).toContain('Tests: 46 passed, 1 failed, 47 total');
    await press(KEY.down, (f) => f.includes('Logs 29-42 of 42')); // clamps at the end
    await press('g', (f) => f.includes('Logs 1-14 of 42'));
    expect(frame()).toContain('esc back');
  });

  it('the job view follows the job live: waiting, then its result', async () => {
    const source = busySource();
    const { press, until } = mount(source);
    let f = await press(KEY.enter, (f) => f.includes('Job job-5abc123'));
    expect(f).toContain('waiting for a provider…');
    expect(f).toContain('Logs none');
    source.deliverResult(
      'job-5abc123',
      result({ status: 'failure', summary: 'Build: SUCCESS | Tests: 46/47 passed' }),
    );
    f = await until((f) => f.includes('Result FAILURE'));
    expect(f).toContain('46/47 passed');
    expect(f).toContain('provider bob');
  });
});

describe('updates', () => {
  // The latency figure (target: within 100 ms) is measured by `npm run bench -- tui`, not asserted here:
  // this test checks that every change is drawn from the source's notification alone, with no refresh or poll.
  it('shows each change as soon as the source notifies, without a refresh', async () => {
    const source = busySource();
    const { until, frame } = mount(source);
    await until((f) => f.includes('job-5abc123'));
    for (const n of [1, 2, 3]) {
      source.postJob({ id: `job-fast${n}`, jobType: 'ci-cd-linux', bytes: 100, price: JOB_PRICE });
      await until((f) => f.includes(`job-fast${n}`));
    }
    expect(frame()).toContain('4 in flight');
  });

  it('unsubscribes when unmounted', () => {
    const source = busySource();
    const { r } = mount(source);
    expect(source.listenerCount).toBe(1);
    r.unmount();
    expect(source.listenerCount).toBe(0);
  });
});

describe('widths', () => {
  it('drops secondary columns when narrow and never exceeds the width', async () => {
    const source = busySource();
    const wide = mount(source, { width: 80 }).frame();
    expect(wide).toContain('docker-build-amd64');
    const narrow = mount(source, { width: 40 }).frame();
    const row = narrow.split('\n').find((l) => l.includes('job-5abc123 '))!;
    expect(row.trimEnd()).toMatch(/^> job-5abc123 +posted$/);
    expect(narrow).toContain('0x39ea…36B9'); // token shortened
    for (const l of narrow.split('\n')) expect(columns(l)).toBeLessThanOrEqual(40);
    expect(narrow).toMatch(/…/);
  });
});
