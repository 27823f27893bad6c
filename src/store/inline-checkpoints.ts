// When a store commits on its main thread (the idle fast path: no writer-thread hand-offs for a lone write), that
// connection never checkpoints (`wal_autocheckpoint = 0`): SQLite's automatic checkpoint would run inside a
// packet's commit (several ms against ~0.3 for the commit). Instead, every `every` commits made there, the writer
// thread is asked for a checkpoint, which runs beside the next commits. If they overtook it (it could not copy every
// frame, or commits landed meanwhile), a short last pass runs while the main thread sends its writes to the writer
// thread, behind the pass, so the WAL starts again from its beginning instead of growing while a payer keeps
// writing. Used by relay.db (src/store/sqlite.ts) and connector.db (src/connector/store-sqlite.ts).
import { mark, tracing } from '../transport/trace.js';

export class InlineCheckpoints {
  /** Commits made on the main thread since the last request. */
  private commits = 0;
  /** `final`: the writer thread runs the short last pass, and writes go there, behind it. */
  private state: 'no' | 'first' | 'final' = 'no';
  private committedDuring = false;

  constructor(
    private readonly every: number,
    /** Asks the writer thread for up to `passes` PASSIVE checkpoints, behind its queued batches. */
    private readonly ask: (passes: number) => void,
    /** The database, in trace marks (CROSSTOWN_TRACE). */
    private readonly name = 'db',
  ) {}

  private request(passes: number): void {
    if (tracing) mark(`${this.name} checkpoint asked ${passes}`);
    this.ask(passes);
  }

  /** Whether writes must go to the writer thread now (its last pass runs; they queue behind it). */
  get toWriter(): boolean {
    return this.state === 'final';
  }

  /** A commit was made on the main thread; asks for a checkpoint every `every` of them (`ask` false: only count). */
  committed(ask = true): void {
    this.committedDuring = true;
    if (++this.commits < this.every || this.state !== 'no' || !ask) return;
    this.commits = 0;
    this.state = 'first';
    this.committedDuring = false;
    this.request(1);
  }

  /** The writer thread ran a checkpoint; `complete`: every frame there was when it began is copied. */
  passDone(complete: boolean): void {
    if (tracing) mark(`${this.name} checkpoint done ${complete}`);
    if (this.state === 'first' && (!complete || this.committedDuring)) {
      this.state = 'final';
      this.request(8);
    } else this.state = 'no';
  }

  /** The writer thread is gone: nothing is pending (its connection checkpoints on its own from now on). */
  reset(): void {
    this.state = 'no';
  }
}
