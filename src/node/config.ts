// The node's configuration: one typed object, resolved from flags > environment > crosstown.toml ([node]
// table) > defaults. Keys are never read from the toml file (only key *files*), so a config file can be shared.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { Address, Hex } from 'viem';
import { isValidIlpAddress } from '../ilp/address.js';
import { generateSecretKey } from '../nostr/index.js';
import { parseTrustedProxies } from './client-address.js';
import { NodeError } from './errors.js';
import { type LogLevel, parseLogLevel } from './logger.js';

/** Another connector, reached by static routes. */
export interface NodePeerConfig {
  /** Peer id (one ILP address segment). */
  id: string;
  /** Token both sides use: we present it when we dial `url`, and accept it when the peer dials us. */
  authToken: string;
  /** When set, the node dials this BTP URL (and redials); otherwise it waits for the peer to connect. */
  url?: string;
  /** ILP address prefixes routed to this peer, e.g. g.crosstown.node2. */
  routes: string[];
  creditLimit?: bigint;
  settlementAddress?: Address;
}

export interface NodeChainConfig {
  rpcUrl: string;
  chainId: number;
  /** The M2M ERC-20 token. */
  token: Address;
  /** The PaymentChannels contract. */
  channels: Address;
}

export interface NodeConfig {
  /** Node name: its ILP address is `g.crosstown.<name>`. */
  name: string;
  ilpAddress: string;
  host: string;
  /** NIP-01 WebSocket + NIP-11 (0: a free port). */
  relayPort: number;
  /** BTP WebSocket + SPSP over HTTP (0: a free port). */
  btpPort: number;
  /** Holds relay.db (SQLite) and, unless given, nostr.key. */
  dataDir: string;
  /** Relay write price, base units per byte of TOON data. */
  basePricePerByte: bigint;
  nostrSecretKey: Uint8Array;
  /** The settlement wallet's private key. */
  walletKey: Hex;
  chain: NodeChainConfig;
  /** Most a Mayor may owe the node before it must send a claim (base units). */
  creditLimit: bigint;
  /** Owed to a Mayor at which the node signs a claim to it. */
  settleThreshold: bigint;
  /** Redeem a channel on-chain once its unredeemed claims reach this; undefined: only on close. */
  onChainThreshold: bigint | undefined;
  /** Deposit of channels the node opens to Mayors it owes. */
  channelDeposit: bigint;
  peers: NodePeerConfig[];
  logLevel: LogLevel;
  /** Relay event store: a `postgres://` URL for PostgreSQL (several relay processes may share it); else SQLite in dataDir. */
  databaseUrl?: string | undefined;
  /** PEM certificate and key files: the relay serves wss:// and the connector BTP over wss://. */
  tls?: { certPath: string; keyPath: string } | undefined;
  /** Worker threads verifying paid writes (0: on the main thread). `node start` defaults to the machine's cores. */
  verifyThreads?: number;
  /**
   * The relay's URL as clients reach it (wss://relay.example.org behind a proxy): NIP-42 AUTH must name it. Default:
   * derived per connection from the scheme, the Host header and the path.
   */
  relayPublicUrl?: string | undefined;
  /**
   * The BTP URL clients reach from elsewhere (btp+wss://node.example.org behind a proxy): what peer info and SPSP
   * answers advertise, and the base of NIP-11 `payments_url`. Default: the listener's own (loopback) URL.
   */
  btpPublicUrl?: string | undefined;
  /** A peer SPSP made for a Nostr key that has not used it (no BTP session, no money state) for this long is removed. Default 1 day. */
  unusedPeerTtlSeconds?: number;
  /** Most unused SPSP peers kept; beyond it the longest idle are removed first. Default 10,000. */
  maxUnusedPeers?: number;
  /** Reverse proxies (by IP) whose X-Forwarded-For names the client, for the per-IP budgets. Default none. */
  trustedProxies?: string[];
}

/** Values as typed on the command line (commander's camelCase option names). */
export type NodeFlags = Partial<Record<FlagName, string>>;

type FlagName = (typeof SETTINGS)[number]['flag'];

const M2M = 10n ** 18n;

interface Setting {
  /** Key in the [node] table (dotted for [node.chain]). */
  key: string;
  /** commander property of `--kebab-case` flag. */
  flag: string;
  env: string;
}

