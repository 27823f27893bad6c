// TEMPORARY (issue 17 i17p): marks on one clock for tracing one job's path. Off unless CROSSTOWN_TRACE=1.
const on = process.env.CROSSTOWN_TRACE === '1';
type Mark = [number, string];
const g = globalThis as unknown as { __ctMarks?: Mark[] };
const marks: Mark[] = (g.__ctMarks ??= []);
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
