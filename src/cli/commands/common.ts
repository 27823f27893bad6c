// What several commands share: the standard options, turning library errors into exit codes, and the
// chain/wallet context (network, RPC, token, channel contract, key) resolved from configuration. viem and the
// chain module load only when a command resolves a chain context: commands that read local state start fast.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import type { Address, Hex } from 'viem';
import { ChainError } from '../../chain/chain-error.js';
import type { ChainClients, ChainPublicClient, Network } from '../../chain/index.js';
import { AuditError } from '../../mayor/audit/index.js';
import { ConfigError, type MayorConfig, resolveConfig } from '../../mayor/config/index.js';
import { isEvmAddress } from '../../mayor/keystore/evm-address.js';
import { KeystoreError, keyInfo, resolveWalletKey, type WalletKey } from '../../mayor/keystore/index.js';
import { StateError } from '../../mayor/state/index.js';
import { CliError, EXIT_CODES_HELP, ExitCode, note, type OutputFormat, parseFormat } from '../output.js';
import { closePrompts, readPassphrase } from '../prompt.js';

/** Options every command accepts (commander camel-cases them). */
export interface BaseOptions {
  format: OutputFormat;
  yes: boolean;
  home?: string;
  name?: string;
}

export interface ChainOptions extends BaseOptions {
  network?: string;
  rpcUrl?: string;
  allowMainnet?: boolean;
  token?: string;
  channels?: string;
  passphraseFile?: string;
}

export function addFormat(cmd: Command, formats = 'text | json | csv'): Command {
  return cmd.option('--format <format>', `output: ${formats}`, parseFormat, 'text' as OutputFormat);
}

/** --format, --yes, --home, --name: on every data command. */
export function addBase(cmd: Command): Command {
  return addFormat(cmd)
    .option('-y, --yes', 'non-interactive: never prompt; fail (exit 2) where a prompt would be needed', false)
    .option('--home <dir>', 'crosstown home (default $CROSSTOWN_HOME or ~/.crosstown)')
    .option('--name <mayor>', 'Mayor name (default $CROSSTOWN_MAYOR_NAME or "mayor")');
}

/** Network, RPC and contract flags for commands that touch the chain. */
export function addChain(cmd: Command): Command {
  return addBase(cmd)
    .addOption(new Option('--network <name>', 'devnet | base-sepolia | base (mainnet)'))
    .option('--rpc-url <url>', 'JSON-RPC endpoint (default: the network default or the running devnet)')
    .option('--allow-mainnet', 'allow network "base" (real money)', false)
    .option('--token <address>', 'M2M token contract (env CROSSTOWN_TOKEN; devnet: from devnet.json)')
    .option(
      '--channels <address>',
      'PaymentChannels contract (env CROSSTOWN_CHANNELS; devnet: from devnet.json)',
    )
    .option(
      '--passphrase-file <file>',
      'read the keystore passphrase from this file (env CROSSTOWN_PASSPHRASE_FILE)',
    );
}

/** `Example:` block plus the exit codes, appended to a command's --help. */
export function helpExamples(cmd: Command, lines: string[], extra = ''): Command {
  return cmd.addHelpText(
    'after',
    `${extra ? `\n${extra}\n` : ''}
Example:
${lines.map((l) => `  $ ${l}`).join('\n')}

${EXIT_CODES_HELP}`,
  );
}

const NO_GAS =
  'the wallet has no ETH to pay for gas: on the devnet run `crosstown devnet fund`; on Base Sepolia get testnet ETH from a faucet, then try again';

/** A wallet without ETH shows up as "insufficient funds" deep inside an RPC error: say what it means. */
function isNoGas(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if ((e as { code?: unknown }).code === 'INSUFFICIENT_FUNDS') return true;
    if (/insufficient funds for gas|InsufficientFundsError/i.test(`${e.name} ${e.message}`)) return true;
  }
  return false;
}

