import { describe, expect, it } from 'vitest';
import {
  deserializeIldcpRequest,
  deserializeIldcpResponse,
  ILDCP_CONDITION,
  IlpCodecError,
  serializeIldcpRequest,
  serializeIldcpResponse,
} from '../../src/ilp/index.js';
import { b64, hex, loadVector, toHex } from './vectors.js';

interface IldcpVectors {
  condition_base64: string;
  request_valid: { hex: string; expiresAt: string };
  request_invalid: { hex: string; why: string }[];
  response_valid: { hex: string; clientAddress: string; assetScale: number; assetCode: string };
  response_invalid: { hex: string; why: string }[];
}
const v = loadVector<IldcpVectors>('ildcp/ildcp.vectors.json');
const now = new Date('2015-06-16T00:00:30.000Z');

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IlpCodecError);
    return (e as IlpCodecError).code;
  }
  throw new Error('expected a throw');
}

describe('ILDCP vectors', () => {
  it('has 1+3 request and 1+1 response vectors', () => {
    expect(v.request_invalid).toHaveLength(3);
    expect(v.response_invalid).toHaveLength(1);
  });
  it('the condition is SHA-256 of 32 zero bytes', () =>
    expect(toHex(ILDCP_CONDITION)).toBe(toHex(b64(v.condition_base64))));
  it('serializes and accepts the valid request', () => {
    expect(toHex(serializeIldcpRequest(new Date(v.request_valid.expiresAt)))).toBe(v.request_valid.hex);
    expect(deserializeIldcpRequest(hex(v.request_valid.hex), now).expiresAt.toISOString()).toBe(
      v.request_valid.expiresAt,
    );
  });
  for (const bad of v.request_invalid) {
    it(`rejects a request: ${bad.why}`, () =>
      expect(codeOf(() => deserializeIldcpRequest(hex(bad.hex), now))).toBe('ILDCP_BAD_REQUEST'));
  }
  it('serializes and decodes the valid response', () => {
    const { clientAddress, assetScale, assetCode } = v.response_valid;
    expect(toHex(serializeIldcpResponse({ clientAddress, assetScale, assetCode }))).toBe(
      v.response_valid.hex,
    );
    expect(deserializeIldcpResponse(hex(v.response_valid.hex))).toEqual({
      clientAddress,
      assetScale,
      assetCode,
    });
  });
  for (const bad of v.response_invalid) {
    it(`rejects a response: ${bad.why}`, () =>
      expect(codeOf(() => deserializeIldcpResponse(hex(bad.hex)))).toBe('ILDCP_BAD_RESPONSE'));
  }
});
