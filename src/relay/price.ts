const UINT64_MAX = (1n << 64n) - 1n;

/** What a write of `bytes` TOON bytes costs: bytes x basePricePerByte, in base units. */
export function priceOf(bytes: number, basePricePerByte: bigint): bigint {
  return BigInt(bytes) * basePricePerByte;
}

/**
 * F04 reject data: received amount then required amount, each a big-endian uint64 (the layout RFC 0027 gives
 * F08's data), so a sender can read how much more to send without parsing the message.
 */
export function amountsData(received: bigint, required: bigint): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, received > UINT64_MAX ? UINT64_MAX : received);
  view.setBigUint64(8, required > UINT64_MAX ? UINT64_MAX : required);
  return out;
}

/** Reads F04 data written by `amountsData`. */
export function readAmountsData(data: Uint8Array): { received: bigint; required: bigint } | undefined {
  if (data.length !== 16) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { received: view.getBigUint64(0), required: view.getBigUint64(8) };
}
