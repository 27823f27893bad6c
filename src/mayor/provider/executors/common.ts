// Pieces both executors share: reading the build context from a request, extracting it safely, the
// artifact manifest, and turning a finished process into a JobOutcome.
import { createHash } from 'node:crypto';
import type { ParsedJobRequest } from '../../../nostr/nip90.js';
import { inspectTarGz } from '../archive.js';
import { ProviderError } from '../errors.js';
import type { RunOutcome } from '../process.js';
import { runProcess } from '../process.js';
import type { ArtifactEntry, JobOutcome } from '../results.js';
import { parseTestSummary } from '../test-summary.js';
import { checkoutGit } from '../worktree.js';
import type { ExecutionContext } from './types.js';

// The manifest lives in ../artifacts.ts (checked against the worktree); re-exported for the executors.
export { artifactManifest, MAX_ARTIFACTS } from '../artifacts.js';

/** `i` tag types accepted for an inline build context. */
export const TAR_INPUT_TYPES = ['tar.gz+base64', 'tar+gzip+base64', 'tgz+base64'];
export const GIT_INPUT_TYPE = 'git';

export type BuildContext =
  | { kind: 'none' }
  | { kind: 'tar'; gz: Buffer }
  | { kind: 'git'; url: string; commit: string };

/** Reads the build context of a request, or throws ProviderError('invalid_input') saying what is wrong. */
export function readBuildContext(job: ParsedJobRequest): BuildContext {
  const inputs = job.inputs.filter((i) => TAR_INPUT_TYPES.includes(i.type) || i.type === GIT_INPUT_TYPE);
  if (inputs.length > 1)
    throw new ProviderError(
      'invalid_input',
      'more than one build context input; send one tar.gz or one git URL',
    );
  const input = inputs[0];
  if (!input) return { kind: 'none' };
  if (input.type === GIT_INPUT_TYPE) {
    const commit = job.params.commit;
    if (!commit)
      throw new ProviderError(
        'invalid_input',
        'a git input needs a ["param", "commit", <full commit id>] tag',
      );
    return { kind: 'git', url: input.data, commit };
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(input.data) || input.data.length % 4 !== 0)
    throw new ProviderError('invalid_input', `the ${input.type} input is not base64`);
  return { kind: 'tar', gz: Buffer.from(input.data, 'base64') };
}

/** Reads and checks the build context at intake (tar entries included); the refusal reason, or undefined. */
export function checkBuildContext(job: ParsedJobRequest): string | undefined {
  try {
    const context = readBuildContext(job);
    if (context.kind === 'tar') inspectTarGz(context.gz);
    return undefined;
  } catch (err) {
    if (err instanceof ProviderError) return err.message;
    throw err;
  }
}

/** Puts the build context into the worktree: tar is checked, then extracted inside the sandbox. */
export async function prepareContext(
  ctx: ExecutionContext,
  context: BuildContext,
): Promise<string | undefined> {
  if (context.kind === 'none') return undefined;
  if (context.kind === 'git') {
    await checkoutGit(ctx.worktree, context.url, context.commit, ctx.gitProtocols, ctx.timeoutMs);
    return undefined;
  }
  inspectTarGz(context.gz);
  const tar = [
    'tar',
    '-xzf',
    '-',
    '--no-same-owner',
    '--no-same-permissions',
    '--no-overwrite-dir',
    '-C',
    ctx.worktree,
  ];
  const out = await runProcess({
    argv: ctx.sandbox.wrap(tar, ctx.worktree),
    cwd: ctx.worktree,
    env: ctx.sandbox.env(ctx.worktree),
    timeoutMs: ctx.timeoutMs,
    maxOutputBytes: 16 * 1024,
    signal: ctx.signal,
    onSpawn: ctx.onSpawn,
    stdin: context.gz,
  });
  if (out.exitCode !== 0)
    return `extracting the build context failed: ${out.spawnError ?? out.output.trim()}`;
  return undefined;
}

/** A finished command as the result reports it. */
export function outcomeFromRun(run: RunOutcome, timeoutMs: number, artifacts: ArtifactEntry[]): JobOutcome {
  const tests = parseTestSummary(run.output);
  const base = {
    exitCode: run.exitCode,
    log: run.output,
    logBytes: run.outputBytes,
    logSha256: run.outputSha256,
    logTruncated: run.truncated,
    artifacts,
    durationMs: run.durationMs,
    ...(tests && { tests }),
  };
  if (run.spawnError) return { ...base, build: 'ERROR', status: 'error', statusInfo: run.spawnError };
  if (run.timedOut)
    return {
      ...base,
      build: 'TIMEOUT',
      status: 'error',
      statusInfo: `killed after ${timeoutMs / 1000} s (time limit)`,
    };
  if (run.cancelled) return { ...base, build: 'CANCELLED', status: 'error', statusInfo: 'job cancelled' };
  if (run.outputOverflow)
    return {
      ...base,
      build: 'ERROR',
      status: 'error',
      statusInfo: `killed: output passed ${run.outputBytes} bytes`,
    };
  const total = tests ? tests.passed + tests.failed : 0;
  if (run.exitCode === 0 && (!tests || tests.failed === 0)) {
    const info = tests ? `tests ${tests.passed}/${total} passed` : 'exit code 0';
    return { ...base, build: 'SUCCESS', status: 'success', statusInfo: info };
  }
  const info =
    tests && tests.failed > 0
      ? `${tests.failed} of ${total} tests failed`
      : `exit code ${run.exitCode ?? run.signal}`;
  return { ...base, build: 'FAILURE', status: 'error', statusInfo: info };
}

/** An outcome for a job that never ran its command (bad input, provider failure). */
export function errorOutcome(statusInfo: string, durationMs = 0): JobOutcome {
  return {
    build: 'ERROR',
    status: 'error',
    statusInfo,
    log: statusInfo,
    logBytes: Buffer.byteLength(statusInfo),
    logSha256: createHash('sha256').update(statusInfo).digest('hex'),
    logTruncated: false,
    artifacts: [],
    durationMs,
  };
}
