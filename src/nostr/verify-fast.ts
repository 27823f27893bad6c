// Faster event verifiers: the system's libsecp256k1 through koffi (schnorr-native.ts, about 5x nostr-wasm) when it
// loads, else libsecp256k1 compiled to WebAssembly (npm `nostr-wasm`, about 5x nostr-tools' pure JS on this
// machine), optionally spread over worker threads so a relay uses every core for signatures.
// The rule of src/nostr/event.ts holds: verification recomputes the id from the fields (the native path hashes
// serializeEvent here; nostr-wasm hashes the NIP-01 serialization itself) and compares it with `id` before checking
// the BIP-340 signature of that hash.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { initNostrWasm, type Nostr } from 'nostr-wasm';
import { startEvalWorker } from '../transport/eval-worker.js';
import { serializeEvent, useFastSigner, validateEventShape, verifyEvent } from './event.js';
import { type NativeSchnorr, nativeSchnorr } from './schnorr-native.js';
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

/**
 * Synchronous verifyEvent: native libsecp256k1 when it loads, else wasm once this thread has loaded it, else the JS
 * verifier (src/nostr/event.ts).
 */
export function verifyEventSync(event: NostrEvent): boolean {
  const native = nativeSchnorr();
  if (native) return verifyWith(nativeShapedVerifier(native), event);
  return loaded ? verifyWithWasm(loaded, event) : verifyEvent(event);
}

/** Checks an event that has already passed a NIP-01 shape check: recomputes its id, then checks its signature. */
export interface ShapedVerifier {
  /** `native libsecp256k1.so.1` or `wasm`: what checks the signatures (logged by the node at start). */
  readonly backend: string;
  verifyShaped(event: NostrEvent): boolean;
}

const nativeVerifiers = new WeakMap<NativeSchnorr, ShapedVerifier>();

/** The event verifier over the native library: id = SHA-256 of serializeEvent (node:crypto), then BIP-340. */
export function nativeShapedVerifier(native: NativeSchnorr): ShapedVerifier {
  let v = nativeVerifiers.get(native);
  if (!v) {
    v = {
      backend: `native ${native.library}`,
      verifyShaped(event) {
        const id = createHash('sha256').update(serializeEvent(event)).digest();
        if (id.toString('hex') !== event.id) return false;
        // The shape check guarantees lowercase hex of the right lengths, so these decode exactly.
        return native.verify(Buffer.from(event.sig, 'hex'), id, Buffer.from(event.pubkey, 'hex'));
      },
    };
    nativeVerifiers.set(native, v);
  }
  return v;
}

/** The event verifier over nostr-wasm. */
export function wasmShapedVerifier(nostr: Nostr): ShapedVerifier {
  return { backend: 'wasm', verifyShaped: (event) => verifyShapedWithWasm(nostr, event) };
}

let fast: Promise<ShapedVerifier> | undefined;

/**
 * The fastest verifier this thread can use, loaded once: native libsecp256k1 if it loads (schnorr-native.ts), else
 * nostr-wasm. The wasm module is loaded either way: finalizeEvent signs with it.
 */
export function loadFastVerifier(): Promise<ShapedVerifier> {
  fast ??= loadWasmVerifier().then((nostr) => {
    const native = nativeSchnorr();
    return native ? nativeShapedVerifier(native) : wasmShapedVerifier(nostr);
  });
  return fast;
}

/** Shape check (lowercase hex, integer ranges, string tags), then `verifier`. False for anything malformed. */
export function verifyWith(verifier: ShapedVerifier, event: unknown): boolean {
  const e = shapedOrUndefined(event);
  return e !== undefined && verifier.verifyShaped(e);
}

/** The event if it passes validateEventShape, else undefined. */
function shapedOrUndefined(event: unknown): NostrEvent | undefined {
  try {
    return validateEventShape(event);
  } catch {
    return undefined;
  }
}

/**
 * Synchronous wasm verification with an already-loaded module. The shape is checked first (lowercase hex, integer
 * ranges, string tags): nostr-wasm would otherwise hash a malformed event and parse bad hex as zeros.
 */
export function verifyWithWasm(nostr: Nostr, event: unknown): boolean {
  const e = shapedOrUndefined(event);
  return e !== undefined && verifyShapedWithWasm(nostr, e);
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

/** verifyEvent with the fastest verifier (native, else wasm), on the calling thread. */
export async function verifyEventFast(event: NostrEvent): Promise<boolean> {
  return verifyWith(await loadFastVerifier(), event);
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
      const worker = startEvalWorker(WORKER_SOURCE, { workerData: { moduleUrl } });
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