const SETTINGS = [
  { key: 'name', flag: 'name', env: 'CROSSTOWN_NODE_NAME' },
  { key: 'host', flag: 'host', env: 'CROSSTOWN_NODE_HOST' },
  { key: 'relayPort', flag: 'relayPort', env: 'CROSSTOWN_NODE_RELAY_PORT' },
  { key: 'btpPort', flag: 'btpPort', env: 'CROSSTOWN_NODE_BTP_PORT' },
  { key: 'dataDir', flag: 'dataDir', env: 'CROSSTOWN_NODE_DATA_DIR' },
  { key: 'basePricePerByte', flag: 'basePricePerByte', env: 'CROSSTOWN_NODE_BASE_PRICE_PER_BYTE' },
  { key: 'nostrKeyFile', flag: 'nostrKeyFile', env: 'CROSSTOWN_NODE_NOSTR_KEY_FILE' },
  { key: 'walletKeyFile', flag: 'walletKeyFile', env: 'CROSSTOWN_NODE_WALLET_KEY_FILE' },
  { key: 'chain.rpcUrl', flag: 'rpcUrl', env: 'CROSSTOWN_NODE_RPC_URL' },
  { key: 'chain.chainId', flag: 'chainId', env: 'CROSSTOWN_NODE_CHAIN_ID' },
  { key: 'chain.token', flag: 'token', env: 'CROSSTOWN_NODE_TOKEN' },
  { key: 'chain.channels', flag: 'channels', env: 'CROSSTOWN_NODE_CHANNELS' },
  { key: 'creditLimit', flag: 'creditLimit', env: 'CROSSTOWN_NODE_CREDIT_LIMIT' },
  { key: 'settleThreshold', flag: 'settleThreshold', env: 'CROSSTOWN_NODE_SETTLE_THRESHOLD' },
  { key: 'onChainThreshold', flag: 'onChainThreshold', env: 'CROSSTOWN_NODE_ON_CHAIN_THRESHOLD' },
  { key: 'channelDeposit', flag: 'channelDeposit', env: 'CROSSTOWN_NODE_CHANNEL_DEPOSIT' },
  { key: 'logLevel', flag: 'logLevel', env: 'CROSSTOWN_NODE_LOG_LEVEL' },
  { key: 'databaseUrl', flag: 'databaseUrl', env: 'CROSSTOWN_RELAY_DATABASE_URL' },
  { key: 'tlsCertFile', flag: 'tlsCert', env: 'CROSSTOWN_NODE_TLS_CERT' },
  { key: 'tlsKeyFile', flag: 'tlsKey', env: 'CROSSTOWN_NODE_TLS_KEY' },
  { key: 'verifyThreads', flag: 'verifyThreads', env: 'CROSSTOWN_NODE_VERIFY_THREADS' },
  { key: 'relayPublicUrl', flag: 'relayPublicUrl', env: 'CROSSTOWN_NODE_RELAY_PUBLIC_URL' },
  { key: 'btpPublicUrl', flag: 'btpPublicUrl', env: 'CROSSTOWN_NODE_BTP_PUBLIC_URL' },
  { key: 'unusedPeerTtlSeconds', flag: 'unusedPeerTtl', env: 'CROSSTOWN_NODE_UNUSED_PEER_TTL' },
  { key: 'maxUnusedPeers', flag: 'maxUnusedPeers', env: 'CROSSTOWN_NODE_MAX_UNUSED_PEERS' },
  { key: 'trustedProxies', flag: 'trustedProxies', env: 'CROSSTOWN_NODE_TRUSTED_PROXIES' },
] as const satisfies readonly Setting[];

/** Environment variables holding keys directly (never a flag: flags show in `ps`). */
export const NOSTR_KEY_ENV = 'CROSSTOWN_NODE_NOSTR_KEY';
export const WALLET_KEY_ENV = 'CROSSTOWN_NODE_WALLET_KEY';
export const NODE_CONFIG_ENV = 'CROSSTOWN_NODE_CONFIG';

export interface ResolveNodeConfigOptions {
  flags?: NodeFlags;
  env?: Record<string, string | undefined>;
  /** crosstown.toml path (else $CROSSTOWN_NODE_CONFIG; no file when neither is set). */
  configFile?: string;
}

