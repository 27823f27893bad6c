// Prices in base units (bigint), as crosstown counts money: no floating point.
export const M2M = 10n ** 18n;

/** Relay write fee: bytes × price per byte. */
export function writeFee(bytes, pricePerByte) {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`bad byte count: ${bytes}`);
  return BigInt(bytes) * pricePerByte;
}

/** "0.00875" for 8750000000000000n: trailing zeros dropped. */
export function formatM2M(amount) {
  const whole = amount / M2M;
  const frac = (amount % M2M).toString().padStart(18, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}
