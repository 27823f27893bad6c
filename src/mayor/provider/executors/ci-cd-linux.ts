// `ci-cd-linux`: the build context (inline tar.gz or git URL + commit) goes into the job's worktree, then
// the `command` param runs there through `sh -c`, inside the sandbox.
import type { ParsedJobRequest } from '../../../nostr/nip90.js';
import { ProviderError } from '../errors.js';
import { runProcess } from '../process.js';
import type { JobOutcome } from '../results.js';
import {
  artifactManifest,
  checkBuildContext,
  errorOutcome,
  outcomeFromRun,
  prepareContext,
  readBuildContext,
} from './common.js';
import type { ExecutionContext, Executor } from './types.js';

export const CI_CD_LINUX = 'ci-cd-linux';
const MAX_COMMAND_CHARS = 4096;

export function checkCommand(job: ParsedJobRequest): string | undefined {
  const command = job.params.command;
  if (!command?.trim()) return 'no command: add a ["param", "command", "npm test"] tag';
  if (command.length > MAX_COMMAND_CHARS) return `command is longer than ${MAX_COMMAND_CHARS} characters`;
  return undefined;
}

export function ciCdLinuxExecutor(): Executor {
  return {
    jobType: CI_CD_LINUX,
    available: async () => true,
    check(job) {
      return checkCommand(job) ?? checkBuildContext(job);
    },
    async run(ctx: ExecutionContext): Promise<JobOutcome> {
      const started = performance.now();
      try {
        const refused = await prepareContext(ctx, readBuildContext(ctx.job));
        if (refused) return errorOutcome(refused, performance.now() - started);
      } catch (err) {
        if (err instanceof ProviderError) return errorOutcome(err.message, performance.now() - started);
        throw err;
      }
      const run = await runProcess({
        argv: ctx.sandbox.wrap(['/bin/sh', '-c', ctx.job.params.command!], ctx.worktree),
        cwd: ctx.worktree,
        env: ctx.sandbox.env(ctx.worktree),
        timeoutMs: ctx.timeoutMs,
        maxOutputBytes: ctx.maxOutputBytes,
        signal: ctx.signal,
        onSpawn: ctx.onSpawn,
      });
      const artifacts = await artifactManifest(ctx.worktree, ctx.job.params.artifacts);
      return outcomeFromRun(run, ctx.timeoutMs, artifacts);
    },
  };
}
