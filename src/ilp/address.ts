// ILP addresses (RFC 0015): a known allocation scheme, then one or more dot-separated segments
// of [a-zA-Z0-9_~-], at most 1023 characters in all.
import { IlpCodecError } from './codec-error.js';

export const ILP_ADDRESS_MAX_LENGTH = 1023;

export const ILP_ADDRESS_SCHEMES = [
  'g',
  'private',
  'example',
  'peer',
  'self',
  'test',
  'test1',
  'test2',
  'test3',
  'local',
] as const;
export type IlpAddressScheme = (typeof ILP_ADDRESS_SCHEMES)[number];

const ADDRESS = /^(?:g|private|example|peer|self|test[1-3]?|local)(?:\.[a-zA-Z0-9_~-]+)+$/;

export function isValidIlpAddress(s: unknown): s is string {
  return typeof s === 'string' && s.length <= ILP_ADDRESS_MAX_LENGTH && ADDRESS.test(s);
}

/** Throws IlpCodecError('BAD_ADDRESS') saying why `s` is not an ILP address. */
export function assertIlpAddress(s: unknown, what = 'address'): asserts s is string {
  if (isValidIlpAddress(s)) return;
  let why =
    'must be a scheme (g, private, example, peer, self, test, test1-3, local) followed by .segments of [a-zA-Z0-9_~-]';
  if (typeof s !== 'string') why = 'must be a string';
  else if (s.length > ILP_ADDRESS_MAX_LENGTH)
    why = `is ${s.length} characters; the maximum is ${ILP_ADDRESS_MAX_LENGTH}`;
  const shown = typeof s === 'string' ? JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s) : String(s);
  throw new IlpCodecError('BAD_ADDRESS', `${what} ${shown} is not a valid ILP address: it ${why}`);
}

/** The allocation scheme (first segment) of a valid address. */
export function getAddressScheme(address: string): IlpAddressScheme {
  assertIlpAddress(address);
  return address.slice(0, address.indexOf('.')) as IlpAddressScheme;
}

/** True when `address` is strictly below `parent` (e.g. g.a.b under g.a); an address is not its own child. */
export function isChildAddress(parent: string, address: string): boolean {
  return (
    isValidIlpAddress(parent) &&
    isValidIlpAddress(address) &&
    address.length > parent.length + 1 &&
    address.startsWith(`${parent}.`)
  );
}
