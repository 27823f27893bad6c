// M2M has 18 decimals. Amounts are bigint base units; these convert to and from the decimal text users see.
import { ChainError } from './chain-error.js';

export const M2M_DECIMALS = 18;
const SCALE = 10n ** BigInt(M2M_DECIMALS);

/** 8750000000000000n -> "0.00875"; no trailing zeros, no exponent, "-" for negatives. */
export function formatM2M(amount: bigint): string {
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  const whole = abs / SCALE;
  const fraction = (abs % SCALE).toString().padStart(M2M_DECIMALS, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** "49.99125" -> 49991250000000000000n. Rejects negatives, exponents and more than 18 decimal places. */
export function parseM2M(text: string): bigint {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) {
    throw new ChainError(
      'INVALID_AMOUNT',
      `"${text}" is not an M2M amount: write a non-negative decimal number such as 49.99125.`,
    );
  }
  const fraction = m[2] ?? '';
  if (fraction.length > M2M_DECIMALS) {
    throw new ChainError(
      'INVALID_AMOUNT',
      `"${text}" has ${fraction.length} decimal places; M2M has ${M2M_DECIMALS}: round it to at most ${M2M_DECIMALS}.`,
    );
  }
  return BigInt(m[1]!) * SCALE + BigInt(fraction.padEnd(M2M_DECIMALS, '0'));
}
