// Counts the write calls of a server-side socket (one `_write` or `_writev` per call that reaches the kernel), for
// the tests that check frames of one tick leave in one write. The bytes still go out unchanged.
import type { Socket } from 'node:net';

/** Wraps the socket's write methods; returns how many calls they had so far. */
export function countSocketWrites(socket: Socket): () => number {
  const s = socket as Socket & Record<'_write' | '_writev', unknown>;
  let calls = 0;
  for (const m of ['_write', '_writev'] as const) {
    const original = s[m] as ((...a: unknown[]) => unknown) | undefined;
    if (!original) continue;
    s[m] = (...a: unknown[]) => {
      calls++;
      return original.apply(socket, a);
    };
  }
  return () => calls;
}
