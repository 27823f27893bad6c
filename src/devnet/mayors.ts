// The devnet with its two Mayors running (DESIGN §6, issue 9): Mayor-Alpha, a requester, and Mayor-Beta, a
// provider of `ci-cd-linux` jobs, both started in this process with startMayor, each with its own home (state
// repo, provider work repo) and a funded wallet; each opens its channel to the node when it attaches.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../mayor/config/index.js';
import { expectedSettlementFor, type Mayor, startMayor } from '../mayor/runtime/index.js';
import type { Skill, SkillLogger } from '../skills/types.js';
import { type Devnet, type DevnetInfo, devnetInfo, type StartDevnetOptions, startDevnet } from './devnet.js';

/** Mayor-Beta's price per ci-cd-linux job: 0.1 M2M (it covers its own result write, ~0.05 M2M with logs). */
export const BETA_PRICE = 10n ** 17n;
/** Channel deposit each Mayor opens to the node: 50 M2M, as in the journeys. */
export const MAYOR_DEPOSIT = 50n * 10n ** 18n;

/** A running Mayor of the devnet, JSON-friendly (what `devnet up` prints). */
export interface RunningMayorInfo {
  name: string;
  /** "Mayor-Alpha", "Mayor-Beta". */
  label: string;
  role: 'requester' | 'provider';
  pubkey: string;
  ilpAddress: string;
  walletAddress: string;
  /** CROSSTOWN_HOME of this Mayor; its state repo is `stateDir`. */
  home: string;
  stateDir: string;
  /** Its channel to the node (opened on attach). */
  channelId: string;
  channelDeposit: string;
  /** Provider only: what it serves, at what price, in which sandbox. */
  jobTypes?: string[];
  price?: string;
  sandbox?: string;
}

export interface DevnetWithMayorsInfo extends DevnetInfo {
  /** Directory holding both Mayors' homes. */
  mayorsHome: string;
  running: { alpha: RunningMayorInfo; beta: RunningMayorInfo };
}

export interface DevnetWithMayors extends Devnet {
  alpha: Mayor;
  beta: Mayor;
  mayorsHome: string;
  running: { alpha: RunningMayorInfo; beta: RunningMayorInfo };
}

export interface StartDevnetWithMayorsOptions extends Omit<StartDevnetOptions, 'mayors'> {
  /**
   * Where the Mayors' homes go (`<home>/alpha`, `<home>/beta`). An explicit home is emptied first: state from
   * an earlier devnet names channels on a chain that no longer exists. Default: a temporary directory that
   * stop() removes.
   */
  home?: string;
  /** Mayor-Beta's sandbox: 'auto' (default: bwrap when it works here) or 'none'. */
  betaSandbox?: 'auto' | 'none';
  /**
   * The operator's permission for Mayor-Beta to run Mayor-Alpha's jobs without a sandbox when it has none
   * (policy `trustedRequesters: [alpha]`). The demo grants it for its own job; `devnet up` does not.
   */
  trustAlphaUnsandboxed?: boolean;
  /** Mayor-Beta's price per ci-cd-linux job (default 0.002 M2M). */
  betaPrice?: bigint;
  /** Both Mayors' logs (default: nothing printed). */
  mayorLogger?: SkillLogger;
  /** Skills Mayor-Alpha has besides the built-ins (the demo's counted callback). */
  alphaSkills?: Skill[];
}

const quiet: SkillLogger = { debug() {}, info() {}, warn() {}, error() {} };

