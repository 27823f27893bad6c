// Runs inside a worker thread of GatePool: decodes TOON event data and verifies the event (native libsecp256k1, else
// wasm; id recomputed), the two CPU-heavy steps of a paid write, so the main thread keeps only the cheap checks,
// storage and sockets.
import { parentPort } from 'node:worker_threads';
import type { NostrEvent } from '../nostr/types.js';
import { loadFastVerifier, verifyWith } from '../nostr/verify-fast.js';
import { decodeEvent } from '../toon/index.js';

export type GateTask = { toon: Uint8Array } | { event: unknown };
export type GateResult = { event: NostrEvent; valid: boolean } | { error: string };

const verifier = await loadFastVerifier();

export function runTask(task: GateTask): GateResult {
  if ('toon' in task) {
    let event: NostrEvent;
    try {
      event = decodeEvent(task.toon);
    } catch (err) {
      return { error: (err as Error).message };
    }
    // decodeEvent has already checked the NIP-01 shape (lowercase hex, integer ranges, string tags).
    return { event, valid: verifier.verifyShaped(event) };
  }
  return { event: task.event as NostrEvent, valid: verifyWith(verifier, task.event) };
}

parentPort?.on('message', ({ seq, tasks }: { seq: number; tasks: GateTask[] }) => {
  parentPort?.postMessage({ seq, results: tasks.map(runTask) });
});
// Modules and wasm are loaded: tell the pool, so a relay starts serving only once its workers can verify.
parentPort?.postMessage({ ready: true, backend: verifier.backend });
