// Small git runner: no shell, no user or system config, never prompts. The process is spawned from the Mayor's
// git worker thread (a fork on the main thread stalled the Mayor's relay and BTP traffic for milliseconds per
// call, several calls per job), or here when that thread is unavailable.
import { execFile } from 'node:child_process';
import { type RawGitResult, runGitInThread } from '../state/git-thread.js';
import { ProviderError } from './errors.js';

export interface GitOptions {
  cwd: string;
  /** Protocols allowed for fetches (GIT_ALLOW_PROTOCOL); default none beyond local operations. */
  allowProtocols?: readonly string[];
  timeoutMs?: number;
}

export function git(args: string[], options: GitOptions): Promise<string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'polecat',
    GIT_AUTHOR_EMAIL: 'polecat@crosstown.invalid',
    GIT_COMMITTER_NAME: 'polecat',
    GIT_COMMITTER_EMAIL: 'polecat@crosstown.invalid',
    GIT_ALLOW_PROTOCOL: (options.allowProtocols ?? ['file']).join(':'),
  };
  const limits = { timeoutMs: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 };
  const run = runGitInThread(options.cwd, args, env, limits) ?? runHere(args, options.cwd, env, limits);
  return run.then((r) => {
    if (!r.error) return r.stdout;
    throw new ProviderError('git_failed', `git ${args[0]} failed: ${(r.stderr || r.error.message).trim()}`, {
      cause: new Error(r.error.message),
    });
  });
}

function runHere(
  args: string[],
  cwd: string,
  env: Record<string, string>,
  limits: { timeoutMs: number; maxBuffer: number },
): Promise<RawGitResult> {
  return new Promise((resolve) => {
    execFile(
      'git',
      args,
      { cwd, env, timeout: limits.timeoutMs, maxBuffer: limits.maxBuffer },
      (err, stdout, stderr) => {
        const error = err
          ? { message: err.message, ...(err.code != null ? { code: err.code } : {}) }
          : undefined;
        resolve({ ...(error ? { error } : {}), stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}