export async function startDevnetWithMayors(
  options: StartDevnetWithMayorsOptions = {},
): Promise<DevnetWithMayors> {
  const ownHome = options.home === undefined;
  const mayorsHome = options.home ?? mkdtempSync(join(tmpdir(), 'crosstown-mayors-'));
  if (!ownHome) rmSync(mayorsHome, { recursive: true, force: true });
  const {
    home: _h,
    betaSandbox,
    trustAlphaUnsandboxed,
    betaPrice,
    mayorLogger,
    alphaSkills,
    ...devnetOptions
  } = options;
  const net = await startDevnet({ ...devnetOptions, mayors: ['alpha', 'beta'] });
  const log = mayorLogger ?? quiet;
  const started: Mayor[] = [];
  // net.stop is replaced below by one that stops the Mayors first; keep the node + anvil one.
  const stopNet = net.stop.bind(net);
  const cleanup = async () => {
    for (const m of started.reverse()) await m.stop().catch(() => {});
    await stopNet();
    if (ownHome) rmSync(mayorsHome, { recursive: true, force: true });
  };

  const configFor = (name: string, extra: Record<string, string> = {}) => {
    const home = join(mayorsHome, name);
    mkdirSync(home, { recursive: true, mode: 0o700 });
    return resolveConfig({
      // Only these settings: the operator's own environment (CROSSTOWN_RELAY_URL, a crosstown.toml in
      // ~/.crosstown) must not point the devnet's Mayors somewhere else.
      env: {
        CROSSTOWN_HOME: home,
        CROSSTOWN_MAYOR_NAME: name,
        CROSSTOWN_STATE_DIR: join(home, 'state'),
        CROSSTOWN_NETWORK: 'devnet',
        CROSSTOWN_RELAY_URL: net.relayUrl,
        GASTOWN_BASE_SEPOLIA_RPC: net.rpcUrl,
        CROSSTOWN_CONNECTOR_BTP: net.btpUrl,
        CROSSTOWN_DEFAULT_DEPOSIT: '50',
        ...extra,
      },
    }).values;
  };
  const keyOf = (hex: string) => new Uint8Array(Buffer.from(hex.replace(/^0x/, ''), 'hex'));

  // The devnet's own contracts: an SPSP answer naming others is refused before any deposit.
  const expectedSettlement = expectedSettlementFor('devnet', {
    chainId: net.chainId,
    token: net.token,
    channelContract: net.channels,
  });
  try {
    const a = net.mayors.alpha!;
    const b = net.mayors.beta!;
    const price = betaPrice ?? BETA_PRICE;
    // Beta first: its job subscription is live before Alpha can post anything.
    const beta = await startMayor({
      config: configFor('beta', {
        CROSSTOWN_PROVIDER: 'true',
        CROSSTOWN_PROVIDER_JOB_TYPES: 'ci-cd-linux',
      }),
      walletKey: b.walletPrivateKey,
      nostrSecretKey: keyOf(b.nostrSecretKey),
      nodePubkey: net.node.pubkey,
      expectedSettlement,
      logger: log,
      provider: {
        enabled: true,
        prices: { 'ci-cd-linux': price },
        sandbox: betaSandbox ?? 'auto',
        poolSize: 2,
        timeoutMs: 120_000,
        ...(trustAlphaUnsandboxed && { policy: { trustedRequesters: [a.nostrPubkey] } }),
      },
    });
    started.push(beta);
    const alpha = await startMayor({
      config: configFor('alpha'),
      walletKey: a.walletPrivateKey,
      nostrSecretKey: keyOf(a.nostrSecretKey),
      nodePubkey: net.node.pubkey,
      expectedSettlement,
      logger: log,
      ...(alphaSkills && { skills: alphaSkills }),
    });
    started.push(alpha);

    const describe = (m: Mayor, name: 'alpha' | 'beta'): RunningMayorInfo => {
      const att = m.attachment();
      if (!att) throw new Error(`Mayor-${name} did not attach to the node`);
      const channel = att.channel();
      const provider = m.provider();
      const home = join(mayorsHome, name);
      return {
        name,
        label: name === 'alpha' ? 'Mayor-Alpha' : 'Mayor-Beta',
        role: provider ? 'provider' : 'requester',
        pubkey: m.pubkey,
        ilpAddress: att.spsp.ilpAddress,
        walletAddress: net.mayors[name]!.walletAddress,
        home,
        stateDir: join(home, 'state'),
        channelId: channel.channelId,
        channelDeposit: channel.deposit.toString(),
        ...(provider && {
          jobTypes: ['ci-cd-linux'],
          price: price.toString(),
          sandbox: provider.service.sandbox.kind,
        }),
      };
    };
    const running = { alpha: describe(alpha, 'alpha'), beta: describe(beta, 'beta') };
    let stopped: Promise<void> | undefined;
    return Object.assign(net, {
      alpha,
      beta,
      mayorsHome,
      running,
      stop() {
        stopped ??= cleanup();
        return stopped;
      },
    });
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** The JSON-friendly part: endpoints, the Mayors' keys and what runs. */
export function devnetWithMayorsInfo(net: DevnetWithMayors): DevnetWithMayorsInfo {
  const { alpha: _a, beta: _b, mayorsHome, running, ...rest } = net;
  return { ...devnetInfo(rest), mayorsHome, running };
}