/** Where crosstown keeps files: $CROSSTOWN_HOME or ~/.crosstown. */
export function crosstownHome(env: Record<string, string | undefined> = process.env): string {
  return env.CROSSTOWN_HOME ?? join(homedir(), '.crosstown');
}

function bad(message: string): never {
  throw new NodeError('BAD_CONFIG', message);
}

function readTable(path: string): Record<string, unknown> {
  if (!existsSync(path))
    bad(`config file ${path} does not exist; pass --config with an existing crosstown.toml`);
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(readFileSync(path, 'utf8'), { integersAsBigInt: true }) as Record<string, unknown>;
  } catch (err) {
    bad(`${path} is not valid TOML: ${(err as Error).message}`);
  }
  const node = doc.node ?? {};
  if (typeof node !== 'object' || node === null || Array.isArray(node))
    bad(`${path}: [node] must be a table`);
  const table = node as Record<string, unknown>;
  for (const forbidden of ['walletKey', 'nostrKey', 'nostrSecretKey', 'privateKey']) {
    if (forbidden in table) {
      bad(
        `${path}: [node] ${forbidden} is not read from the config file; put the key in a 0600 file and set walletKeyFile/nostrKeyFile, or use ${WALLET_KEY_ENV}/${NOSTR_KEY_ENV}`,
      );
    }
  }
  const known = new Set([...SETTINGS.map((s) => s.key.split('.')[0]!), 'peers']);
  for (const k of Object.keys(table)) {
    if (!known.has(k)) bad(`${path}: unknown setting [node] ${k}; known: ${[...known].join(', ')}`);
  }
  return table;
}

