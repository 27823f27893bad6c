// Styles, with colours forced on: chalk's level is set (Ink draws with the same chalk), and put back after, since test
// files share a worker's modules (isolate: false). Not FORCE_COLOR: every child process a later file starts would
// inherit it, and Node then colours what console.log prints (a pid read from a child's output).
import chalk from 'chalk';
import { cleanup, render } from 'ink-testing-library';
import { createElement } from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Dashboard, DemoDashboardSource } from '../../src/tui/index.js';
import { busySource, M2M, NETWORKS } from './helpers.js';

const level = chalk.level;
beforeAll(() => {
  chalk.level = 1;
});
afterAll(() => {
  chalk.level = level;
});
afterEach(() => cleanup());

const frame = (source: DemoDashboardSource) =>
  render(createElement(Dashboard, { source, width: 80, height: 24 })).lastFrame() ?? '';

/** `text` drawn with SGR `code` (possibly among other codes): 41 red background, 43 yellow background,
 * 42 green background, 31 red foreground. */
const styled = (code: number, text: string) =>
  new RegExp(`\\u001b\\[${code}m(\\u001b\\[[0-9;]*m)*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);

describe('styles', () => {
  it('mainnet is a red warning banner, testnet yellow, local green', () => {
    expect(frame(new DemoDashboardSource({ network: NETWORKS.mainnet }))).toMatch(
      styled(41, ' MAINNET: REAL MONEY '),
    );
    expect(frame(new DemoDashboardSource({ network: NETWORKS.testnet }))).toMatch(styled(43, ' TESTNET '));
    expect(frame(new DemoDashboardSource({ network: NETWORKS.local }))).toMatch(styled(42, ' LOCAL '));
  });

  it('the low-balance warning and a low balance are red', () => {
    const source = busySource();
    source.spend(46n * M2M);
    const f = frame(source);
    expect(f).toMatch(styled(31, ' ! LOW BALANCE'));
    expect(f).toMatch(styled(31, '3.97925 M2M'));
  });
});
