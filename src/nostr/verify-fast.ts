// A faster event verifier: libsecp256k1 compiled to WebAssembly (npm `nostr-wasm`), about 5x nostr-tools' pure JS
// on this machine, optionally spread over worker threads so a relay uses every core for signatures.
// The rule of src/nostr/event.ts holds: verification recomputes the id from the fields (nostr-wasm hashes the
// NIP-01 serialization and compares it with `id` before checking the BIP-340 signature of that hash).
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { initNostrWasm, type Nostr } from 'nostr-wasm';
import { useFastSigner, validateEventShape, verifyEvent } from './event.js';
import type { NostrEvent } from './types.js';

/** Resolves to true when the event is well formed, its id is the hash of its fields and its signature verifies. */
export type AsyncVerifier = (event: NostrEvent) => Promise<boolean>;

let wasm: Promise<Nostr> | undefined;
let loaded: Nostr | undefined;

/** Loads (once per thread) the wasm module; the synchronous verifier below needs it. */
export function loadWasmVerifier(): Promise<Nostr> {
  wasm ??= initNostrWasm().then((n) => {
    loaded = n;
    useFastSigner((unsigned, id, secretKey) => {
      if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) return undefined;
      const e = { ...unsigned, tags: unsigned.tags.map((t) => [...t]), id: '', sig: '' };
      try {
        n.finalizeEvent(e, secretKey);
      } catch {
        return undefined;
      }
      return e.id === id && e.pubkey === unsigned.pubkey ? e.sig : undefined;
    });
    return n;
  });
  return wasm;
}

/**
 * The wasm module if this thread has finished loading it (loadWasmVerifier), for synchronous callers that fall
 * back to the JS verifier until then (NIP-59 unwrapping).
 */
export function loadedWasmVerifier(): Nostr | undefined {
  return loaded;
}

/** Synchronous verifyEvent: wasm once this thread has loaded it, the JS verifier (src/nostr/event.ts) before. */
export function verifyEventSync(event: NostrEvent): boolean {
  return loaded ? verifyWithWasm(loaded, event) : verifyEvent(event);
}

/**
 * Synchronous wasm verification with an already-loaded module. The shape is checked first (lowercase hex, integer
 * ranges, string tags): nostr-wasm would otherwise hash a malformed event and parse bad hex as zeros.
 */
export function verifyWithWasm(nostr: Nostr, event: unknown): boolean {
  let e: NostrEvent;
  try {
    e = validateEventShape(event);
  } catch {
    return false;
  }
  return verifyShapedWithWasm(nostr, e);
}

/**
 * verifyWithWasm for an event that has already passed a NIP-01 shape check at least as strict as
 * validateEventShape (e.g. the one `decodeEvent` of src/toon runs): skips checking the shape a second time.
 */
export function verifyShapedWithWasm(nostr: Nostr, event: NostrEvent): boolean {
  try {
    nostr.verifyEvent(event); // throws 'id is invalid', 'pubkey is invalid' or 'signature is invalid'
    return true;
  } catch {
    return false;
  }
}

/** verifyEvent with the wasm verifier, on the calling thread. */
export async function verifyEventFast(event: NostrEvent): Promise<boolean> {
  return verifyWithWasm(await loadWasmVerifier(), event);
}

// The worker is plain JS evaluated from a string, so it runs the same way under tsx, vitest and compiled output.
// It receives batches of already shape-checked events and answers with one boolean per event.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.moduleUrl).then(async ({ initNostrWasm }) => {
  const nostr = await initNostrWasm();
  parentPort.on('message', ({ seq, events }) => {
    const results = events.map((e) => { try { nostr.verifyEvent(e); return true; } catch { return false; } });
    parentPort.postMessage({ seq, results });
  });
});
`;

interface Batch {
  resolvers: ((ok: boolean) => void)[];
}

interface PoolWorker {
  worker: Worker;
  inFlight: Map<number, Batch>;
  pending: number;
}

export interface VerifierPoolOptions {
  /** Worker threads; default: the number of cores (at least 1). */
  threads?: number;
  /** Most events sent to a worker in one message; batching amortizes the cost of postMessage. */
  maxBatch?: number;
}

/**
 * Verifies events on worker threads running the wasm verifier. Calls made in the same tick are batched; each batch
 * goes to the least busy worker. `verify` never rejects: a worker failure answers false for its events.
 */
export class VerifierPool {
  private readonly workers: PoolWorker[] = [];
  private queue: { event: NostrEvent; resolve: (ok: boolean) => void }[] = [];
  private scheduled = false;
  private seq = 0;
  private closed = false;
  private readonly maxBatch: number;

  constructor(options: VerifierPoolOptions = {}) {
    const threads = Math.max(1, options.threads ?? availableParallelism());
    this.maxBatch = options.maxBatch ?? 64;
    const moduleUrl = pathToFileURL(createRequire(import.meta.url).resolve('nostr-wasm')).href;
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { moduleUrl } });
      worker.unref(); // an idle pool must not keep the process alive
      const pw: PoolWorker = { worker, inFlight: new Map(), pending: 0 };
      worker.on('message', ({ seq, results }: { seq: number; results: boolean[] }) => {
        const batch = pw.inFlight.get(seq);
        if (!batch) return;
        pw.inFlight.delete(seq);
        pw.pending -= batch.resolvers.length;
        batch.resolvers.forEach((resolve, j) => {
          resolve(results[j] === true);
        });
      });
      const fail = () => {
        for (const batch of pw.inFlight.values()) for (const resolve of batch.resolvers) resolve(false);
        pw.inFlight.clear();
        pw.pending = 0;
        const index = this.workers.indexOf(pw);
        if (index >= 0) this.workers.splice(index, 1);
      };
      worker.on('error', fail);
      worker.on('exit', fail);
      this.workers.push(pw);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  readonly verify: AsyncVerifier = (event) => {
    let e: NostrEvent;
    try {
      e = validateEventShape(event);
    } catch {
      return Promise.resolve(false);
    }
    if (this.closed || this.workers.length === 0) return verifyEventFast(e);
    return new Promise<boolean>((resolve) => {
      this.queue.push({ event: e, resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  };

  private flush(): void {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    for (let i = 0; i < queue.length; i += this.maxBatch) {
      const chunk = queue.slice(i, i + this.maxBatch);
      const target = this.workers.reduce((a, b) => (b.pending < a.pending ? b : a), this.workers[0]!);
      if (!target) {
        for (const item of chunk) verifyEventFast(item.event).then(item.resolve);
        continue;
      }
      const seq = this.seq++;
      target.inFlight.set(seq, { resolvers: chunk.map((c) => c.resolve) });
      target.pending += chunk.length;
      target.worker.postMessage({ seq, events: chunk.map((c) => c.event) });
    }
  }

  /** Stops the workers; later calls verify on the calling thread. */
  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}