function fromTable(table: Record<string, unknown>, key: string): unknown {
  let v: unknown = table;
  for (const part of key.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const amount = (v: unknown, what: string): bigint => {
  const s = typeof v === 'bigint' || typeof v === 'number' ? String(v) : v;
  if (typeof s !== 'string' || !/^\d+$/.test(s)) {
    bad(
      `${what} must be a whole number of base units (e.g. 10000000000000), got ${JSON.stringify(String(v))}`,
    );
  }
  return BigInt(s);
};

const port = (v: unknown, what: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    bad(`${what} must be a port 0-65535 (0: a free port), got ${String(v)}`);
  return n;
};

const address = (v: unknown, what: string): Address => {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(v))
    bad(`${what} must be a 0x-prefixed 20-byte address, got ${String(v)}`);
  return v as Address;
};

/** Reads a hex key (optionally 0x-prefixed) from text; `what` names it in errors, never the value. */
export function parseHexKey(text: string, what: string): Uint8Array {
  const hex = text.trim().replace(/^0x/, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new NodeError('BAD_KEY', `${what} must be 32 bytes of hex (64 hex digits, optionally 0x-prefixed)`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

function readKeyFile(path: string, what: string): Uint8Array {
  if (!existsSync(path)) throw new NodeError('MISSING_KEY', `${what} file ${path} does not exist`);
  return parseHexKey(readFileSync(path, 'utf8'), `${what} in ${path}`);
}

function parsePeers(v: unknown): NodePeerConfig[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) bad('[[node.peers]] must be an array of tables');
  return v.map((p: unknown, i) => {
    const t = p as Record<string, unknown>;
    const where = `[[node.peers]] #${i + 1}`;
    if (typeof t.id !== 'string' || !/^[a-zA-Z0-9_~-]+$/.test(t.id))
      bad(`${where}: id must be one ILP address segment`);
    if (typeof t.authToken !== 'string' || t.authToken.length < 16)
      bad(`${where}: authToken must be a string of at least 16 characters`);
    if (t.url !== undefined && (typeof t.url !== 'string' || !/^(btp\+)?wss?:\/\//.test(t.url)))
      bad(`${where}: url must be btp+ws://, btp+wss://, ws:// or wss://`);
    const routes = t.routes ?? [];
    if (!Array.isArray(routes) || !routes.every((r) => typeof r === 'string' && isValidIlpAddress(r))) {
      bad(`${where}: routes must be a list of ILP address prefixes`);
    }
    return {
      id: t.id,
      authToken: t.authToken,
      routes: routes as string[],
      ...(t.url !== undefined ? { url: t.url as string } : {}),
      ...(t.creditLimit !== undefined ? { creditLimit: amount(t.creditLimit, `${where} creditLimit`) } : {}),
      ...(t.settlementAddress !== undefined
        ? { settlementAddress: address(t.settlementAddress, `${where} settlementAddress`) }
        : {}),
    };
  });
}

/** Signature-verifying worker threads: as configured, else one per core (at most 4): a long-running node pays
 * the workers' start-up once and gets the second core for the most expensive step of a paid write. */
function verifyThreads(v: unknown): number {
  if (v === undefined) return Math.min(availableParallelism(), 4);
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 64)
    bad(`verifyThreads must be a whole number 0-64, got ${String(v)}`);
  return n;
}

function maxUnusedPeers(v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) bad(`maxUnusedPeers must be a whole number >= 1, got ${String(v)}`);
  return n;
}

function unusedPeerTtl(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) bad(`unusedPeerTtlSeconds must be whole seconds >= 1, got ${String(v)}`);
  return n;
}

/**
 * Resolves the node's configuration. Creates the data directory, and a fresh Nostr key in `<dataDir>/nostr.key`
 * (0600) when none is configured, so the node keeps its identity across restarts.
 */
export function resolveNodeConfig(options: ResolveNodeConfigOptions = {}): NodeConfig {
  const env = options.env ?? process.env;
  const flags = options.flags ?? {};
  const file = options.configFile ?? env[NODE_CONFIG_ENV];
  const table = file ? readTable(resolve(file)) : {};
  const raw = (s: (typeof SETTINGS)[number]): unknown => {
    const flag = flags[s.flag];
    if (flag !== undefined) return flag;
    const fromEnv = env[s.env];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    return fromTable(table, s.key);
  };
  const get = (key: (typeof SETTINGS)[number]['key']) => raw(SETTINGS.find((s) => s.key === key)!);

  const name = String(get('name') ?? 'node1');
  const ilpAddress = `g.crosstown.${name}`;
  if (!/^[a-zA-Z0-9_~-]+$/.test(name) || !isValidIlpAddress(ilpAddress)) {
    bad(`node name "${name}" must be one ILP address segment (letters, digits, _ ~ -)`);
  }
  const dataDir = resolve(String(get('dataDir') ?? join(crosstownHome(env), 'nodes', name)));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  const chainMissing = (what: string, flag: string, envName: string): never =>
    bad(
      `${what} is not set: pass --${flag}, set ${envName}, or set [node.chain] in crosstown.toml (crosstown devnet up prints them)`,
    );
  const rpcUrl = get('chain.rpcUrl') ?? chainMissing('chain RPC URL', 'rpc-url', 'CROSSTOWN_NODE_RPC_URL');
  if (typeof rpcUrl !== 'string' || !/^(https?|wss?):\/\//.test(rpcUrl))
    bad(`chain RPC URL must be http(s):// or ws(s)://, got ${String(rpcUrl)}`);
  const chainIdRaw = get('chain.chainId') ?? chainMissing('chain id', 'chain-id', 'CROSSTOWN_NODE_CHAIN_ID');
  const chainId = Number(chainIdRaw);
  if (!Number.isSafeInteger(chainId) || chainId <= 0)
    bad(`chain id must be a positive integer, got ${String(chainIdRaw)}`);
  const token = address(
    get('chain.token') ?? chainMissing('token address', 'token', 'CROSSTOWN_NODE_TOKEN'),
    'token',
  );
  const channels = address(
    get('chain.channels') ?? chainMissing('channel contract address', 'channels', 'CROSSTOWN_NODE_CHANNELS'),
    'channels',
  );

  // Keys: environment (hex) or a file; the Nostr key is generated once when neither is given.
  let nostrSecretKey: Uint8Array;
  const nostrEnv = env[NOSTR_KEY_ENV];
  const nostrFile = get('nostrKeyFile');
  if (nostrEnv) nostrSecretKey = parseHexKey(nostrEnv, NOSTR_KEY_ENV);
  else if (nostrFile !== undefined) nostrSecretKey = readKeyFile(resolve(String(nostrFile)), 'Nostr key');
  else {
    const path = join(dataDir, 'nostr.key');
    if (!existsSync(path)) {
      writeFileSync(path, `${Buffer.from(generateSecretKey()).toString('hex')}\n`, { mode: 0o600 });
      chmodSync(path, 0o600);
    }
    nostrSecretKey = readKeyFile(path, 'Nostr key');
  }
  const walletEnv = env[WALLET_KEY_ENV];
  const walletFile = get('walletKeyFile');
  let wallet: Uint8Array;
  if (walletEnv) wallet = parseHexKey(walletEnv, WALLET_KEY_ENV);
  else if (walletFile !== undefined) wallet = readKeyFile(resolve(String(walletFile)), 'wallet key');
  else {
    throw new NodeError(
      'MISSING_KEY',
      `the node needs a settlement wallet key: set ${WALLET_KEY_ENV} or --wallet-key-file <file with the hex key>`,
    );
  }

  const optionalAmount = (key: Parameters<typeof get>[0], fallback: bigint | undefined) => {
    const v = get(key);
    return v === undefined ? fallback : amount(v, key);
  };
  let logLevel: LogLevel;
  try {
    logLevel = parseLogLevel(String(get('logLevel') ?? 'info'));
  } catch (err) {
    bad((err as Error).message);
  }
  const databaseUrl = get('databaseUrl');
  if (databaseUrl !== undefined && !/^(postgres(ql)?:\/\/|sqlite:)/.test(String(databaseUrl))) {
    bad(
      `database URL must start with postgres://, postgresql:// or sqlite:, got ${String(databaseUrl).split('@').pop()}`,
    );
  }
  const relayPublicUrl = get('relayPublicUrl');
  if (relayPublicUrl !== undefined && !/^wss?:\/\/[^/\s]+/.test(String(relayPublicUrl))) {
    bad(`relay public URL must be a ws:// or wss:// URL, got ${String(relayPublicUrl)}`);
  }
  const btpPublicUrl = get('btpPublicUrl');
  if (btpPublicUrl !== undefined && !/^(btp\+)?wss?:\/\/[^/\s]+/.test(String(btpPublicUrl))) {
    bad(`BTP public URL must be a btp+wss://, btp+ws://, wss:// or ws:// URL, got ${String(btpPublicUrl)}`);
  }
  let trustedProxies: string[] | undefined;
  const proxies = get('trustedProxies');
  if (proxies !== undefined) {
    try {
      trustedProxies = parseTrustedProxies(Array.isArray(proxies) ? proxies.join(',') : String(proxies));
    } catch (err) {
      bad((err as Error).message);
    }
  }
  const tlsCert = get('tlsCertFile');
  const tlsKey = get('tlsKeyFile');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    bad('TLS needs both a certificate and a key: pass --tls-cert and --tls-key (or neither for plain ws://)');
  }
  return {
    name,
    ilpAddress,
    host: String(get('host') ?? '127.0.0.1'),
    relayPort: port(get('relayPort') ?? 7777, 'relayPort'),
    btpPort: port(get('btpPort') ?? 7768, 'btpPort'),
    dataDir,
    basePricePerByte: optionalAmount('basePricePerByte', 10n ** 13n)!,
    nostrSecretKey,
    walletKey: `0x${Buffer.from(wallet).toString('hex')}`,
    chain: { rpcUrl, chainId, token, channels },
    creditLimit: optionalAmount('creditLimit', M2M)!,
    settleThreshold: optionalAmount('settleThreshold', 0n)!,
    onChainThreshold: optionalAmount('onChainThreshold', undefined),
    channelDeposit: optionalAmount('channelDeposit', 10n * M2M)!,
    peers: parsePeers(table.peers),
    logLevel,
    databaseUrl: databaseUrl === undefined ? undefined : String(databaseUrl),
    verifyThreads: verifyThreads(get('verifyThreads')),
    ...(relayPublicUrl !== undefined ? { relayPublicUrl: String(relayPublicUrl) } : {}),
    ...(btpPublicUrl !== undefined ? { btpPublicUrl: String(btpPublicUrl).replace(/\/+$/, '') } : {}),
    ...(trustedProxies?.length ? { trustedProxies } : {}),
    ...(get('unusedPeerTtlSeconds') !== undefined
      ? { unusedPeerTtlSeconds: unusedPeerTtl(get('unusedPeerTtlSeconds')) }
      : {}),
    ...(get('maxUnusedPeers') !== undefined ? { maxUnusedPeers: maxUnusedPeers(get('maxUnusedPeers')) } : {}),
    tls:
      tlsCert === undefined
        ? undefined
        : { certPath: resolve(String(tlsCert)), keyPath: resolve(String(tlsKey)) },
  };
}
