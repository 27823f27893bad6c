// One worker thread that runs the Mayor's git processes (the state repository's, and the provider's worktrees). Spawning a process (fork + exec, reading its
// pipes) costs the calling thread milliseconds; on the Mayor's main thread it delayed posts and FULFILLs behind
// every commit. The thread is plain JavaScript (no module to load, starts the same under tsx, vitest and node);
// it keeps the process alive only while git runs, as a child process would.
import type { Worker } from 'node:worker_threads';
import { startEvalWorker } from '../../transport/eval-worker.js';

export interface RawGitResult {
  /** Set when git could not run or exited non-zero. */
  error?: { message: string; code?: string | number };
  stdout: string;
  stderr: string;
}

interface GitRequest {
  id: number;
  cwd: string;
  args: string[];
  /** Which environment (envs the thread has been sent, by number). */
  envId: number;
  /** The environment itself, sent once: the first call that uses it. */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  maxBuffer?: number;
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { execFile } = require('node:child_process');
const envs = new Map();
parentPort.on('message', ({ id, cwd, args, envId, env, timeoutMs, maxBuffer }) => {
  if (env) envs.set(envId, env);
  const options = { cwd, env: envs.get(envId), maxBuffer: maxBuffer ?? 64 * 1024 * 1024, timeout: timeoutMs ?? 0 };
  execFile('git', args, options, (err, stdout, stderr) => {
    const error = err ? { message: err.message, code: err.code } : undefined;
    parentPort.postMessage({ id, error, stdout: String(stdout), stderr: String(stderr) });
  });
});
`;

let worker: Worker | undefined;
/**
 * Environments already sent to the thread, by content. Each git call used to post (structured-clone) the whole
 * environment to the thread; the Mayor uses two (the state repo's, the provider's), so each goes once.
 */
const sentEnvs = new Map<string, number>();
let broken = false;
let nextId = 0;
const waiting = new Map<number, (r: RawGitResult) => void>();

function thread(): Worker | undefined {
  if (broken) return undefined;
  if (worker) return worker;
  try {
    const w = startEvalWorker(WORKER_SOURCE);
    w.unref();
    w.on('message', (r: RawGitResult & { id: number }) => {
      const resolve = waiting.get(r.id);
      waiting.delete(r.id);
      if (waiting.size === 0) w.unref();
      resolve?.(r);
    });
    // A thread that dies (e.g. out of memory) fails what it held; later calls spawn git on this thread.
    const fail = (err: unknown) => {
      broken = true;
      worker = undefined;
      for (const resolve of waiting.values()) {
        resolve({ error: { message: `the git thread stopped: ${String(err)}` }, stdout: '', stderr: '' });
      }
      waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(`exit ${code}`));
    worker = w;
    return w;
  } catch {
    broken = true;
    return undefined;
  }
}

/** Runs git in the worker thread; undefined if there is none (the caller then spawns it itself). */
export function runGitInThread(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  limits: { timeoutMs?: number; maxBuffer?: number } = {},
): Promise<RawGitResult> | undefined {
  const w = thread();
  if (!w) return undefined;
  const id = nextId++;
  const envKey = JSON.stringify(env);
  let envId = sentEnvs.get(envKey);
  const first = envId === undefined;
  if (envId === undefined) {
    envId = sentEnvs.size;
    // A process that keeps changing its environment must not grow this without bound: start over.
    if (envId >= 64) sentEnvs.clear();
    sentEnvs.set(envKey, envId);
  }
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    if (waiting.size === 1) w.ref();
    w.postMessage({ id, cwd, args, envId, ...(first && { env }), ...limits } satisfies GitRequest);
  });
}
