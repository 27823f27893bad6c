// Marks on one clock (performance.now) along a packet's or a job's path, to see where the milliseconds go
// (issue 17: `CROSSTOWN_TRACE=1 npm run bench provider-e2e` prints them per job). Off by default: a mark is then one
// boolean test. Marks made on worker threads stay there (each thread has its own list).
// CROSSTOWN_TRACE_FILE=<path>: the main thread's marks are written there as `<ms>\t<label>` lines when the process
// exits (how `npm run bench connector` reads a node child process's marks); `%p` in it becomes the process id.
import { writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

const on = process.env.CROSSTOWN_TRACE === '1';
// CROSSTOWN_TRACE=gc: only the garbage collections (marks retained in memory make each collection slower).
const gcOnly = process.env.CROSSTOWN_TRACE === 'gc';
type Mark = [number, string];
const marks: Mark[] = [];
export const tracing = on;
export function mark(label: string): void {
  if (on) marks.push([performance.now(), label]);
}
export function takeMarks(from: number, to: number): Mark[] {
  return marks.filter(([t]) => t >= from && t <= to);
}
export function clearMarks(): void {
  marks.length = 0;
}

const file = process.env.CROSSTOWN_TRACE_FILE;
if ((on || gcOnly) && file && isMainThread) {
  // Garbage collections of this thread, as two marks each (they pause the event loop on a packet's path).
  const gcs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind;
      marks.push([e.startTime, `gc start kind ${kind}`], [e.startTime + e.duration, `gc end kind ${kind}`]);
    }
  });
  gcs.observe({ entryTypes: ['gc'] });
  process.once('exit', () => {
    gcs.disconnect();
    marks.sort((a, b) => a[0] - b[0]);
    writeFileSync(
      file.replace('%p', String(process.pid)),
      marks.map(([t, label]) => `${t.toFixed(3)}\t${label}\n`).join(''),
    );
  });
}