/** Maps an error from a library to a CliError with the exit code scripts rely on. */
export function toCliError(err: unknown): unknown {
  if (err instanceof CliError) return err;
  if (isNoGas(err)) return new CliError(NO_GAS, ExitCode.Refused);
  if (err instanceof ConfigError) {
    return new CliError(err.message, err.code === 'BAD_FILE' ? ExitCode.Failure : ExitCode.Usage);
  }
  if (err instanceof KeystoreError) {
    const usage = err.code === 'PASSPHRASE_REQUIRED' || err.code === 'INVALID_KEY';
    return new CliError(err.message, usage ? ExitCode.Usage : ExitCode.Failure);
  }
  if (err instanceof AuditError) {
    return new CliError(err.message, err.code === 'INVALID_RANGE' ? ExitCode.Usage : ExitCode.Failure);
  }
  if (err instanceof StateError) {
    if (err.code === 'REPO_LOCKED') {
      return new CliError(
        `${err.message} (a running Mayor holds the state repository: stop it, or use its dashboard)`,
        ExitCode.Unavailable,
      );
    }
    return new CliError(err.message, ExitCode.Failure);
  }
  if (err instanceof ChainError) {
    const chainErr = err;
    if (chainErr.code === 'RPC_ERROR') {
      return new CliError(
        `${chainErr.message} (is the chain reachable? start it with \`crosstown devnet up\` or check --rpc-url)`,
        ExitCode.Unavailable,
      );
    }
    if (chainErr.code === 'MAINNET_NOT_ALLOWED' || chainErr.code === 'UNKNOWN_NETWORK') {
      return new CliError(chainErr.message, ExitCode.Usage);
    }
    if (chainErr.code === 'ERC20InsufficientBalance') return new CliError(chainErr.message, ExitCode.Refused);
    return new CliError(chainErr.message, ExitCode.Failure);
  }
  if (err instanceof Error && err.name === 'MayorError') {
    const code = (err as { code?: string }).code ?? '';
    const exit = ['PRICE_TOO_HIGH', 'DEPOSIT_TOO_HIGH'].includes(code)
      ? ExitCode.Refused
      : [
            'RELAY_UNAVAILABLE',
            'RELAY_REFUSED',
            'SPSP_TIMEOUT',
            'NODE_UNKNOWN',
            'NOT_ATTACHED',
            'POST_REJECTED',
            'PAYMENT_REJECTED',
          ].includes(code)
        ? ExitCode.Unavailable
        : ['JOB_UNKNOWN', 'BAD_OPTIONS'].includes(code)
          ? ExitCode.Usage
          : ExitCode.Failure;
    return new CliError(err.message, exit);
  }
  // Other typed library errors (SkillError, …) carry a message written for people: print it without a stack.
  if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && !('errno' in err)) {
    return new CliError(err.message, ExitCode.Failure);
  }
  return err;
}

/** A viem error (it carries `shortMessage`) becomes a ChainError; viem is loaded already when one was thrown. */
async function decodeViemError(err: unknown): Promise<unknown> {
  if (
    err instanceof ChainError ||
    !(err instanceof Error && err.name.endsWith('Error') && 'shortMessage' in err)
  )
    return err;
  const { toChainError } = await import('../../chain/errors.js');
  return toChainError(err, 'chain call');
}

/** Wraps a commander action so library errors end as one clear line and the right exit code. */
export function run<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      throw toCliError(await decodeViemError(err));
    } finally {
      closePrompts();
    }
  };
}

/** Flags that are configuration settings, in the shape resolveConfig takes. */
export function configFlags(o: Partial<ChainOptions>): Record<string, string | boolean | undefined> {
  return {
    home: o.home,
    name: o.name,
    network: o.network,
    'rpc-url': o.rpcUrl,
    'allow-mainnet': o.allowMainnet ? true : undefined,
  };
}

export function loadConfig(o: Partial<ChainOptions>): MayorConfig {
  return resolveConfig({ flags: configFlags(o) }).values;
}

/** The fields of $CROSSTOWN_HOME/devnet.json (written by `crosstown devnet up`) that the CLI needs. */
interface DevnetEndpoints {
  rpcUrl: string;
  chainId: number;
  token: Address;
  channels: Address;
  deployBlock?: string;
  node?: { settlementAddress?: Address };
}

function readDevnet(home: string): DevnetEndpoints | undefined {
  const file = join(home, 'devnet.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DevnetEndpoints;
  } catch {
    return undefined;
  }
}

interface ChainModules {
  viem: typeof import('viem');
  chain: typeof import('../../chain/index.js');
}
let chainModules: ChainModules | undefined;

async function loadChainModules(): Promise<ChainModules> {
  if (!chainModules) {
    const [viem, chain] = await Promise.all([import('viem'), import('../../chain/index.js')]);
    chainModules = { viem, chain };
  }
  return chainModules;
}

/** The chain modules for the synchronous helpers below: chainContext() loaded them (a ChainContext proves it). */
function loadedChainModules(): ChainModules {
  if (!chainModules) throw new Error('internal: chainContext() must run before the chain helpers');
  return chainModules;
}

/**
 * The token and channel contract configured for this network (flags > env > devnet.json): what a Mayor's SPSP
 * answer must name before it deposits anything (src/mayor/runtime/settlement-terms.ts).
 */
export function configuredContracts(
  o: Partial<ChainOptions>,
  config: MayorConfig,
): { token?: Address; channelContract?: Address } {
  const devnet = config.network === 'devnet' ? readDevnet(config.home) : undefined;
  const token = addressOption(o.token ?? process.env.CROSSTOWN_TOKEN, 'token') ?? devnet?.token;
  const channels =
    addressOption(o.channels ?? process.env.CROSSTOWN_CHANNELS, 'channels') ?? devnet?.channels;
  return { ...(token ? { token } : {}), ...(channels ? { channelContract: channels } : {}) };
}

function addressOption(value: string | undefined, what: string): Address | undefined {
  if (value === undefined || value === '') return undefined;
  if (!isEvmAddress(value))
    throw new CliError(`${what} "${value}" is not a 0x address (40 hex digits)`, ExitCode.Usage);
  return value;
}

