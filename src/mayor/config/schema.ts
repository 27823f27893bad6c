// Every setting of the Mayor: its key (crosstown.toml, `crosstown config`, `--flag`), environment
// variable, type, default and which sources may set it. Priority: flag > environment > file > default.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { NetworkName } from '../../chain/networks.js';
import { parseM2M } from '../../chain/units.js';
import {
  addressType,
  amountType,
  boolType,
  enumType,
  listType,
  nameType,
  pathType,
  secondsType,
  stringType,
  urlType,
  type ValueType,
  wholeNumberType,
} from './values.js';

export type ConfigSource = 'flag' | 'env' | 'file' | 'default';
export type SandboxMode = 'auto' | 'bwrap' | 'docker' | 'none';

export interface ProviderConfig {
  /** Serve jobs for other Mayors. */
  enabled: boolean;
  /** Job types (`t` tags) served, e.g. ci-cd-linux. */
  jobTypes: string[];
  /** Price asked per job, base units. */
  price: bigint;
  /** auto: bwrap or Docker when available; none needs this explicit choice (DESIGN §5). */
  sandbox: SandboxMode;
}

/** The resolved configuration. Amounts are bigint base units (18 decimals). */
export interface MayorConfig {
  /** Root of everything crosstown keeps on disk (default ~/.crosstown). */
  home: string;
  /** The Mayor's name: its state lives in `<home>/<name>/`. */
  name: string;
  /** The crosstown.toml in use. */
  config: string;
  stateDir: string;
  keystoreDir: string;
  network: NetworkName;
  allowMainnet: boolean;
  /** RPC endpoint override (the network's default when unset). */
  rpcUrl: string | undefined;
  relayUrls: string[];
  connectorBtp: string | undefined;
  /** PEM file of a private CA that relays' and the connector's wss:// certificates are checked against. */
  tlsCaFile: string | undefined;
  walletAddress: string | undefined;
  allowUnencryptedKeys: boolean;
  lowBalanceThreshold: bigint;
  maxChannelDeposit: bigint;
  defaultDeposit: bigint;
  /** Refuse relays that charge more than this per byte. */
  maxBasePricePerByte: bigint;
  jobTimeoutSeconds: number;
  /** A public job a provider refused busy is re-posted after this (doubling for each further copy). */
  busyRetryDelaySeconds: number;
  /** Copies re-posted for one job before a busy answer fails it. */
  busyMaxReposts: number;
  skillsDir: string;
  agentCommand: string;
  provider: ProviderConfig;
}

export interface SettingDef {
  /** Key in crosstown.toml (dotted for tables: provider.price), for `config get/set` and `--<key>`. */
  key: string;
  /** Property path in MayorConfig. */
  field: string;
  /** What the value is, in words, for error messages ("relay url"). */
  label: string;
  description: string;
  type: ValueType<unknown>;
  env?: string;
  /** Sources that may set it (default: all). */
  sources?: readonly ConfigSource[];
  /** Default; may depend on settings listed before it. */
  default: (resolved: Record<string, unknown>) => unknown;
  /** A valid value, as typed, for hints. */
  example: string;
}

const home = () => homedir();
const M = (text: string) => parseM2M(text);

function setting<T>(
  d: Omit<SettingDef, 'type' | 'default'> & {
    type: ValueType<T>;
    default: (r: Record<string, unknown>) => T;
  },
): SettingDef {
  return d as unknown as SettingDef;
}

