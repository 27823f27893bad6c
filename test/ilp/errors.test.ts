import { describe, expect, it } from 'vitest';
import {
  deserializeIlpReject,
  ILP_ERROR_NAMES,
  IlpCodecError,
  IlpError,
  IlpErrorCode,
  rejectOf,
  serializeIlpReject,
} from '../../src/ilp/index.js';

describe('ILP error codes', () => {
  it('has the 21 RFC 0027 codes with their names', () => {
    const codes = Object.values(IlpErrorCode);
    expect(codes).toHaveLength(21);
    expect(new Set(codes).size).toBe(21);
    expect(IlpErrorCode.F04_INSUFFICIENT_DESTINATION_AMOUNT).toBe('F04');
    expect(IlpErrorCode.T04_INSUFFICIENT_LIQUIDITY).toBe('T04');
    expect(IlpErrorCode.R00_TRANSFER_TIMED_OUT).toBe('R00');
    for (const c of codes) expect(ILP_ERROR_NAMES[c]).toMatch(/^[A-Z]/);
  });
  it('matches the codes of ilp-packet (test oracle)', async () => {
    const oracle = await import('ilp-packet');
    expect(Object.values(IlpErrorCode).sort()).toEqual(Object.values(oracle.IlpError).sort());
  });
});

describe('rejectOf and IlpError', () => {
  it('rejectOf builds a REJECT that serializes', () => {
    const r = rejectOf(IlpErrorCode.F02_UNREACHABLE, 'no route to g.nowhere', 'g.crosstown');
    expect(r).toEqual({
      type: 14,
      code: 'F02',
      message: 'no route to g.nowhere',
      triggeredBy: 'g.crosstown',
      data: new Uint8Array(),
    });
    expect(deserializeIlpReject(serializeIlpReject(r))).toEqual(r);
  });
  it('rejectOf refuses malformed codes', () => {
    expect(() => rejectOf('F4', 'x', '')).toThrow(IlpCodecError);
    expect(() => rejectOf('Z00', 'x', '')).toThrow(IlpCodecError);
  });
  it('IlpError carries code, triggeredBy, data and turns into a REJECT', () => {
    const e = new IlpError(IlpErrorCode.F04_INSUFFICIENT_DESTINATION_AMOUNT, 'paid 10, need 875', {
      data: new Uint8Array([1, 2]),
    });
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('F04');
    expect(e.triggeredBy).toBe('');
    expect(e.toReject('g.relay')).toEqual({
      type: 14,
      code: 'F04',
      triggeredBy: 'g.relay',
      message: 'paid 10, need 875',
      data: new Uint8Array([1, 2]),
    });
    const named = new IlpError('T04', 'no liquidity', { triggeredBy: 'g.connector' });
    expect(named.toReject('g.relay').triggeredBy).toBe('g.connector');
  });
  it('IlpError keeps its cause', () => {
    const cause = new Error('db down');
    expect(new IlpError('T00', 'internal', { cause }).cause).toBe(cause);
  });
});
