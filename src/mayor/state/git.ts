// The real `git` binary, run with a fixed identity and without the user's global/system configuration,
// hooks or signing, so that a commit can never stop to ask for anything. The process is spawned from a worker
// thread (git-thread.ts), so the Mayor's event loop never pays for a fork.
import { execFile } from 'node:child_process';
import { StateError } from './errors.js';
import { type RawGitResult, runGitInThread } from './git-thread.js';

const GIT_ARGS = [
  '-c',
  'user.name=crosstown mayor',
  '-c',
  'user.email=mayor@crosstown.invalid',
  '-c',
  'commit.gpgsign=false',
  '-c',
  'core.hooksPath=/dev/null',
  // Durability: fsync objects, the index and refs before the commit is reported done.
  '-c',
  'core.fsync=objects,derived-metadata,reference',
  '-c',
  'core.fsyncMethod=batch',
  '-c',
  'gc.auto=0',
];

/**
 * Built once per process: copying process.env (every read goes through a native interceptor) took a millisecond
 * of the main thread per git call, one per commit round (issue 17). The environment git needs does not change
 * while the Mayor runs.
 */
let cachedEnv: NodeJS.ProcessEnv | undefined;

function gitEnv(): NodeJS.ProcessEnv {
  cachedEnv ??= Object.freeze(buildGitEnv());
  return cachedEnv;
}

function buildGitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A parent git (e.g. running inside a hook) must not redirect us to another repository.
  for (const k of [
    'GIT_DIR',
    'GIT_WORK_TREE',
    'GIT_INDEX_FILE',
    'GIT_OBJECT_DIRECTORY',
    'GIT_CEILING_DIRECTORIES',
  ])
    delete env[k];
  env.GIT_CONFIG_NOSYSTEM = '1';
  env.GIT_CONFIG_GLOBAL = '/dev/null';
  env.GIT_TERMINAL_PROMPT = '0';
  env.LC_ALL = 'C';
  return env;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  /** Exit code (0 on success); only non-zero with `allowFail`. */
  code: number;
}

/** Runs `git <args>` in `cwd`. Rejects with StateError GIT_FAILED (with git's stderr) on a non-zero exit. */
export async function git(
  cwd: string,
  args: string[],
  options: { allowFail?: boolean } = {},
): Promise<GitResult> {
  const full = [...GIT_ARGS, ...args];
  const env = gitEnv();
  const raw = await (runGitInThread(cwd, full, env) ?? runGitHere(cwd, full, env));
  const err = raw.error;
  if (err && !options.allowFail) {
    throw new StateError(
      'GIT_FAILED',
      err.code === 'ENOENT'
        ? 'The git binary was not found: install git (the Mayor keeps its state in a git repository).'
        : `git ${args.join(' ')} failed in ${cwd}: ${raw.stderr.trim() || err.message}`,
      { cause: new Error(err.message) },
    );
  }
  const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
  return { stdout: raw.stdout, stderr: raw.stderr, code };
}

function runGitHere(cwd: string, args: string[], env: NodeJS.ProcessEnv): Promise<RawGitResult> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const error = err
        ? { message: err.message, ...(err.code != null ? { code: err.code } : {}) }
        : undefined;
      resolve({ ...(error ? { error } : {}), stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
