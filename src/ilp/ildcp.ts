// ILDCP (RFC 0031): a child asks its parent connector for its ILP address and asset.
// Request: PREPARE to peer.config, amount 0, condition SHA-256(32 zero bytes), empty data.
// Response: FULFILL with the all-zero fulfillment; data = var-string address, uint8 scale, var-string code.
import { assertIlpAddress } from './address.js';
import { IlpCodecError } from './codec-error.js';
import { OerReader, OerWriter } from './oer.js';
import {
  deserializeIlpFulfill,
  deserializeIlpPrepare,
  serializeIlpFulfill,
  serializeIlpPrepare,
} from './packet.js';

export const ILDCP_DESTINATION = 'peer.config';
export const ILDCP_FULFILLMENT = new Uint8Array(32);
/** SHA-256 of 32 zero bytes. */
export const ILDCP_CONDITION = Uint8Array.from(
  Buffer.from('66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925', 'hex'),
);

export interface IldcpResponse {
  clientAddress: string;
  assetScale: number;
  assetCode: string;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function serializeIldcpRequest(expiresAt: Date = new Date(Date.now() + 60_000)): Uint8Array {
  return serializeIlpPrepare({
    amount: 0n,
    expiresAt,
    executionCondition: ILDCP_CONDITION,
    destination: ILDCP_DESTINATION,
    data: new Uint8Array(0),
  });
}

/** Checks that `bytes` is an ILDCP request that has not expired at `now`; returns its expiry. */
export function deserializeIldcpRequest(bytes: Uint8Array, now: Date = new Date()): { expiresAt: Date } {
  const p = deserializeIlpPrepare(bytes);
  const bad = (why: string): never => {
    throw new IlpCodecError('ILDCP_BAD_REQUEST', `not an ILDCP request: ${why}`);
  };
  if (p.destination !== ILDCP_DESTINATION)
    bad(`destination is ${p.destination}, expected ${ILDCP_DESTINATION}`);
  if (!sameBytes(p.executionCondition, ILDCP_CONDITION))
    bad('executionCondition is not SHA-256 of 32 zero bytes');
  if (p.expiresAt.getTime() <= now.getTime()) bad(`it expired at ${p.expiresAt.toISOString()}`);
  return { expiresAt: p.expiresAt };
}

export function serializeIldcpResponse(r: IldcpResponse): Uint8Array {
  assertIlpAddress(r.clientAddress, 'clientAddress');
  const w = new OerWriter();
  w.writeVarOctetString(utf8.encode(r.clientAddress));
  w.writeUInt8(r.assetScale);
  w.writeVarOctetString(utf8.encode(r.assetCode));
  return serializeIlpFulfill({ fulfillment: ILDCP_FULFILLMENT, data: w.finish() });
}

export function deserializeIldcpResponse(bytes: Uint8Array): IldcpResponse {
  const f = deserializeIlpFulfill(bytes);
  if (!sameBytes(f.fulfillment, ILDCP_FULFILLMENT)) {
    throw new IlpCodecError(
      'ILDCP_BAD_RESPONSE',
      'not an ILDCP response: the fulfillment must be 32 zero bytes',
    );
  }
  const r = new OerReader(f.data);
  try {
    const clientAddress = utf8Strict.decode(r.readVarOctetString('clientAddress'));
    assertIlpAddress(clientAddress, 'clientAddress');
    const assetScale = r.readUInt8('assetScale');
    const assetCode = utf8Strict.decode(r.readVarOctetString('assetCode'));
    r.assertEnd('ILDCP response data');
    return { clientAddress, assetScale, assetCode };
  } catch (e) {
    if (e instanceof IlpCodecError) throw e;
    throw new IlpCodecError('BAD_UTF8', 'ILDCP response holds text that is not UTF-8');
  }
}
