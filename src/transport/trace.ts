// Marks on one clock (performance.now) along a packet's or a job's path, to see where the milliseconds go
// (issue 17: `CROSSTOWN_TRACE=1 npm run bench provider-e2e` prints them per job). Off by default: a mark is then one
// boolean test. Marks made on worker threads stay there (each thread has its own list).
const on = process.env.CROSSTOWN_TRACE === '1';
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