export interface ChainContext {
  config: MayorConfig;
  network: Network & { rpcUrl: string };
  /** Shown at the top of text output: the network is always visible. */
  banner: string;
  token: Address | undefined;
  channels: Address | undefined;
  /** Where event scans start (the devnet's deploy block; 0 otherwise). */
  fromBlock: bigint;
  /** The devnet node's settlement address: the default channel receiver on the devnet. */
  defaultReceiver: Address | undefined;
}

/** Resolves network, RPC, chain id and contracts: flags > env > crosstown.toml > devnet.json > network defaults. */
export async function chainContext(o: ChainOptions): Promise<ChainContext> {
  const config = loadConfig(o);
  const { viem, chain } = await loadChainModules();
  const devnet = config.network === 'devnet' ? readDevnet(config.home) : undefined;
  const env = process.env;
  const token = addressOption(o.token ?? env.CROSSTOWN_TOKEN, 'token') ?? devnet?.token;
  const channels = addressOption(o.channels ?? env.CROSSTOWN_CHANNELS, 'channels') ?? devnet?.channels;
  const base = chain.resolveNetwork(config.network, {
    allowMainnet: config.allowMainnet,
    ...(config.rpcUrl ? { rpcUrl: config.rpcUrl } : devnet ? { rpcUrl: devnet.rpcUrl } : {}),
    ...(token ? { token } : {}),
    ...(channels ? { channels } : {}),
  });
  const rpcUrl = base.rpcUrl;
  if (rpcUrl === undefined) {
    throw new CliError(
      'no devnet chain is known: start one with `crosstown devnet up`, or pass --rpc-url (and --token/--channels)',
      ExitCode.Unavailable,
    );
  }
  let chainId = base.chainId;
  if (base.local) {
    // anvil may run with any chain id: ask it (this also checks that it is reachable).
    try {
      chainId = await viem
        .createPublicClient({ transport: viem.http(rpcUrl, { retryCount: 0 }) })
        .getChainId();
    } catch (err) {
      throw new CliError(
        `no chain answers at ${rpcUrl} (${chain.toChainError(err, 'eth_chainId').message}): start it with \`crosstown devnet up\` or fix --rpc-url`,
        ExitCode.Unavailable,
      );
    }
  }
  const network = { ...base, chainId, rpcUrl };
  return {
    config,
    network,
    banner: `Network: ${network.name} (chain ${chainId}${network.mainnet ? ', MAINNET: real money' : ''}) via ${rpcUrl}`,
    token: network.token,
    channels: network.channels,
    fromBlock: devnet?.deployBlock ? BigInt(devnet.deployBlock) : 0n,
    defaultReceiver: devnet?.node?.settlementAddress,
  };
}

export function need<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw new CliError(message, ExitCode.Usage);
  return value;
}

export const needToken = (c: ChainContext): Address =>
  need(
    c.token,
    `the M2M token address on ${c.network.name} is not known: pass --token or set CROSSTOWN_TOKEN`,
  );
export const needChannels = (c: ChainContext): Address =>
  need(
    c.channels,
    `the PaymentChannels contract on ${c.network.name} is not known: pass --channels or set CROSSTOWN_CHANNELS`,
  );

/** The wallet address without unlocking anything: the keystore's public part, else GASTOWN_WALLET_ADDRESS. */
export function walletAddress(config: MayorConfig): Address {
  const info = keyInfo(config.keystoreDir, 'wallet');
  const address = info?.public ?? config.walletAddress;
  if (!address) {
    throw new CliError(
      `no wallet is configured (no key in ${config.keystoreDir}): run \`crosstown wallet configure\``,
      ExitCode.Failure,
    );
  }
  return address as Address;
}

/** Unlocks the wallet key (prompting for the passphrase when the keystore holds it). */
export async function unlockWallet(
  config: MayorConfig,
  o: { passphraseFile?: string; yes: boolean },
): Promise<WalletKey> {
  const encrypted = keyInfo(config.keystoreDir, 'wallet') !== undefined;
  const passphrase = encrypted
    ? await readPassphrase({ passphraseFile: o.passphraseFile, yes: o.yes })
    : undefined;
  return resolveWalletKey({
    dir: config.keystoreDir,
    ...(passphrase !== undefined ? { passphrase } : {}),
    env: { ...process.env, GASTOWN_ALLOW_UNENCRYPTED_KEYS: config.allowUnencryptedKeys ? 'true' : 'false' },
    onWarning: note,
  });
}

export function clientsFor(ctx: ChainContext, key: WalletKey): ChainClients {
  return loadedChainModules().chain.createChainClients({
    rpcUrl: ctx.network.rpcUrl,
    chainId: ctx.network.chainId,
    privateKey: `0x${Buffer.from(key.secretKey).toString('hex')}` as Hex,
  });
}

/** A read-only client (balances, channel state) for the resolved network. */
export function publicClientFor(ctx: ChainContext): ChainPublicClient {
  const { viem, chain } = loadedChainModules();
  return viem.createPublicClient({
    chain: chain.chainFor(ctx.network.chainId, ctx.network.rpcUrl),
    transport: viem.http(ctx.network.rpcUrl, { retryCount: ctx.network.local ? 0 : 3 }),
    pollingInterval: ctx.network.local ? 25 : 2000,
  });
}
