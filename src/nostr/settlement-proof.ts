// Proof that an SPSP requester controls the settlement address it declares (DESIGN §3, "one channel bound to
// one peer, whose control of its settlement address is proven"): an EIP-191 signature by that address over
// settlementProofMessage(). Checked synchronously (the SPSP responder is synchronous) with @noble/curves.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hashMessage, hexToBytes, isAddressEqual, toHex } from 'viem';
import { publicKeyToAddress } from 'viem/accounts';
import { settlementProofMessage } from './settlement.js';

const HALF_N = secp256k1.Point.CURVE().n >> 1n;

/** True when `signature` (65-byte hex, v 27/28, low s) is `settlementAddress` signing the proof message. */
export function verifySettlementProof(p: {
  settlementAddress: `0x${string}`;
  requesterPubkey: string;
  nodePubkey: string;
  signature: string;
}): boolean {
  if (!/^0x[0-9a-fA-F]{130}$/.test(p.signature)) return false;
  const bytes = hexToBytes(p.signature as `0x${string}`);
  const v = bytes[64]!;
  if (v !== 27 && v !== 28) return false;
  const r = BigInt(toHex(bytes.subarray(0, 32)));
  const s = BigInt(toHex(bytes.subarray(32, 64)));
  if (r === 0n || s === 0n || s > HALF_N) return false;
  try {
    const hash = hexToBytes(hashMessage(settlementProofMessage(p)));
    const point = new secp256k1.Signature(r, s).addRecoveryBit(v - 27).recoverPublicKey(hash);
    const signer = publicKeyToAddress(toHex(point.toBytes(false)));
    return isAddressEqual(signer, p.settlementAddress);
  } catch {
    return false;
  }
}
