// The disk's own floor for a durable write, measured in the same run as the figures it explains: the time of one
// fdatasync after a 4 KiB write (what a SQLite WAL commit with synchronous = FULL costs at least), in the directory
// the node keeps its files in. A paid write waits for two of them in a row (relay.db, then connector.db:
// docs/decisions.md, issue 17), so a p99 target below twice this disk's fdatasync p99 cannot be met on it.
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface DiskSync {
  samples: number;
  p50: number;
  p99: number;
}

/** `samples` x (write 4 KiB at a rotating offset + fdatasync) in `dir`, each timed; milliseconds. */
export function measureFdatasync(dir: string, samples = 200): DiskSync {
  const path = join(dir, 'fdatasync-probe');
  const fd = openSync(path, 'w');
  const page = Buffer.alloc(4096, 7);
  const times: number[] = [];
  try {
    // The probe's pages exist before timing: a write that extends the file makes its fdatasync commit the file's
    // size too (a journal commit): p99 0.22-1.6 ms in 5 probes here, against 0.18-0.63 with the pages in place.
    for (let i = 0; i < 64; i++) writeSync(fd, page, 0, page.length, i * page.length);
    fdatasyncSync(fd);
    for (let i = 0; i < samples; i++) {
      const t0 = process.hrtime.bigint();
      writeSync(fd, page, 0, page.length, (i % 64) * page.length);
      fdatasyncSync(fd);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor(times.length * p))]!;
  return { samples, p50: pct(0.5), p99: pct(0.99) };
}

/** Fdatasyncs a paid write waits for, one after the other: relay.db (the event), then connector.db (the packet). */
export const SYNCS_PER_PAID_WRITE = 2;

/**
 * The verdict of a latency target for a durable write, with the disk's figure beside it: MET, or NOT MET saying
 * whether this disk alone rules the target out (its fdatasync p99 times the syncs in a row is above the target).
 */
export function durableLatencyVerdict(p99: number, targetMs: number, disk: DiskSync): string {
  const figure = `this disk's fdatasync p50 ${disk.p50.toFixed(2)} ms / p99 ${disk.p99.toFixed(2)} ms, ${disk.samples} samples in this run`;
  if (p99 < targetMs) return `MET; ${figure}`;
  const floor = SYNCS_PER_PAID_WRITE * disk.p99;
  if (floor >= targetMs) {
    return `NOT MET: not possible on this disk, a paid write waits for ${SYNCS_PER_PAID_WRITE} fdatasyncs in a row (relay.db, then connector.db) and ${figure} (x${SYNCS_PER_PAID_WRITE} = ${floor.toFixed(2)} ms >= ${targetMs} ms)`;
  }
  return `NOT MET, and not because of the disk: ${figure}`;
}
