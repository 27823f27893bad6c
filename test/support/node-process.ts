// `crosstown node start` as a real child process (node --import tsx src/cli/main.ts, so the pid is the CLI's),
// for tests and benches that need the node as users run it: its endpoints from the JSON it prints, its stderr,
// and its exit.
import { type ChildProcess, spawn } from 'node:child_process';
import type { DevChain } from '../../src/chain/index.js';
import { cliCommand } from '../../src/devnet/index.js';

export interface NodeEndpoints {
  relayUrl: string;
  btpUrl: string;
  spspUrl: string;
  ilpAddress: string;
  pubkey: string;
}

export interface NodeProcess {
  child: ChildProcess;
  endpoints: NodeEndpoints;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface NodeProcessOptions {
  chain: DevChain;
  dataDir: string;
  /** The node's wallet key (an anvil account not used by the test's payers). */
  walletKey: string;
  extraArgs?: string[];
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Options for node itself, before the script (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
}

export async function startNodeProcess(o: NodeProcessOptions): Promise<NodeProcess> {
  const [cmd, args] = cliCommand([
    'node',
    'start',
    '--format',
    'json',
    '--relay-port',
    '0',
    '--btp-port',
    '0',
    '--data-dir',
    o.dataDir,
    '--rpc-url',
    o.chain.network.rpcUrl,
    '--chain-id',
    String(o.chain.network.chainId),
    '--token',
    o.chain.network.token,
    '--channels',
    o.chain.network.channels,
    '--log-level',
    o.logLevel ?? 'warn',
    ...(o.extraArgs ?? []),
  ]);
  const child = spawn(cmd, [...(o.nodeArgs ?? []), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CROSSTOWN_NODE_WALLET_KEY: o.walletKey, CROSSTOWN_HOME: o.dataDir },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let out = '';
  const endpoints = await new Promise<NodeEndpoints>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n}')) resolve(JSON.parse(out) as NodeEndpoints);
    });
    void exit.then(({ code }) =>
      reject(new Error(`node exited ${code} before printing endpoints: ${stderr}`)),
    );
  });
  return { child, endpoints, stderr: () => stderr, exit };
}

/** Stops the child if it still runs (SIGKILL: for cleanup after a failed test). */
export async function killNodeProcess(p: NodeProcess | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGKILL');
  await p.exit;
}
