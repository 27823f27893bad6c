// Shared pieces of the provider-mode end-to-end tests: two real Mayors (startMayor) on a real devnet, one of
// them in provider mode with the real ProviderService (git worktrees, bwrap when it works here).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Devnet } from '../../src/devnet/index.js';
import type { MayorConfig } from '../../src/mayor/config/index.js';
import { writeKey } from '../../src/mayor/keystore/index.js';
import {
  type Mayor,
  type ProviderModeOptions,
  type StartMayorOptions,
  startMayor,
} from '../../src/mayor/runtime/index.js';
import type { Skill, SkillLogger } from '../../src/skills/index.js';
import { keyOf, mayorConfig } from './runtime/helpers.js';

export const SAMPLE_REPOS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/sample-repos',
);
/** The provider's price per ci-cd-linux job (0.002 M2M). */
export const PRICE = 2n * 10n ** 15n;
export const BID = 10n ** 16n;

/** A sample repository as the inline build context of a ci-cd-linux job. */
export function sampleRepoInput(name: 'passing' | 'failing') {
  const data = execFileSync('tar', ['-czf', '-', '-C', path.join(SAMPLE_REPOS, name), '.']).toString(
    'base64',
  );
  return { data, type: 'tar.gz+base64' };
}

/** A logger that keeps every line (tests look for the reasons of rejections in it). */
export function recordingLogger(echoErrors = false): SkillLogger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (m: string) => {
    lines.push(`${level} ${m}`);
    if (echoErrors && level === 'error') console.error(m);
  };
  return { lines, debug: () => {}, info: keep('info'), warn: keep('warn'), error: keep('error') };
}

export const PROVIDER_ENV = {
  CROSSTOWN_PROVIDER: 'true',
  CROSSTOWN_PROVIDER_JOB_TYPES: 'ci-cd-linux',
  CROSSTOWN_PROVIDER_PRICE: '0.002',
};

/**
 * A fresh home for a provider Mayor run as a child process (`spawnMayor(env, passphrase)`): the devnet Mayor's
 * keys in the encrypted keystore, its config in the environment.
 */
export async function providerChildHome(
  devnet: Devnet,
  who: string,
  passphrase: string,
): Promise<{ config: MayorConfig; env: Record<string, string> }> {
  const m = devnet.mayors[who]!;
  const config = mayorConfig(devnet);
  mkdirSync(path.join(config.home, 'skills'), { recursive: true });
  for (const [entry, secretKey] of [
    ['wallet', m.walletPrivateKey],
    ['nostr', m.nostrSecretKey],
  ] as const) {
    await writeKey({ dir: config.keystoreDir, entry, secretKey, passphrase });
  }
  const env = {
    CROSSTOWN_HOME: config.home,
    CROSSTOWN_RELAY_URL: devnet.relayUrl,
    GASTOWN_BASE_SEPOLIA_RPC: devnet.rpcUrl,
    CROSSTOWN_CONNECTOR_BTP: devnet.btpUrl,
    CROSSTOWN_DEFAULT_DEPOSIT: '10',
    CROSSTOWN_SKILLS_DIR: path.join(config.home, 'skills'),
    CROSSTOWN_NODE_PUBKEY: devnet.node.pubkey,
    ...PROVIDER_ENV,
  };
  return { config, env };
}

export async function startProviderMayor(
  devnet: Devnet,
  who: string,
  provider: ProviderModeOptions = {},
  logger = recordingLogger(true),
): Promise<Mayor> {
  const m = devnet.mayors[who]!;
  return startMayor({
    config: mayorConfig(devnet, [devnet.relayUrl], PROVIDER_ENV),
    walletKey: m.walletPrivateKey,
    nostrSecretKey: keyOf(m),
    nodePubkey: devnet.node.pubkey,
    provider: { poolSize: 2, ...provider },
    logger,
  });
}

export async function startRequesterMayor(
  devnet: Devnet,
  who: string,
  skills: Skill[] = [],
  logger = recordingLogger(true),
  more: Pick<StartMayorOptions, 'busyRetry'> = {},
): Promise<Mayor> {
  const m = devnet.mayors[who]!;
  return startMayor({
    config: mayorConfig(devnet),
    walletKey: m.walletPrivateKey,
    nostrSecretKey: keyOf(m),
    nodePubkey: devnet.node.pubkey,
    skills,
    logger,
    ...more,
  });
}
