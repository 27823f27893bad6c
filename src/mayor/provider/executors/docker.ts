// `docker-build-amd64`: `docker build` of the build context, then `docker run` of the command in the image,
// with no network. Served only when a Docker engine answers `docker info`. NOTE: no engine runs on the
// machine this was written on: the command construction and the refusal path are tested, the engine path is not.
import { execFile } from 'node:child_process';
import type { ParsedJobRequest } from '../../../nostr/nip90.js';
import { ProviderError } from '../errors.js';
import { runProcess } from '../process.js';
import type { JobOutcome } from '../results.js';
import { checkCommand } from './ci-cd-linux.js';
import {
  artifactManifest,
  checkBuildContext,
  errorOutcome,
  outcomeFromRun,
  prepareContext,
  readBuildContext,
} from './common.js';
import type { ExecutionContext, Executor } from './types.js';

export const DOCKER_BUILD_AMD64 = 'docker-build-amd64';

export interface DockerOptions {
  dockerPath?: string;
  /** `docker run --memory` (default 2g). */
  memory?: string;
  /** `docker run --pids-limit` (default 512). */
  pidsLimit?: number;
}

/** Image tag and container name for a job: derived from the job id, so cleanup can find them. */
export function dockerNames(jobId: string): { image: string; container: string } {
  return { image: `crosstown-job:${jobId.slice(0, 16)}`, container: `crosstown-job-${jobId.slice(0, 16)}` };
}

export function dockerBuildArgs(jobId: string, contextDir: string, options: DockerOptions = {}): string[] {
  const { image } = dockerNames(jobId);
  return [
    options.dockerPath ?? 'docker',
    'build',
    '--platform',
    'linux/amd64',
    '--pull=false',
    '-t',
    image,
    contextDir,
  ];
}

export function dockerRunArgs(jobId: string, command: string, options: DockerOptions = {}): string[] {
  const { image, container } = dockerNames(jobId);
  return [
    options.dockerPath ?? 'docker',
    'run',
    '--rm',
    '--name',
    container,
    '--platform',
    'linux/amd64',
    '--network',
    'none',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--memory',
    options.memory ?? '2g',
    '--pids-limit',
    String(options.pidsLimit ?? 512),
    image,
    'sh',
    '-c',
    command,
  ];
}

/** True when `docker info` answers within 5 s: an engine is running and we may talk to it. */
export function probeDocker(dockerPath = 'docker'): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(dockerPath, ['info', '--format', '{{.ServerVersion}}'], { timeout: 5000 }, (err) =>
      resolve(!err),
    );
  });
}

function docker(args: string[]): Promise<void> {
  return new Promise((resolve) => execFile(args[0]!, args.slice(1), { timeout: 30_000 }, () => resolve()));
}

export function dockerExecutor(options: DockerOptions = {}): Executor {
  let probed: Promise<boolean> | undefined;
  const dockerPath = options.dockerPath ?? 'docker';
  return {
    jobType: DOCKER_BUILD_AMD64,
    available: () => {
      probed ??= probeDocker(dockerPath);
      return probed;
    },
    check(job: ParsedJobRequest) {
      const bad = checkCommand(job) ?? checkBuildContext(job);
      if (bad) return bad;
      if (readBuildContext(job).kind === 'none')
        return 'docker-build-amd64 needs a build context (tar.gz or git input) with a Dockerfile';
      return undefined;
    },
    async run(ctx: ExecutionContext): Promise<JobOutcome> {
      const started = performance.now();
      if (!(await this.available()))
        return errorOutcome('no Docker engine answers on this provider (docker info failed)');
      try {
        const refused = await prepareContext(ctx, readBuildContext(ctx.job));
        if (refused) return errorOutcome(refused, performance.now() - started);
      } catch (err) {
        if (err instanceof ProviderError) return errorOutcome(err.message, performance.now() - started);
        throw err;
      }
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: ctx.worktree };
      const limits = {
        cwd: ctx.worktree,
        env,
        maxOutputBytes: ctx.maxOutputBytes,
        signal: ctx.signal,
        onSpawn: ctx.onSpawn,
      };
      const { image, container } = dockerNames(ctx.job.id);
      try {
        const build = await runProcess({
          ...limits,
          argv: dockerBuildArgs(ctx.job.id, ctx.worktree, options),
          timeoutMs: ctx.timeoutMs,
        });
        if (build.exitCode !== 0) return outcomeFromRun(build, ctx.timeoutMs, []);
        const left = Math.max(1000, ctx.timeoutMs - build.durationMs);
        const run = await runProcess({
          ...limits,
          argv: dockerRunArgs(ctx.job.id, ctx.job.params.command!, options),
          timeoutMs: left,
        });
        return outcomeFromRun(
          run,
          ctx.timeoutMs,
          await artifactManifest(ctx.worktree, ctx.job.params.artifacts),
        );
      } finally {
        // Killing the docker CLI does not stop the container: remove it and the image explicitly.
        await docker([dockerPath, 'rm', '-f', container]);
        await docker([dockerPath, 'rmi', '-f', image]);
      }
    },
  };
}
