// The EIP-55 checksummed EVM address of a secp256k1 secret key, with @noble directly: the keystore shows the
// wallet's address on every command, and viem/accounts would add ~80 ms to each start (docs/cli.md "Start-up").
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';

export function evmAddressOf(secretKey: Uint8Array): `0x${string}` {
  const uncompressed = secp256k1.getPublicKey(secretKey, false);
  return checksummed(Buffer.from(keccak_256(uncompressed.subarray(1)).subarray(-20)).toString('hex'));
}

/** viem's isAddress (strict): 40 hex digits, all lower case or with a valid EIP-55 checksum. */
export function isEvmAddress(value: string): value is `0x${string}` {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) return false;
  return value.toLowerCase() === value || checksummed(value.slice(2).toLowerCase()) === value;
}

function checksummed(hex: string): `0x${string}` {
  const hash = Buffer.from(keccak_256(new TextEncoder().encode(hex))).toString('hex');
  let out = '0x';
  for (let i = 0; i < hex.length; i++) {
    out += Number.parseInt(hash[i]!, 16) >= 8 ? hex[i]!.toUpperCase() : hex[i]!;
  }
  return out as `0x${string}`;
}
