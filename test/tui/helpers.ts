// Fixtures and small helpers shared by the dashboard tests.
import { EventEmitter } from 'node:events';
import { stripVTControlCharacters } from 'node:util';
import { DemoDashboardSource } from '../../src/tui/index.js';
import type { DashboardState, JobResult, NetworkInfo } from '../../src/tui/model.js';

export const M2M = 10n ** 18n;
/** 875 bytes at 0.00001 M2M per byte, as in the user journeys. */
export const JOB_PRICE = 8_750_000_000_000_000n;
export const FIXED_NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

export const NETWORKS: Record<NetworkInfo['kind'], NetworkInfo> = {
  local: {
    name: 'devnet',
    kind: 'local',
    chainId: 31337,
    token: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  },
  testnet: {
    name: 'base-sepolia',
    kind: 'testnet',
    chainId: 84532,
    token: '0x39eaF99Cd4965A28DFe8B1455DD42aB49D0836B9',
    rpc: 'https://sepolia.base.org',
  },
  mainnet: {
    name: 'base',
    kind: 'mainnet',
    chainId: 8453,
    token: '0x1111111111111111111111111111111111111111',
    rpc: 'https://mainnet.base.org',
  },
};

export const LOGS = [
  '$ docker build -t app .',
  ...Array.from({ length: 40 }, (_, i) => `log line ${i + 1}`),
  'Tests: 46 passed, 1 failed, 47 total',
].join('\n');

export function result(overrides: Partial<JobResult> = {}): JobResult {
  return {
    status: 'success',
    summary: 'Build: SUCCESS | Tests: 47/47 passed',
    tests: { passed: 47, failed: 0, total: 47 },
    logs: LOGS,
    provider: 'bob',
    ...overrides,
  };
}

/** A source in a typical running state: connected, channel of 50 M2M, one job in flight, one done. */
export function busySource(initial: Partial<DashboardState> = {}): DemoDashboardSource {
  let t = FIXED_NOW;
  const source = new DemoDashboardSource(
    { mayor: 'alice', network: NETWORKS.testnet, ...initial },
    { now: () => (t += 1000) },
  );
  source.setRelay('ws://127.0.0.1:7777', 'connected', { subscriptions: 3 });
  source.setConnector('connected');
  source.setChannel({
    id: '0x8c1f4e2a9b7d3c5e6f0a1b2c3d4e5f60718293a4b5c6d7e8f9012345678abcd',
    deposit: 50n * M2M,
    spent: 0n,
    remaining: 50n * M2M,
    lowBalanceThreshold: 5n * M2M,
  });
  source.setSubscriptions([{ id: 's1', summary: 'kinds 6065,7000 #p alice' }]);
  const done = source.postJob({
    id: 'job-done0001',
    jobType: 'ci-cd-linux',
    bytes: 1200,
    price: 12n * 10n ** 15n,
  });
  source.deliverResult(done, result());
  source.postJob({ id: 'job-5abc123', jobType: 'docker-build-amd64', bytes: 875, price: JOB_PRICE });
  source.setJobState('job-5abc123', 'posted');
  return source;
}

/** Polls `read` until `ok` holds or `timeoutMs` passes; returns the last value read and the time it took. */
export async function waitFor<T>(
  read: () => T,
  ok: (value: T) => boolean,
  timeoutMs = 2000,
): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  for (;;) {
    const value = read();
    const ms = performance.now() - start;
    if (ok(value)) return { value, ms };
    if (ms > timeoutMs)
      throw new Error(`condition not met within ${timeoutMs} ms; last value:\n${String(value)}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export const plain = (frame: string | undefined): string => stripVTControlCharacters(frame ?? '');

/** Display columns of a line of plain text (every character the dashboard prints is one column wide). */
export const columns = (text: string): number => Array.from(text).length;

/** A terminal-like output stream with a chosen size, recording what Ink writes. */
export class FakeStdout extends EventEmitter {
  readonly writes: string[] = [];
  isTTY = true;
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (chunk: string): boolean => {
    this.writes.push(chunk);
    return true;
  };
  /** The screen as it was last drawn: the text after the last erase sequence, escapes removed. */
  screen(): string {
    const all = this.writes.join('');
    // eraseLines ends with "\x1b[G" (cursor to column 1) before the new frame is written.
    const start = all.lastIndexOf('\u001b[G');
    return stripVTControlCharacters(start >= 0 ? all.slice(start) : all);
  }
  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
}

/** A TTY-like input stream Ink can read keys from. */
export class FakeStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write(data: string): void {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  }
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

export const KEY = {
  up: '\u001b[A',
  down: '\u001b[B',
  pageUp: '\u001b[5~',
  pageDown: '\u001b[6~',
  enter: '\r',
  escape: '\u001b',
  ctrlC: '\u0003',
};
