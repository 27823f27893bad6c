// Worker threads for the CPU-heavy half of a write: TOON decode and signature verification (gate-worker.ts).
// Calls made in the same tick are batched into one message per worker, to amortize postMessage. A lone task while
// every worker is idle runs on this thread instead (see flush).
import type { Worker } from 'node:worker_threads';
import type { NostrEvent } from '../nostr/types.js';
import { startModuleWorker } from '../transport/module-worker.js';
import { type GateResult, type GateTask, runTask } from './gate-worker.js';

interface PoolWorker {
  worker: Worker;
  inFlight: Map<number, { tasks: GateTask[]; resolvers: ((r: GateResult) => void)[] }>;
  pending: number;
  /** Resolves once the worker has loaded its modules and the wasm verifier, or has died. */
  booted: Promise<void>;
}

export class GatePool {
  private readonly workers: PoolWorker[] = [];
  private queue: { task: GateTask; resolve: (r: GateResult) => void }[] = [];
  private scheduled = false;
  private seq = 0;
  private closed = false;
  private inline = 0;
  /** What checks signatures on each booted worker (`native libsecp256k1.so.1` or `wasm`), in boot order. */
  readonly backends: string[] = [];

  constructor(
    threads: number,
    private readonly maxBatch = 64,
    /** Run a tick's only task on this thread when no worker has work (default true). */
    private readonly inlineWhenIdle = true,
  ) {
    for (let i = 0; i < threads; i++) this.spawn();
  }

  /**
   * Resolves when every worker has booted (or died). Booting a worker (module loading, and under tsx the
   * TypeScript transform, and the wasm) takes a core for a few hundred ms: a relay awaits it before serving so
   * that this work does not compete with its first writes. Tasks sent earlier are queued, never lost.
   */
  async ready(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.booted));
  }

  get size(): number {
    return this.workers.length;
  }

  /** Tasks run on this thread because they came alone to an idle pool. */
  get ranInline(): number {
    return this.inline;
  }

  /** Decodes TOON event data and verifies the event. Never rejects. */
  decodeAndVerify(toon: Uint8Array): Promise<GateResult> {
    return this.submit({ toon });
  }

  /** Verifies an event (shape, recomputed id, signature). Never rejects. */
  async verify(event: NostrEvent): Promise<boolean> {
    const result = await this.submit({ event });
    return 'valid' in result && result.valid;
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }

  private spawn(): void {
    const worker = startModuleWorker(import.meta.url, 'gate-worker');
    worker.unref(); // an idle pool must not keep the process alive
    let booted: () => void = () => {};
    const pw: PoolWorker = {
      worker,
      inFlight: new Map(),
      pending: 0,
      booted: new Promise<void>((resolve) => {
        booted = resolve;
      }),
    };
    worker.on('message', (msg: { seq: number; results: GateResult[] } | { ready: true; backend: string }) => {
      if ('ready' in msg) {
        this.backends.push(msg.backend);
        booted();
        return;
      }
      const { seq, results } = msg;
      const batch = pw.inFlight.get(seq);
      if (!batch) return;
      pw.inFlight.delete(seq);
      pw.pending -= batch.resolvers.length;
      batch.resolvers.forEach((resolve, j) => {
        resolve(results[j]!);
      });
    });
    // A worker that dies is removed; its unanswered tasks are redone on this thread, so no write is lost.
    const fail = () => {
      booted();
      const index = this.workers.indexOf(pw);
      if (index >= 0) this.workers.splice(index, 1);
      for (const { tasks, resolvers } of pw.inFlight.values()) {
        tasks.forEach((task, j) => {
          resolvers[j]!(runTask(task));
        });
      }
      pw.inFlight.clear();
      pw.pending = 0;
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    this.workers.push(pw);
  }

  private submit(task: GateTask): Promise<GateResult> {
    if (this.closed || this.workers.length === 0) return Promise.resolve(runTask(task));
    return new Promise<GateResult>((resolve) => {
      this.queue.push({ task, resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    // One write at a time (a payer 1 in flight): a worker would add two thread hops (post, wake, clone the event
    // back), which cost more CPU than they save and most of a write's latency on a loaded machine. With work already
    // on the workers, or several tasks in this tick, the workers take them, so under load the main thread keeps
    // only the cheap checks.
    if (this.inlineWhenIdle && queue.length === 1 && this.workers.every((w) => w.pending === 0)) {
      this.inline++;
      queue[0]!.resolve(runTask(queue[0]!.task));
      return;
    }
    // Spread the tick's tasks over all workers (a small burst to one worker would leave the other idle).
    const size = Math.min(this.maxBatch, Math.ceil(queue.length / Math.max(1, this.workers.length)));
    for (let i = 0; i < queue.length; i += size) {
      const chunk = queue.slice(i, i + size);
      const target = this.workers.reduce<PoolWorker | undefined>(
        (best, w) => (best === undefined || w.pending < best.pending ? w : best),
        undefined,
      );
      if (!target) {
        for (const item of chunk) item.resolve(runTask(item.task));
        continue;
      }
      const seq = this.seq++;
      const tasks = chunk.map((c) => c.task);
      target.inFlight.set(seq, { tasks, resolvers: chunk.map((c) => c.resolve) });
      target.pending += chunk.length;
      target.worker.postMessage({ seq, tasks });
    }
  }
}
