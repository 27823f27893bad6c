// Small shape checks shared by the builders and parsers in this folder.
import { NostrError, type NostrErrorCode } from './errors.js';

const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
// RFC 0015: allocation scheme, then one or more segments; at most 1023 characters.
const ILP_ADDRESS = /^(g|private|example|peer|self|test|test1|test2|test3|local)([.][a-zA-Z0-9_~-]+)+$/;

export function isHex64(x: unknown): x is string {
  return typeof x === 'string' && HEX64.test(x);
}

export function isHex128(x: unknown): x is string {
  return typeof x === 'string' && HEX128.test(x);
}

export function isEvmAddress(x: unknown): x is `0x${string}` {
  return typeof x === 'string' && EVM_ADDRESS.test(x);
}

export function isIlpAddress(x: unknown): x is string {
  return typeof x === 'string' && x.length <= 1023 && ILP_ADDRESS.test(x);
}

export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Parses a non-negative decimal integer string (no sign, no leading zeros, no exponent) to bigint. */
export function parseAmount(value: unknown, what: string, code: NostrErrorCode): bigint {
  if (typeof value !== 'string' || !DECIMAL.test(value)) {
    throw new NostrError(
      code,
      `${what} must be a non-negative decimal integer string, got ${JSON.stringify(value)}`,
    );
  }
  return BigInt(value);
}

export function formatAmount(value: bigint, what: string, code: NostrErrorCode): string {
  if (typeof value !== 'bigint' || value < 0n) {
    throw new NostrError(code, `${what} must be a non-negative bigint, got ${String(value)}`);
  }
  return value.toString(10);
}

/** Parses JSON, turning a syntax error into a NostrError with the given code. */
export function parseJson(text: string, what: string, code: NostrErrorCode): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new NostrError(code, `${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Rejects keys outside `allowed`, so a typo or a field from another version is reported, not ignored. */
export function rejectUnknownKeys(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  what: string,
  code: NostrErrorCode,
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new NostrError(code, `${what} has unknown field '${key}' (allowed: ${allowed.join(', ')})`);
    }
  }
}

/** First tag named `name`, or undefined. */
export function findTag(tags: string[][], name: string): string[] | undefined {
  return tags.find((t) => t[0] === name);
}
