// Try the dashboard in a real terminal without a Mayor: a DemoDashboardSource walks through a scripted
// sequence (connect, open a 50 M2M channel, post a job, result 2 s later).
//   npx tsx scripts/dashboard-preview.tsx [--network devnet|base-sepolia|base] [--speed 1]
import type { NetworkInfo } from '../src/tui/index.js';

// React's production build renders several times faster than the development one; the import below is
// dynamic so that this takes effect before React loads.
process.env.NODE_ENV ??= 'production';
const { DemoDashboardSource, renderDashboard } = await import('../src/tui/index.js');

const NETWORKS: Record<string, NetworkInfo> = {
  devnet: {
    name: 'devnet',
    kind: 'local',
    chainId: 31337,
    token: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    rpc: 'http://127.0.0.1:8545',
  },
  'base-sepolia': {
    name: 'base-sepolia',
    kind: 'testnet',
    chainId: 84532,
    token: '0x39eaF99Cd4965A28DFe8B1455DD42aB49D0836B9',
    rpc: 'https://sepolia.base.org',
  },
  base: { name: 'base', kind: 'mainnet', chainId: 8453, rpc: 'https://mainnet.base.org' },
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const network = NETWORKS[arg('network', 'base-sepolia')] ?? NETWORKS['base-sepolia']!;
const speed = Number(arg('speed', '1')) || 1;
const M2M = 10n ** 18n;
const RELAY = 'ws://127.0.0.1:7777';

const source = new DemoDashboardSource({
  mayor: 'alice',
  network,
  connector: { url: 'ws://127.0.0.1:7768', status: 'connecting' },
});
source.setRelay(RELAY, 'connecting');

const logs = [
  '$ docker build --platform linux/amd64 -t sample-app .',
  ...Array.from({ length: 12 }, (_, i) => `Step ${i + 1}/12 : RUN build-step-${i + 1}`),
  'Successfully built 3f2a9c1d',
  '$ npm test',
  ...Array.from({ length: 47 }, (_, i) => `  ✓ test case ${i + 1} (${(i % 7) + 1} ms)`),
  'Tests: 47 passed, 47 total',
  'Build: SUCCESS',
].join('\n');

const steps: [number, () => void][] = [
  [
    300,
    () => {
      source.setRelay(RELAY, 'connected', { subscriptions: 2 });
      source.setConnector('connected');
      source.appendActivity({ kind: 'connection', text: `Connected to relay ${RELAY} and connector` });
    },
  ],
  [
    600,
    () => {
      source.setChannel({
        id: '0x8c1f4e2a9b7d3c5e6f0a1b2c3d4e5f60718293a4b5c6d7e8f9012345678abcd',
        deposit: 50n * M2M,
        spent: 0n,
        remaining: 50n * M2M,
        lowBalanceThreshold: 5n * M2M,
        status: 'open',
      });
      source.appendActivity({
        kind: 'channel',
        text: 'Opened payment channel with 50 M2M',
        amount: 50n * M2M,
      });
      source.setSubscriptions([
        { id: 'results', summary: 'kinds 6065,7000 #p alice' },
        { id: 'jobs', summary: 'kinds 5065 #t ci-cd-linux' },
      ]);
    },
  ],
  [
    1000,
    () => {
      const id = source.postJob({ jobType: 'docker-build-amd64', bytes: 875, price: 8_750_000_000_000_000n });
      setTimeout(() => {
        source.deliverResult(id, {
          status: 'success',
          summary: 'Build: SUCCESS | Tests: 47/47 passed',
          tests: { passed: 47, failed: 0, total: 47 },
          logs,
          provider: 'bob',
        });
        source.appendActivity({
          kind: 'payment',
          text: `Paid bob for ${id}`,
          amount: 100_000_000_000_000_000n,
        });
        source.spend(100_000_000_000_000_000n);
        source.setJobState(id, 'paid');
      }, 2000 / speed);
    },
  ],
];

const timers = steps.map(([at, step]) => setTimeout(step, at / speed));
const dashboard = renderDashboard(source, { exitOnQuit: true });
await dashboard.waitUntilExit();
for (const t of timers) clearTimeout(t);
