// Small git runner: no shell, no user or system config, never prompts.
import { execFile } from 'node:child_process';
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
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      { cwd: options.cwd, env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          reject(
            new ProviderError('git_failed', `git ${args[0]} failed: ${(stderr || err.message).trim()}`, {
              cause: err,
            }),
          );
        } else resolve(stdout);
      },
    );
  });
}
