/** Shared helpers for benchmarks: run a function many times and report the median per call. */
export interface Timing {
  medianNs: number;
  p90Ns: number;
}

/**
 * Times `fn` in `samples` batches of `batch` calls each and returns the median and p90 nanoseconds per call.
 * Batching keeps timer resolution from dominating sub-microsecond operations.
 */
export function timeIt(fn: () => unknown, { samples = 200, batch = 100, warmup = 2000 } = {}): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const perCall: number[] = [];
  for (let s = 0; s < samples; s++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    perCall.push(Number(process.hrtime.bigint() - start) / batch);
  }
  perCall.sort((a, b) => a - b);
  return {
    medianNs: perCall[Math.floor(perCall.length / 2)]!,
    p90Ns: perCall[Math.floor(perCall.length * 0.9)]!,
  };
}

export function formatNs(ns: number): string {
  return ns < 1000 ? `${ns.toFixed(1)} ns` : `${(ns / 1000).toFixed(2)} µs`;
}
