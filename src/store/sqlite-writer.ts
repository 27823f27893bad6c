// Main-thread handle of the event store's writer thread (sqlite-writer-worker.ts): sends batches, gets their
// outcomes. With the commit (and its fsync) off the main thread, the relay keeps verifying, routing and answering
// while a batch is on its way to the disk; the events saved meanwhile form the next batch (pipelined group commit).
import type { Worker } from 'node:worker_threads';
import type { NostrEvent } from '../nostr/types.js';
import { startModuleWorker } from '../transport/module-worker.js';
import type { WireError, WireResult, WriterReply } from './sqlite-writer-worker.js';

export interface EventWriterEvents {
  /** Batch `id` was committed (one result per event) or its commit failed (`failed`, nothing written). */
  onDone(id: number, results: WireResult[] | undefined, failed: WireError | undefined): void;
  /** The thread stopped or could not open the file: the batch it held may or may not be written. */
  onDead(reason: string): void;
  /** A checkpoint asked by `checkpoint()` ran; `complete`: every WAL frame is in the database file. */
  onCheckpoint?(complete: boolean): void;
}

export class EventWriter {
  private readonly worker: Worker;
  private dead = false;
  private readonly exited: Promise<void>;
  /** Resolves once the thread has opened the file (or died). */
  readonly ready: Promise<void>;

  constructor(path: string, events: EventWriterEvents) {
    this.worker = startModuleWorker(import.meta.url, 'sqlite-writer-worker', { path });
    this.worker.unref();
    let booted: () => void = () => {};
    this.ready = new Promise<void>((resolve) => {
      booted = resolve;
    });
    const die = (reason: string) => {
      booted();
      if (this.dead) return;
      this.dead = true;
      events.onDead(reason);
    };
    this.worker.on('message', (m: WriterReply) => {
      if ('ready' in m) {
        if (m.ready) booted();
        else die(`could not open the file: ${m.error.message}`);
        return;
      }
      if ('checkpoint' in m) events.onCheckpoint?.(m.checkpoint);
      else events.onDone(m.id, 'results' in m ? m.results : undefined, 'failed' in m ? m.failed : undefined);
    });
    this.worker.on('error', (err) => die(err.message));
    this.exited = new Promise<void>((resolve) =>
      this.worker.once('exit', (code) => {
        die(`exit ${code}`);
        resolve();
      }),
    );
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** Sends a batch; keeps the process alive until it is answered. */
  write(id: number, events: readonly NostrEvent[]): void {
    this.worker.ref();
    this.worker.postMessage({ id, events });
  }

  /** Asks the thread for up to `passes` PASSIVE checkpoints (after commits made on the main thread), queued behind its batches. */
  checkpoint(passes: number): void {
    if (!this.dead) this.worker.postMessage({ checkpoint: passes });
  }

  idle(): void {
    this.worker.unref();
  }

  /** Closes the thread's connection and waits for the thread to end. */
  async close(): Promise<void> {
    if (!this.dead) {
      this.dead = true;
      this.worker.postMessage({ close: true });
    }
    const timer = setTimeout(() => void this.worker.terminate(), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