/** In resolution order: a default may only read settings above it. */
export const SETTINGS: readonly SettingDef[] = [
  setting({
    key: 'home',
    field: 'home',
    label: 'crosstown home',
    description: 'Directory of all crosstown data (config file, Mayor state, keys).',
    type: pathType(home),
    env: 'CROSSTOWN_HOME',
    sources: ['flag', 'env', 'default'],
    default: () => join(homedir(), '.crosstown'),
    example: '~/.crosstown',
  }),
  setting({
    key: 'name',
    field: 'name',
    label: 'mayor name',
    description: "The Mayor's name; its state repository is <home>/<name>/.",
    type: nameType,
    env: 'CROSSTOWN_MAYOR_NAME',
    // The name chooses the config file, so it cannot come from one.
    sources: ['flag', 'env', 'default'],
    default: () => 'mayor',
    example: 'mayor-001',
  }),
  setting({
    key: 'config',
    field: 'config',
    label: 'config file',
    description: "This Mayor's settings file: crosstown.toml (Mayor 'mayor') or crosstown.<name>.toml.",
    type: pathType(home),
    env: 'CROSSTOWN_CONFIG',
    sources: ['flag', 'env', 'default'],
    // Each Mayor has its own settings (provider mode for one must not turn another into a provider): the
    // default Mayor's are in crosstown.toml, Mayor <name>'s in crosstown.<name>.toml.
    default: (r) =>
      join(r.home as string, r.name === 'mayor' ? 'crosstown.toml' : `crosstown.${r.name as string}.toml`),
    example: '~/.crosstown/crosstown.toml',
  }),
  setting({
    key: 'state-dir',
    field: 'stateDir',
    label: 'state directory',
    description: 'Git repository of the Mayor state (jobs, chains, channels, payment log).',
    type: pathType(home),
    env: 'CROSSTOWN_STATE_DIR',
    default: (r) => join(r.home as string, r.name as string),
    example: '~/.crosstown/mayor',
  }),
  setting({
    key: 'keystore-dir',
    field: 'keystoreDir',
    label: 'keystore directory',
    description: 'Encrypted key files (wallet.json, nostr.json); kept outside the state repository.',
    type: pathType(home),
    env: 'CROSSTOWN_KEYSTORE_DIR',
    default: (r) => join(r.home as string, 'keys', r.name as string),
    example: '~/.crosstown/keys/mayor',
  }),
  setting({
    key: 'network',
    field: 'network',
    label: 'network',
    description:
      'Settlement chain: devnet (local anvil), base-sepolia, or base (mainnet, needs --allow-mainnet).',
    type: enumType(['devnet', 'base-sepolia', 'base'] as const),
    env: 'CROSSTOWN_NETWORK',
    default: () => 'devnet',
    example: 'base-sepolia',
  }),
  setting({
    key: 'allow-mainnet',
    field: 'allowMainnet',
    label: 'allow mainnet',
    description: 'Allow network = base (real money). Only a command-line flag can set it.',
    type: boolType,
    sources: ['flag', 'default'],
    default: () => false,
    example: 'true',
  }),
  setting({
    key: 'rpc-url',
    field: 'rpcUrl',
    label: 'RPC url',
    description:
      'JSON-RPC endpoint of the chain (default: the network default, e.g. https://sepolia.base.org).',
    type: urlType(['http:', 'https:'], 'an http:// or https:// URL'),
    env: 'GASTOWN_BASE_SEPOLIA_RPC',
    default: () => undefined,
    example: 'https://sepolia.base.org',
  }),
  setting({
    key: 'relay-urls',
    field: 'relayUrls',
    label: 'relay url',
    description: 'Relays to post to and subscribe on (comma-separated in flags and environment).',
    type: listType(urlType(['ws:', 'wss:'], 'a ws:// or wss:// URL')),
    env: 'CROSSTOWN_RELAY_URL',
    default: () => [],
    example: 'ws://127.0.0.1:7777',
  }),
  setting({
    key: 'connector-btp',
    field: 'connectorBtp',
    label: 'connector BTP url',
    description: 'The ILP connector to peer with over BTP.',
    type: urlType(['btp+ws:', 'btp+wss:', 'ws:', 'wss:'], 'a btp+ws://, btp+wss://, ws:// or wss:// URL'),
    env: 'CROSSTOWN_CONNECTOR_BTP',
    default: () => undefined,
    example: 'btp+ws://127.0.0.1:3000',
  }),
  setting({
    key: 'tls-ca-file',
    field: 'tlsCaFile',
    label: 'TLS CA file',
    description:
      "PEM file of the CA that signed the relays' and the connector's wss:// certificates (a private network); default: the system CA store.",
    type: pathType(home),
    env: 'CROSSTOWN_TLS_CA_FILE',
    default: () => undefined,
    example: '~/.crosstown/ca.pem',
  }),
  setting({
    key: 'wallet-address',
    field: 'walletAddress',
    label: 'wallet address',
    description: 'Expected wallet address; the key in use must match it.',
    type: addressType,
    env: 'GASTOWN_WALLET_ADDRESS',
    default: () => undefined,
    example: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  }),
  setting({
    key: 'allow-unencrypted-keys',
    field: 'allowUnencryptedKeys',
    label: 'allow unencrypted keys',
    description: 'Use a plaintext GASTOWN_WALLET_PRIVATE_KEY (warned loudly). Not settable in the file.',
    type: boolType,
    env: 'GASTOWN_ALLOW_UNENCRYPTED_KEYS',
    sources: ['flag', 'env', 'default'],
    default: () => false,
    example: 'true',
  }),
  setting({
    key: 'low-balance-threshold',
    field: 'lowBalanceThreshold',
    label: 'low balance threshold',
    description: 'Warn when the channel balance drops below this many M2M.',
    type: amountType,
    env: 'CROSSTOWN_LOW_BALANCE_THRESHOLD',
    default: () => M('10'),
    example: '10',
  }),
  setting({
    key: 'max-channel-deposit',
    field: 'maxChannelDeposit',
    label: 'max channel deposit',
    description: 'Never deposit more than this many M2M into one channel.',
    type: amountType,
    env: 'CROSSTOWN_MAX_CHANNEL_DEPOSIT',
    default: () => M('100'),
    example: '100',
  }),
  setting({
    key: 'default-deposit',
    field: 'defaultDeposit',
    label: 'default deposit',
    description: 'M2M deposited when a channel is opened.',
    type: amountType,
    env: 'CROSSTOWN_DEFAULT_DEPOSIT',
    default: () => M('50'),
    example: '50',
  }),
  setting({
    key: 'max-base-price-per-byte',
    field: 'maxBasePricePerByte',
    label: 'max base price per byte',
    description: 'Refuse relays whose basePricePerByte is above this (M2M per byte).',
    type: amountType,
    env: 'CROSSTOWN_MAX_BASE_PRICE_PER_BYTE',
    default: () => M('0.0001'),
    example: '0.0001',
  }),
  setting({
    key: 'job-timeout',
    field: 'jobTimeoutSeconds',
    label: 'job timeout',
    description: 'Seconds to wait for a job result before the job fails.',
    type: secondsType(1, 7 * 86_400),
    env: 'CROSSTOWN_JOB_TIMEOUT',
    default: () => 300,
    example: '300',
  }),
  setting({
    key: 'busy-retry-delay',
    field: 'busyRetryDelaySeconds',
    label: 'busy retry delay',
    description:
      'Seconds before a public job a provider refused as busy is re-posted (doubling for each further copy).',
    type: secondsType(1, 86_400),
    env: 'CROSSTOWN_BUSY_RETRY_DELAY',
    default: () => 30,
    example: '30',
  }),
  setting({
    key: 'busy-max-reposts',
    field: 'busyMaxReposts',
    label: 'busy max reposts',
    description: 'Copies of a job re-posted after busy answers before the job fails (0: fail at once).',
    type: wholeNumberType('a whole number', 0, 10),
    env: 'CROSSTOWN_BUSY_MAX_REPOSTS',
    default: () => 2,
    example: '2',
  }),
  setting({
    key: 'skills-dir',
    field: 'skillsDir',
    label: 'skills directory',
    description: 'Agent skill files (*.md) that declare the kinds they handle.',
    type: pathType(home),
    env: 'CROSSTOWN_SKILLS_DIR',
    default: () => '.claude/skills',
    example: '.claude/skills',
  }),
  setting({
    key: 'agent-command',
    field: 'agentCommand',
    label: 'agent command',
    description: 'Command that runs an agent skill (it receives the raw TOON payload).',
    type: stringType('a command'),
    env: 'CROSSTOWN_AGENT_COMMAND',
    default: () => 'claude',
    example: 'claude',
  }),
  setting({
    key: 'provider.enabled',
    field: 'provider.enabled',
    label: 'provider mode',
    description: 'Serve jobs for other Mayors.',
    type: boolType,
    env: 'CROSSTOWN_PROVIDER',
    default: () => false,
    example: 'true',
  }),
  setting({
    key: 'provider.job-types',
    field: 'provider.jobTypes',
    label: 'provider job type',
    description: 'Job types served (t tags), comma-separated in flags and environment.',
    type: listType(stringType('a job type')),
    env: 'CROSSTOWN_PROVIDER_JOB_TYPES',
    default: () => [],
    example: 'ci-cd-linux,docker-build-amd64',
  }),
  setting({
    key: 'provider.price',
    field: 'provider.price',
    label: 'provider price',
    // The provider pays the relay for its result (about 5 kB with logs: 0.05 M2M at the devnet's price), so the
    // default asks more than that; `mayor start` warns when the price is below the expected write fees.
    description: 'M2M asked per job served (must cover the result write fee, about 0.05 M2M on the devnet).',
    type: amountType,
    env: 'CROSSTOWN_PROVIDER_PRICE',
    default: () => M('0.1'),
    example: '0.1',
  }),
  setting({
    key: 'provider.sandbox',
    field: 'provider.sandbox',
    label: 'provider sandbox',
    description: 'auto (bwrap or Docker when available), bwrap, docker, or none (runs jobs unconfined).',
    type: enumType(['auto', 'bwrap', 'docker', 'none'] as const),
    env: 'CROSSTOWN_PROVIDER_SANDBOX',
    default: () => 'auto',
    example: 'auto',
  }),
];

export const SETTING_KEYS: readonly string[] = SETTINGS.map((s) => s.key);

export function settingFor(keyOrField: string): SettingDef | undefined {
  return SETTINGS.find((s) => s.key === keyOrField || s.field === keyOrField);
}
