// The embedded default (DESIGN §6): a real anvil with the M2M token and the channel contract, funded
// accounts, and a crosstown node, all on loopback with free ports. The node runs in this process by default,
// or as a child process (`crosstown node start`) for crash tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Address, Hex } from 'viem';
import { type DevChain, startDevChain } from '../chain/index.js';
import type { NodeConfig } from '../node/config.js';
import { NOSTR_KEY_ENV, WALLET_KEY_ENV } from '../node/config.js';
import { type Logger, silentLogger } from '../node/logger.js';
import { type RunningNode, startNode } from '../node/node.js';
import { generateSecretKey, getPublicKey } from '../nostr/index.js';
import { cliCommand } from './cli-process.js';

const M2M = 10n ** 18n;

/** A funded Mayor identity: anvil wallet (ETH for gas + M2M) and a fresh Nostr key. */
export interface DevnetMayor {
  name: string;
  walletAddress: Address;
  walletPrivateKey: Hex;
  nostrSecretKey: Hex;
  nostrPubkey: string;
}

/** Everything a client needs to use the devnet (JSON-friendly: what `devnet up` prints and saves). */
export interface DevnetInfo {
  network: 'devnet';
  rpcUrl: string;
  chainId: number;
  token: Address;
  channels: Address;
  deployBlock: string;
  relayUrl: string;
  btpUrl: string;
  spspUrl: string;
  node: {
    name: string;
    ilpAddress: string;
    relayAddress: string;
    pubkey: string;
    settlementAddress: Address;
    basePricePerByte: string;
    dataDir: string;
    /** Pid of the node process (this process when in-process). */
    pid: number;
  };
  anvilPid: number;
  mayors: Record<string, DevnetMayor>;
}

export interface Devnet extends DevnetInfo {
  chain: DevChain;
  /** The node object when it runs in this process. */
  runningNode: RunningNode | undefined;
  /** The node's child process when `nodeProcess: 'child'`. */
  child: ChildProcess | undefined;
  /** Stops the node (gracefully), then anvil; removes the temporary data dir it created. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartDevnetOptions {
  /** 'in-process' (default) or 'child': `crosstown node start` as a child process. */
  nodeProcess?: 'in-process' | 'child';
  /** Mayor names to fund (default alpha, beta). At most 8. */
  mayors?: string[];
  nodeName?: string;
  /** Node data dir (SQLite); default a fresh temporary directory, removed by stop(). */
  dataDir?: string;
  /** Relay write price (default 10^13 base units = 0.00001 M2M per byte, the journeys' price). */
  basePricePerByte?: bigint;
  /** M2M minted to every account (default 1000 M2M). */
  fund?: bigint;
  chainId?: number;
  /** Node logs (in-process); a child's stderr goes here line by line when given. */
  logger?: Logger;
  /** Extra node settings. */
  node?: Partial<Pick<NodeConfig, 'creditLimit' | 'settleThreshold' | 'onChainThreshold' | 'channelDeposit'>>;
}

/** Anvil account roles: 0 deploys, 1 is the node's wallet, 2.. are the Mayors. */
const NODE_ACCOUNT = 1;
const FIRST_MAYOR_ACCOUNT = 2;

