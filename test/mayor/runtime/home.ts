// A Mayor home for child-process tests: config via environment, keys in the encrypted keystore, and a
// recording callback skill `record` that appends each routed job id to `routes.log`. With `hangInSkill`, the
// skill's first call records the job, creates the marker file and then never returns (the test SIGKILLs the
// Mayor there, "inside the skill").
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Devnet } from '../../../src/devnet/index.js';
import { writeKey } from '../../../src/mayor/keystore/index.js';
import type { FaultPoint } from '../../../src/mayor/runtime/index.js';
import { type MayorChild, spawnMayor } from './child.js';
import { mayorConfig } from './helpers.js';

export const PASSPHRASE = 'correct horse battery staple 42';

export interface Home {
  env: Record<string, string>;
  stateDir: string;
  routesFile: string;
  /** Created by the skill when it starts hanging (hangInSkill). */
  hangMarker: string;
  logs: string[];
}

export interface HomeOptions {
  hangInSkill?: boolean;
  /**
   * The skill declares `idempotent: true` and dedupes by metadata.idempotencyKey (one line `<jobId> <key>` per
   * effect, so the record and the effect are one append): a call a crash interrupted is redelivered.
   */
  idempotentSkill?: boolean;
  env?: Record<string, string>;
}

export async function makeHome(devnet: Devnet, who: string, options: HomeOptions = {}): Promise<Home> {
  const m = devnet.mayors[who]!;
  const config = mayorConfig(devnet);
  const skillsDir = join(config.home, 'skills');
  mkdirSync(skillsDir, { recursive: true });
  const routesFile = join(config.home, 'routes.log');
  const hangMarker = join(config.home, 'skill-hanging');
  const hang = options.hangInSkill
    ? `if (!existsSync(${JSON.stringify(hangMarker)})) {
      writeFileSync(${JSON.stringify(hangMarker)}, meta.correlation.jobId);
      process.stderr.write('SKILL-HANGING ' + meta.correlation.jobId + '\\n');
      await new Promise(() => {});
    }`
    : '';
  const dedupe = options.idempotentSkill
    ? `if (existsSync(${JSON.stringify(routesFile)}) && readFileSync(${JSON.stringify(routesFile)}, 'utf8').includes(' ' + meta.idempotencyKey + '\\n'))
      return { status: 'handled', summary: 'already recorded' };`
    : '';
  writeFileSync(
    join(skillsDir, 'record.mjs'),
    `import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
export default {
  name: 'record',
  idempotent: ${options.idempotentSkill ? 'true' : 'false'},
  supportedEventKinds: () => [],
  async handleToon(_p, meta) {
    ${dedupe}
    appendFileSync(${JSON.stringify(routesFile)}, meta.correlation.jobId + ' ' + meta.idempotencyKey + '\\n');
    ${hang}
    return { status: 'handled', summary: 'recorded' };
  },
};
`,
  );
  for (const [entry, secretKey] of [
    ['wallet', m.walletPrivateKey],
    ['nostr', m.nostrSecretKey],
  ] as const) {
    await writeKey({ dir: config.keystoreDir, entry, secretKey, passphrase: PASSPHRASE });
  }
  return {
    env: {
      CROSSTOWN_HOME: config.home,
      CROSSTOWN_RELAY_URL: devnet.relayUrl,
      GASTOWN_BASE_SEPOLIA_RPC: devnet.rpcUrl,
      CROSSTOWN_CONNECTOR_BTP: devnet.btpUrl,
      CROSSTOWN_DEFAULT_DEPOSIT: '10',
      CROSSTOWN_SKILLS_DIR: skillsDir,
      CROSSTOWN_NODE_PUBKEY: devnet.node.pubkey,
      ...(options.env ?? {}),
    },
    stateDir: config.stateDir,
    routesFile,
    hangMarker,
    logs: [],
  };
}

export interface JobFile {
  status: string;
  price?: string;
  error?: string;
  history: { status: string; at: number }[];
}

export const jobFile = (home: Home, id: string) =>
  JSON.parse(readFileSync(join(home.stateDir, 'jobs', `${id}.json`), 'utf8')) as JobFile;

export const hasJob = (home: Home, id: string) => existsSync(join(home.stateDir, 'jobs', `${id}.json`));

export const routes = (home: Home) =>
  existsSync(home.routesFile)
    ? readFileSync(home.routesFile, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ')[0]!)
    : [];

/** Starts the Mayor of `home` as a child process, optionally paused at a fault point. */
export function startHome(home: Home, fault?: FaultPoint, env: Record<string, string> = {}): MayorChild {
  const child = spawnMayor({ ...home.env, ...env, ...(fault ? { CROSSTOWN_FAULT: fault } : {}) }, PASSPHRASE);
  child.proc.stdout!.on('data', (d: Buffer) => home.logs.push(d.toString()));
  child.proc.stderr!.on('data', (d: Buffer) => home.logs.push(d.toString()));
  return child;
}

/** A job request the stand-in provider answers, routed to the `record` skill. */
export const postCommand = (bid: bigint) => ({
  post: {
    jobType: 'ci-cd-linux',
    params: { command: 'npm test' },
    bid: bid.toString(),
    callbackSkill: 'record',
  },
});
