// The spinner draws on a terminal in text mode only; pipes and json/csv output never see it.
import { describe, expect, it } from 'vitest';
import { startProgress, withProgress } from '../../src/cli/progress.js';

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return {
    writes,
    s: { isTTY, write: (t: string) => writes.push(t) > 0 } as unknown as NodeJS.WriteStream,
  };
}

describe('progress', () => {
  it('draws frames and a final ✓ line on a terminal in text mode', async () => {
    const t = stream(true);
    const p = startProgress('opening a channel', { format: 'text', stream: t.s });
    await new Promise((r) => setTimeout(r, 200));
    p.succeed('opened');
    expect(t.writes.length).toBeGreaterThan(2);
    expect(t.writes[0]).toContain('opening a channel');
    expect(t.writes.at(-1)).toBe('\r\x1b[2K✓ opened\n');
  });

  it('stays silent when the stream is not a terminal or the format is json/csv', async () => {
    for (const [tty, format] of [
      [false, 'text'],
      [true, 'json'],
      [true, 'csv'],
    ] as const) {
      const t = stream(tty);
      await withProgress('x', { format, stream: t.s }, async () => {});
      expect(t.writes).toEqual([]);
    }
  });

  it('marks a failed step with ✗ and lets the error through', async () => {
    const t = stream(true);
    await expect(
      withProgress('sending', { format: 'text', stream: t.s }, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(t.writes.at(-1)).toBe('\r\x1b[2K✗ sending\n');
  });
});
