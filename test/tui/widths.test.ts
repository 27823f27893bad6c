// Every view at several terminal widths and heights: no line is wider than the terminal, the frame is never
// taller than the terminal (one row is kept free), and the network is always on screen.
import { cleanup, render } from 'ink-testing-library';
import { createElement } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { Dashboard, type DemoDashboardSource } from '../../src/tui/index.js';
import { busySource, columns, KEY, M2M, NETWORKS, plain, waitFor } from './helpers.js';

afterEach(() => cleanup());

const VIEWS: { name: string; keys: string[]; marker: RegExp }[] = [
  { name: 'main', keys: [], marker: /Activity/ },
  { name: 'history', keys: ['h'], marker: /history|Job hist/ },
  { name: 'channel', keys: ['c'], marker: /Payme|Deposit/ },
  { name: 'help', keys: ['?'], marker: /Keys|Ctrl-C/ },
  { name: 'job', keys: [KEY.down, KEY.enter], marker: /Result/ },
];

/** A crowded state: long URLs and errors, many jobs, a low balance, a long activity history. */
function crowded(kind: keyof typeof NETWORKS): DemoDashboardSource {
  const source = busySource({ network: NETWORKS[kind] });
  source.setRelay('wss://a-very-long-relay-host-name.crosstown.example.org/nostr/v1', 'error', {
    lastError: 'connect ECONNREFUSED 203.0.113.7:443 (retrying in 30 s)',
  });
  for (let i = 0; i < 12; i++) {
    source.postJob({
      jobType: `job-type-with-a-long-name-${i}`,
      bytes: 100_000 + i,
      price: 10n ** 18n + BigInt(i),
    });
  }
  source.spend(47n * M2M);
  source.setSubscriptions([
    { id: 'a', summary: 'kinds 5065 #t docker-build-amd64,ci-cd-linux,unit-tests-node20 since 1700000000' },
    {
      id: 'b',
      summary: 'kinds 6065,7000 #p 3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d',
    },
  ]);
  return source;
}

describe.each([120, 80, 60, 40, 30, 20])('at %i columns', (width) => {
  for (const height of [24, 12]) {
    for (const view of VIEWS) {
      it(`${view.name} view, ${height} rows, fits`, async () => {
        for (const kind of ['testnet', 'mainnet'] as const) {
          const r = render(createElement(Dashboard, { source: crowded(kind), width, height }));
          for (const key of view.keys) {
            const before = r.lastFrame();
            r.stdin.write(key);
            await waitFor(
              () => r.lastFrame(),
              (f) => f !== before,
            );
          }
          const frame = plain(r.lastFrame());
          const lines = frame.split('\n');
          expect(lines.length).toBeLessThanOrEqual(height - 1);
          for (const l of lines) expect(columns(l), `line too wide: "${l}"`).toBeLessThanOrEqual(width);
          // The network badge is the first thing on the first line, whatever the width.
          const badge = kind === 'mainnet' ? ' MAINNET: REAL MONEY' : ' TESTNET';
          expect(lines[0]!.startsWith(badge.slice(0, width - 1))).toBe(true);
          if (width >= 40 && height >= 24) expect(frame).toMatch(view.marker);
          r.unmount();
        }
      });
    }
  }
});

describe('graceful degradation', () => {
  it('at 80 columns the main view keeps every column; at 40 it keeps id and state', async () => {
    const wide = plain(
      render(createElement(Dashboard, { source: busySource(), width: 80, height: 24 })).lastFrame(),
    );
    expect(wide).toMatch(/job-done0001 +routed +ci-cd-linux +0\.012 M2M +1200 B 47\/47 passed/);
    const narrow = plain(
      render(createElement(Dashboard, { source: busySource(), width: 40, height: 24 })).lastFrame(),
    );
    expect(narrow).toMatch(/^ {2}job-done0001 +routed *$/m);
    expect(narrow).not.toContain('rpc https');
    // The activity time column is dropped; long lines end with an ellipsis instead of wrapping.
    expect(narrow).toMatch(/^ ↑ Posted job-5abc123: docker-b.*…$/m);
    expect(narrow).not.toMatch(/\d\d:\d\d:\d\d ↑/);
  });
});
