import { describe, expect, it } from 'vitest';
import { createLogger, parseLogLevel } from '../../src/node/index.js';

function capture(level: Parameters<typeof createLogger>[0] extends infer O ? O : never) {
  const lines: string[] = [];
  const log = createLogger({ ...level, write: (l) => lines.push(l) });
  return { log, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>), lines };
}

describe('createLogger', () => {
  it('writes one JSON object per line with level, time, msg and fields (bigints as strings)', () => {
    const { log, records, lines } = capture({ level: 'info' });
    log.info('node started', { port: 7777, price: 10n ** 13n, error: new Error('boom') });
    expect(lines[0]!.endsWith('\n')).toBe(true);
    const [r] = records();
    expect(r).toMatchObject({ level: 'info', msg: 'node started', port: 7777, price: '10000000000000' });
    expect(r!.error).toEqual({ name: 'Error', message: 'boom' });
    expect(Date.parse(r!.time as string)).toBeGreaterThan(0);
  });

  it('drops lines below the level', () => {
    const { log, records } = capture({ level: 'warn' });
    log.debug('a');
    log.info('b');
    log.warn('c');
    log.error('d');
    expect(records().map((r) => r.msg)).toEqual(['c', 'd']);
  });

  it('redacts fields named like secrets, keeps pubkeys, and child loggers add fields', () => {
    const { log, records } = capture({ level: 'debug' });
    log.child({ part: 'spsp' }).info('x', {
      sharedSecret: 'AAAA',
      btpToken: 'tok',
      walletKey: '0xabc',
      privateKey: '0xdef',
      pubkey: 'ab'.repeat(32),
    });
    expect(records()[0]).toMatchObject({
      part: 'spsp',
      sharedSecret: '[redacted]',
      btpToken: '[redacted]',
      walletKey: '[redacted]',
      privateKey: '[redacted]',
      pubkey: 'ab'.repeat(32),
    });
  });

  it('parseLogLevel refuses unknown levels with the list', () => {
    expect(parseLogLevel('debug')).toBe('debug');
    expect(() => parseLogLevel('verbose')).toThrow(/debug, info, warn, error/);
  });
});
