// Starts a real anvil (Foundry's local EVM node) from the npm package @foundry-rs/anvil.
// The platform binary is spawned directly (no npx, no shell) so its pid is the node's pid and stop() is exact.
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Address, Hex } from 'viem';
import { ChainError } from './errors.js';

export interface StartAnvilOptions {
  /** Chain id to report (default 31337, anvil's own default). */
  chainId?: number;
  /** Seconds between blocks; omitted means automine (a block per transaction). */
  blockTime?: number;
  /** Number of funded dev accounts (default 10). */
  accounts?: number;
  /** Ether balance of each dev account (default 10000). */
  balance?: number;
  /** Milliseconds to wait for "Listening on" before giving up (default 20000). */
  startTimeoutMs?: number;
}

export interface AnvilAccount {
  address: Address;
  privateKey: Hex;
}

export interface Anvil {
  rpcUrl: string;
  port: number;
  chainId: number;
  pid: number;
  /** Accounts of anvil's default mnemonic ("test test ... junk"), as anvil printed them. */
  accounts: AnvilAccount[];
  /** Kills the process and resolves once it has exited. Safe to call twice. */
  stop(): Promise<void>;
}

/** Path of the platform binary shipped by @foundry-rs/anvil-<platform>-<arch>. */
export function anvilBinaryPath(): string {
  const require = createRequire(import.meta.url);
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    return require.resolve(`${pkg}/bin/anvil`);
  } catch {
    throw new ChainError(
      'ANVIL_NOT_FOUND',
      `anvil binary package ${pkg} is not installed; run \`npm install\` (it is an optional dependency of @foundry-rs/anvil for this platform).`,
    );
  }
}

// Every anvil still running; killed when this process exits, even if a test failed before stop().
const live = new Set<ChildProcess>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = () => {
    for (const child of live) child.kill('SIGKILL');
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      // Another handler (a graceful shutdown, e.g. `devnet up`) stops anvil itself, after the node has settled;
      // the 'exit' hook still kills whatever is left.
      if (process.listenerCount(signal) > 1) return;
      // Nobody else handles the signal: kill anvil and keep the default behaviour (terminate).
      killAll();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

export async function startAnvil(options: StartAnvilOptions = {}): Promise<Anvil> {
  const chainId = options.chainId ?? 31337;
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--chain-id',
    String(chainId),
    '--accounts',
    String(options.accounts ?? 10),
    '--balance',
    String(options.balance ?? 10000),
  ];
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime));

  const child = spawn(anvilBinaryPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  installExitHooks();
  live.add(child);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
  });

  let output = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(`no "Listening on" line within ${options.startTimeoutMs ?? 20000} ms`),
      options.startTimeoutMs ?? 20000,
    );
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(
        new ChainError(
          'ANVIL_START_FAILED',
          `anvil did not start: ${why}. stderr: ${stderr.trim() || '(empty)'}`,
        ),
      );
    };
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /Listening on [\d.]+:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        // Keep draining stdout (anvil logs every RPC call) so the pipe never fills and blocks it.
        child.stdout!.resume();
        child.off('exit', onExit);
        resolve(Number(m[1]));
      }
    };
    const onExit = (code: number | null) => fail(`exited with code ${code}`);
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
    child.once('error', (e) => fail(e.message));
  });

  return {
    rpcUrl: `http://127.0.0.1:${port}`,
    port,
    chainId,
    pid: child.pid!,
    accounts: parseAccounts(output),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Pairs the "Available Accounts" and "Private Keys" sections of anvil's banner. */
function parseAccounts(banner: string): AnvilAccount[] {
  const addresses = [...banner.matchAll(/^\((\d+)\) (0x[0-9a-fA-F]{40})\b/gm)].map((m) => m[2] as Address);
  const keys = [...banner.matchAll(/^\((\d+)\) (0x[0-9a-fA-F]{64})\s*$/gm)].map((m) => m[2] as Hex);
  return addresses.map((address, i) => ({ address, privateKey: keys[i]! }));
}
