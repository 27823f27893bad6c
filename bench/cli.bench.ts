// `npm run bench cli`: start-up of the `crosstown` binary, measured as whole processes (spawn to exit), the way a
// user or a script pays it. Targets (issue 16): `--version` < 150 ms, `job status <id>` < 400 ms (median), the
// latter against a Mayor home whose state repository holds a job and no Mayor running.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
/** The command as npm installs it (a sh script that answers --version itself, else runs the Node launcher). */
const BIN = join(root, 'bin', 'crosstown');
const NODE_LAUNCHER = join(root, 'bin', 'crosstown.js');

interface Figures {
  median: number;
  min: number;
  /** Median CPU (user + system, the process and its children) in ms, when /usr/bin/time exists. */
  cpu?: number;
}

const TIME = '/usr/bin/time';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Wall time (median, min) of `runs` runs of `program <args>` after one warm-up run, in ms; fails on a non-zero exit.
 * CPU time is reported too: on a busy machine wall time mostly measures the queue for a core, CPU time does not.
 */
function measure(program: string, args: string[], env: NodeJS.ProcessEnv, runs = RUNS): Figures {
  const walls: number[] = [];
  const cpus: number[] = [];
  const cpuFile = join(tmpdir(), `crosstown-bench-cpu-${process.pid}`);
  const withTime = existsSync(TIME);
  for (let i = 0; i <= runs; i++) {
    const [cmd, argv] = withTime ? [TIME, ['-f', '%U %S', '-o', cpuFile, program, ...args]] : [program, args];
    const start = process.hrtime.bigint();
    const r = spawnSync(cmd, argv, { env, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`${program} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    if (i === 0) continue; // the first run warms the file cache
    walls.push(ms);
    if (withTime) {
      const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
      cpus.push(((user ?? 0) + (sys ?? 0)) * 1000);
    }
  }
  rmSync(cpuFile, { force: true });
  return { median: median(walls), min: Math.min(...walls), ...(cpus.length ? { cpu: median(cpus) } : {}) };
}

const show = (f: Figures) =>
  `${f.median.toFixed(0)} ms (min ${f.min.toFixed(0)})${f.cpu !== undefined ? `, cpu ${f.cpu.toFixed(0)} ms` : ''}`;

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
    const check = spawnSync(BIN, ['job', 'status', id, '--format', 'json'], {
      env,
      encoding: 'utf8',
    });
    if (check.status !== 0 || (JSON.parse(check.stdout) as { status: string }).status !== 'posted')
      throw new Error(`job status did not show the job: ${check.stderr}${check.stdout}`);

    const node = measure(process.execPath, ['-e', '0'], env);
    const version = measure(BIN, ['--version'], env);
    const nodeVersion = measure(process.execPath, [NODE_LAUNCHER, '--version'], env);
    const status = measure(BIN, ['job', 'status', id], env);
    const help = measure(BIN, ['job', 'status', '--help'], env, 3);

    console.log(
      `bin runs: ${RUNS_FROM[distState(root) as keyof typeof RUNS_FROM]}; wall median of ${RUNS} runs`,
    );
    console.log(`node -e 0 (the machine's floor)  ${show(node)}`);
    console.log(`crosstown --version              ${show(version)}`);
    console.log(`node bin/crosstown.js --version  ${show(nodeVersion)}`);
    console.log(`crosstown job status <id>        ${show(status)}`);
    console.log(`crosstown job status --help      ${show(help)}`);
    if (node.median > 100)
      console.log(
        `note: node itself needs ${node.median.toFixed(0)} ms here (busy machine): compare against that floor`,
      );
    console.log(
      `targets: --version < ${VERSION_TARGET_MS} ms: ${version.median < VERSION_TARGET_MS ? 'MET' : 'NOT MET'}; ` +
        `job status < ${STATUS_TARGET_MS} ms: ${status.median < STATUS_TARGET_MS ? 'MET' : 'NOT MET'}`,
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
