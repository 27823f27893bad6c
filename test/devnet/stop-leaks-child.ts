// Child of stop-leaks.test.ts: what `npm run bench provider-e2e` starts, in one process. A devnet (anvil, node in
// this process), Mayor-Beta in provider mode (poolSize 2), Mayor-Alpha posting public and private ci-cd-linux jobs,
// then one more job whose command is still running when everything stops (its cancellation races the stop).
// After alpha.stop(), beta.stop() and devnet.stop() it prints what this process still holds (file descriptors on
// the devnet's and the Mayors' files, child processes, the job's command) and returns: it must exit by itself.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDevnet } from '../../src/devnet/index.js';
import { resolveConfig } from '../../src/mayor/config/index.js';
import { type Mayor, type ProviderModeOptions, startMayor } from '../../src/mayor/runtime/index.js';
import { openFilesUnder } from '../support/open-files.js';
import { stopEach } from '../support/stop-each.js';

const [homes] = process.argv.slice(2) as [string];
/** A command no other process runs: the job still running at stop. */
const SLOW = ['sleep', '41.7'];
const quiet = { debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) };

/** Pids of this process's children (every thread's), with their command lines. */
function children(): { pid: number; cmd: string }[] {
  const pids = readdirSync('/proc/self/task').flatMap((t) =>
    readFileSync(`/proc/self/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
  );
  return pids.map((pid) => ({ pid, cmd: cmdline(pid) }));
}
/** The command line; for a process that has exited (a zombie not reaped yet): its name and state. */
function cmdline(pid: number): string {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return cmd || readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ').slice(1, 3).join(' ');
  } catch {
    return '';
  }
}
/** Processes anywhere running the slow job's command. */
function slowCommands(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((pid) => cmdline(pid) === SLOW.join(' '));
}

const devnet = await startDevnet({ mayors: ['alpha', 'beta'] });
const start = (who: 'alpha' | 'beta', provider?: ProviderModeOptions): Promise<Mayor> => {
  const m = devnet.mayors[who]!;
  const config = resolveConfig({
    env: {
      CROSSTOWN_HOME: join(homes, who),
      CROSSTOWN_RELAY_URL: devnet.relayUrl,
      GASTOWN_BASE_SEPOLIA_RPC: devnet.rpcUrl,
      CROSSTOWN_CONNECTOR_BTP: devnet.btpUrl,
      CROSSTOWN_DEFAULT_DEPOSIT: '100',
      ...(provider && {
        CROSSTOWN_PROVIDER: 'true',
        CROSSTOWN_PROVIDER_JOB_TYPES: 'ci-cd-linux',
        CROSSTOWN_PROVIDER_PRICE: '0.001',
      }),
    },
  }).values;
  return startMayor({
    config,
    walletKey: m.walletPrivateKey,
    nostrSecretKey: new Uint8Array(Buffer.from(m.nostrSecretKey.slice(2), 'hex')),
    nodePubkey: devnet.node.pubkey,
    logger: quiet,
    ...(provider && { provider }),
  });
};

let alpha: Mayor | undefined;
let beta: Mayor | undefined;
let running: number[] = [];
let hostPids: number[] = [];
try {
  beta = await start('beta', { poolSize: 2 });
  alpha = await start('alpha');
  const post = (i: number, priv: boolean, command = 'true') =>
    alpha!.postJob({
      jobType: 'ci-cd-linux',
      params: { command, seq: `${priv ? 'p' : 'q'}${i}` },
      bid: 10n ** 16n,
      provider: beta!.pubkey,
      private: priv,
    });
  // A public job, then a private one, each to the end (paid, routed).
  for (const [i, priv] of [
    [1, false],
    [2, true],
  ] as const) {
    const { jobId } = await post(i, priv);
    await alpha.settled([jobId], 30_000);
  }
  // Both slots free again first (a finished job's slot is released after its worktree is cleaned up, which on a
  // loaded machine can come after the requester is paid): a busy refusal would hold the next job back 30 s.
  const pool = beta.provider()!.service.pool;
  for (const until = Date.now() + 20_000; pool.inFlight > 0; ) {
    if (Date.now() > until) throw new Error(`the provider still has ${pool.inFlight} jobs in flight`);
    await new Promise((r) => setTimeout(r, 20));
  }
  // One more, stopped while its command runs.
  await post(5, false, SLOW.join(' '));
  const deadline = Date.now() + 30_000;
  for (running = slowCommands(); running.length === 0; running = slowCommands()) {
    if (Date.now() > deadline) throw new Error('the slow job never started');
    await new Promise((r) => setTimeout(r, 20));
  }
  hostPids = children()
    .filter((c) => c.cmd.includes('process-host-child'))
    .map((c) => c.pid);
} finally {
  await stopEach(
    () => alpha?.stop(),
    () => beta?.stop(),
    () => devnet.stop(),
  );
}

const ours = [devnet.node.dataDir, homes];
const held = openFilesUnder(ours);
// tsx's esbuild service (the loader this test runs under) is not ours.
const left = children().filter((c) => !/\besbuild\b/.test(c.cmd));
process.stdout.write(
  `${JSON.stringify({ held, children: left, hostPids, slowBefore: running.length, slowAfter: slowCommands() })}\n`,
);
