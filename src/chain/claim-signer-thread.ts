// Claim signature checks on a worker thread (the node turns it on): a check costs scalar multiplications that
// otherwise run on the thread moving packets. Same verdicts as claimSignedBy inline; if the thread dies, checks in
// flight and later ones run inline, so no claim is lost or decided differently.
import type { Worker } from 'node:worker_threads';
import type { Address, Hex } from 'viem';
import { startModuleWorker } from '../transport/module-worker.js';
import type { SignerReply, SignerTask } from './claim-signer-worker.js';
import { claimSignedBy } from './claim-signers.js';

type Verdict = { valid: boolean; signer: Address | null };

let thread: ClaimSignerThread | undefined;
/** Users of the shared thread (several nodes may run in one process): it stops when the last one stops. */
let users = 0;

/** Checks a claim signature on the shared thread when one is started (startClaimSignerThread), else inline. */
export function checkClaimSignature(hash: Hex, signature: Hex, expected: Address): Promise<Verdict> {
  return thread ? thread.check(hash, signature, expected) : claimSignedBy(hash, signature, expected);
}

/** Starts the shared thread or joins it; returns this user's stop function. Resolves once the thread has loaded. */
export async function startClaimSignerThread(): Promise<() => Promise<void>> {
  thread ??= new ClaimSignerThread();
  const t = thread;
  users++;
  let stopped = false;
  await t.ready;
  return async () => {
    if (stopped) return;
    stopped = true;
    if (--users > 0 && thread === t) return;
    if (thread === t) thread = undefined;
    await t.close();
  };
}

class ClaimSignerThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { task: SignerTask; resolve: (v: Verdict) => void }>();
  private nextId = 1;
  private dead = false;
  readonly ready: Promise<void>;

  constructor() {
    this.worker = startModuleWorker(import.meta.url, 'claim-signer-worker');
    this.worker.unref();
    let booted: () => void = () => {};
    this.ready = new Promise<void>((resolve) => {
      booted = resolve;
    });
    this.worker.on('message', (m: SignerReply | { ready: true }) => {
      if ('ready' in m) {
        booted();
        return;
      }
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) this.worker.unref();
      w.resolve({ valid: m.valid, signer: m.signer });
    });
    const die = () => {
      booted();
      if (this.dead) return;
      this.dead = true;
      if (thread === this) thread = undefined;
      for (const { task, resolve } of this.waiting.values()) {
        void claimSignedBy(task.hash, task.signature, task.expected).then(resolve);
      }
      this.waiting.clear();
    };
    this.worker.on('error', die);
    this.worker.on('exit', die);
  }

  check(hash: Hex, signature: Hex, expected: Address): Promise<Verdict> {
    if (this.dead) return claimSignedBy(hash, signature, expected);
    return new Promise<Verdict>((resolve) => {
      const task: SignerTask = { id: this.nextId++, hash, signature, expected };
      this.waiting.set(task.id, { task, resolve });
      this.worker.ref();
      this.worker.postMessage(task);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate(); // 'exit' runs die(): checks still waiting finish inline
  }
}
