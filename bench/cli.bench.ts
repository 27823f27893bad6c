// `npm run bench cli`: start-up of the `crosstown` binary, measured as whole processes (spawn to exit), the way a
// user or a script pays it. Targets (issue 16): `--version` < 150 ms, `job status <id>` < 400 ms (median), the
// latter against a Mayor home whose state repository holds a job and no Mayor running.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distState } from '../bin/dist-current.js';
import { resolveConfig } from '../src/mayor/config/index.js';
import { openStateRepo } from '../src/mayor/state/index.js';

const VERSION_TARGET_MS = 150;
const STATUS_TARGET_MS = 400;
const RUNS = 9;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(root, 'bin', 'crosstown.js');

/** Median wall time of `runs` runs of `node <args>` (after one warm-up run), in ms; fails on a non-zero exit. */
function medianMs(args: string[], env: NodeJS.ProcessEnv, runs = RUNS): { median: number; min: number } {
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    if (i > 0) times.push(ms); // the first run warms the file cache
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, min: times[0]! };
}

const RUNS_FROM = {
  current: 'dist/',
  stale: 'src/ through tsx (dist/ is older than src/: run `npm run build`)',
  missing: 'src/ through tsx (no dist/: run `npm run build`)',
};

export async function run(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'crosstown-bench-cli-'));
  try {
    const config = resolveConfig({ flags: { home } }).values;
    const state = await openStateRepo({ dir: config.stateDir });
    const id = 'a'.repeat(64);
    state.jobs.put({
      id,
      status: 'posting',
      kind: 5065,
      jobType: 'ci-cd-linux',
      callbackSkill: 'ci-cd-callback-skill',
      bid: 10_000_000_000_000_000n,
    });
    state.jobs.put({ id, status: 'posted', price: 8_750_000_000_000_000n });
    await state.flush();
    await state.close();

    const env: NodeJS.ProcessEnv = { ...process.env, CROSSTOWN_HOME: home };
    for (const k of Object.keys(env))
      if (/^(CROSSTOWN_|GASTOWN_)/.test(k) && k !== 'CROSSTOWN_HOME') delete env[k];
    const check = spawnSync(process.execPath, [BIN, 'job', 'status', id, '--format', 'json'], {
      env,
      encoding: 'utf8',
    });
    if (check.status !== 0 || (JSON.parse(check.stdout) as { status: string }).status !== 'posted')
      throw new Error(`job status did not show the job: ${check.stderr}${check.stdout}`);

    const node = medianMs(['-e', '0'], env);
    const version = medianMs([BIN, '--version'], env);
    const status = medianMs([BIN, 'job', 'status', id], env);
    const help = medianMs([BIN, 'job', 'status', '--help'], env, 3);

    console.log(
      `bin runs: ${RUNS_FROM[distState(root) as keyof typeof RUNS_FROM]}; ${RUNS} runs each, median (min)`,
    );
    console.log(`node -e 0 (floor)              ${node.median.toFixed(0)} ms (${node.min.toFixed(0)})`);
    console.log(`crosstown --version            ${version.median.toFixed(0)} ms (${version.min.toFixed(0)})`);
    console.log(`crosstown job status <id>      ${status.median.toFixed(0)} ms (${status.min.toFixed(0)})`);
    console.log(`crosstown job status --help    ${help.median.toFixed(0)} ms (${help.min.toFixed(0)})`);
    console.log(
      `targets: --version < ${VERSION_TARGET_MS} ms: ${version.median < VERSION_TARGET_MS ? 'MET' : 'NOT MET'}; ` +
        `job status < ${STATUS_TARGET_MS} ms: ${status.median < STATUS_TARGET_MS ? 'MET' : 'NOT MET'}`,
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