export async function startDevnet(options: StartDevnetOptions = {}): Promise<Devnet> {
  const names = options.mayors ?? ['alpha', 'beta'];
  if (names.length > 8) throw new RangeError('startDevnet funds at most 8 Mayors');
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'crosstown-devnet-'));
  const chain = await startDevChain({
    accounts: FIRST_MAYOR_ACCOUNT + names.length,
    ...(options.chainId !== undefined ? { chainId: options.chainId } : {}),
    ...(options.fund !== undefined ? { fund: options.fund } : {}),
  });
  const dropDir = () => {
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  const nodeKey = generateSecretKey();
  const config: NodeConfig = {
    name: options.nodeName ?? 'node1',
    ilpAddress: `g.crosstown.${options.nodeName ?? 'node1'}`,
    host: '127.0.0.1',
    relayPort: 0,
    btpPort: 0,
    dataDir,
    basePricePerByte: options.basePricePerByte ?? 10n ** 13n,
    nostrSecretKey: nodeKey,
    walletKey: chain.anvil.accounts[NODE_ACCOUNT]!.privateKey,
    chain: {
      rpcUrl: chain.network.rpcUrl,
      chainId: chain.network.chainId,
      token: chain.network.token,
      channels: chain.network.channels,
    },
    creditLimit: options.node?.creditLimit ?? M2M,
    settleThreshold: options.node?.settleThreshold ?? 0n,
    onChainThreshold: options.node?.onChainThreshold,
    channelDeposit: options.node?.channelDeposit ?? 10n * M2M,
    peers: [],
    logLevel: options.logger?.level ?? 'info',
  };

  let runningNode: RunningNode | undefined;
  let child: ChildProcess | undefined;
  let endpoints: NodeEndpoints;
  try {
    if (options.nodeProcess === 'child') {
      ({ child, endpoints } = await spawnNode(config, options.logger));
    } else {
      runningNode = await startNode(config, { logger: options.logger ?? silentLogger });
      endpoints = { ...runningNode, pid: process.pid };
    }
  } catch (err) {
    await chain.stop();
    dropDir();
    throw err;
  }

  const mayors: Record<string, DevnetMayor> = {};
  names.forEach((name, i) => {
    const account = chain.anvil.accounts[FIRST_MAYOR_ACCOUNT + i]!;
    const sk = generateSecretKey();
    mayors[name] = {
      name,
      walletAddress: account.address,
      walletPrivateKey: account.privateKey,
      nostrSecretKey: `0x${Buffer.from(sk).toString('hex')}`,
      nostrPubkey: getPublicKey(sk),
    };
  });

  let stopped: Promise<void> | undefined;
  return {
    network: 'devnet',
    rpcUrl: chain.network.rpcUrl,
    chainId: chain.network.chainId,
    token: chain.network.token,
    channels: chain.network.channels,
    deployBlock: chain.deployBlock.toString(),
    relayUrl: endpoints.relayUrl,
    btpUrl: endpoints.btpUrl,
    spspUrl: endpoints.spspUrl,
    node: {
      name: config.name,
      ilpAddress: endpoints.ilpAddress,
      relayAddress: `${endpoints.ilpAddress}.relay`,
      pubkey: endpoints.pubkey,
      settlementAddress: endpoints.settlementAddress,
      basePricePerByte: config.basePricePerByte.toString(),
      dataDir,
      pid: endpoints.pid,
    },
    anvilPid: chain.anvil.pid,
    mayors,
    chain,
    runningNode,
    child,
    stop() {
      stopped ??= (async () => {
        try {
          if (runningNode) await runningNode.stop();
          if (child) await stopChild(child);
        } finally {
          await chain.stop();
          dropDir();
        }
      })();
      return stopped;
    },
  };
}

/** The JSON-friendly part of a devnet (drops the objects and functions). */
export function devnetInfo(devnet: Devnet): DevnetInfo {
  const { chain: _c, runningNode: _r, child: _ch, stop: _s, ...info } = devnet;
  return info;
}

interface NodeEndpoints {
  relayUrl: string;
  btpUrl: string;
  spspUrl: string;
  ilpAddress: string;
  pubkey: string;
  settlementAddress: Address;
  pid: number;
}

/** Runs `crosstown node start --format json` and reads the endpoints it prints on stdout. */
async function spawnNode(
  config: NodeConfig,
  logger: Logger | undefined,
): Promise<{ child: ChildProcess; endpoints: NodeEndpoints }> {
  const [cmd, args] = cliCommand([
    'node',
    'start',
    '--format',
    'json',
    '--name',
    config.name,
    '--host',
    config.host,
    '--relay-port',
    String(config.relayPort),
    '--btp-port',
    String(config.btpPort),
    '--data-dir',
    config.dataDir,
    '--base-price-per-byte',
    String(config.basePricePerByte),
    '--rpc-url',
    config.chain.rpcUrl,
    '--chain-id',
    String(config.chain.chainId),
    '--token',
    config.chain.token,
    '--channels',
    config.chain.channels,
    '--credit-limit',
    String(config.creditLimit),
    '--settle-threshold',
    String(config.settleThreshold),
    '--channel-deposit',
    String(config.channelDeposit),
    '--log-level',
    config.logLevel,
  ]);
  // Keys travel in the environment, never on the command line (visible in `ps`).
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      [WALLET_KEY_ENV]: config.walletKey,
      [NOSTR_KEY_ENV]: Buffer.from(config.nostrSecretKey).toString('hex'),
    },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (logger) for (const line of d.split('\n').filter(Boolean)) logger.debug('node', { line });
  });
  try {
    const endpoints = await new Promise<NodeEndpoints>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('the node printed no endpoints within 30 s')), 30_000);
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const end = out.indexOf('\n}');
        if (end < 0) return;
        clearTimeout(timer);
        try {
          const info = JSON.parse(out.slice(0, end + 2)) as Omit<NodeEndpoints, 'pid'>;
          resolve({ ...info, pid: child.pid! });
        } catch (err) {
          reject(err);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`crosstown node start exited with code ${code}: ${stderr.trim().slice(-2000)}`));
      });
    });
    child.removeAllListeners('exit');
    // A devnet that dies without stop() must not leave its node behind.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    return { child, endpoints };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

/** SIGTERM, wait for the exit (up to 20 s), then SIGKILL. */
export async function stopChild(child: ChildProcess, timeoutMs = 20_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}
