// Parsers for setting values. Flags and environment give strings; crosstown.toml gives TOML values.
// Amounts are decimal M2M text everywhere a person types them and bigint base units in code.
import { formatM2M, parseM2M } from '../../chain/units.js';

/** Thrown by a parser; the resolver turns it into a ConfigError that says where the value came from. */
export class ValueError extends Error {
  /** The offending item when the value was a list. */
  constructor(
    message: string,
    readonly item?: string,
  ) {
    super(message);
  }
}

export interface ValueType<T> {
  /** Parses a flag/env string or a TOML value. */
  parse(raw: unknown): T;
  /** Text a person would type to get this value back (config list, TOML strings). */
  display(value: T): string;
  /** The TOML value `config set` writes. */
  toToml(value: T): unknown;
  /** A path: `config set` stores a relative one resolved against the current directory. */
  path?: true;
}

const text = (raw: unknown, what: string): string => {
  if (typeof raw === 'string') return raw.trim();
  throw new ValueError(`must be ${what}`);
};

export const stringType = (what = 'a non-empty string'): ValueType<string> => ({
  parse: (raw) => {
    const s = text(raw, what);
    if (s === '') throw new ValueError(`must be ${what}`);
    return s;
  },
  display: (v) => v,
  toToml: (v) => v,
});

export const boolType: ValueType<boolean> = {
  parse: (raw) => {
    if (typeof raw === 'boolean') return raw;
    const s = text(raw, 'true or false').toLowerCase();
    if (s === 'true') return true;
    if (s === 'false') return false;
    throw new ValueError('is not true or false');
  },
  display: (v) => String(v),
  toToml: (v) => v,
};

export function enumType<T extends string>(values: readonly T[]): ValueType<T> {
  return {
    parse: (raw) => {
      const s = text(raw, `one of ${values.join(', ')}`);
      if ((values as readonly string[]).includes(s)) return s as T;
      throw new ValueError(`is not one of ${values.join(', ')}`);
    },
    display: (v) => v,
    toToml: (v) => v,
  };
}

/** A whole number between `min` and `max`; `what` names it in errors ("a whole number of seconds"). */
export const wholeNumberType = (what: string, min: number, max: number): ValueType<number> => ({
  parse: (raw) => {
    let n: number;
    if (typeof raw === 'bigint') n = Number(raw);
    else if (typeof raw === 'number') n = raw;
    else {
      const s = text(raw, what);
      n = /^\d+$/.test(s) ? Number(s) : Number.NaN;
    }
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new ValueError(`is not ${what} between ${min} and ${max}`);
    }
    return n;
  },
  display: (v) => String(v),
  toToml: (v) => BigInt(v),
});

/** A whole number of seconds, at least `min`. */
export const secondsType = (min: number, max: number): ValueType<number> =>
  wholeNumberType('a whole number of seconds', min, max);

/** An M2M amount written as decimal M2M ("10", "0.00001"); a TOML float is refused (it would round). */
export const amountType: ValueType<bigint> = {
  parse: (raw) => {
    if (typeof raw === 'number') {
      throw new ValueError(
        'is a TOML float: write amounts as quoted decimal strings, e.g. "0.5" (floats lose precision)',
      );
    }
    const s =
      typeof raw === 'bigint' ? raw.toString() : text(raw, 'a decimal M2M amount such as "10" or "0.00001"');
    try {
      return parseM2M(s);
    } catch {
      throw new ValueError('is not a decimal M2M amount (at most 18 decimal places)');
    }
  },
  display: (v) => formatM2M(v),
  toToml: (v) => formatM2M(v),
};

/** A URL whose scheme is one of `schemes`. */
export function urlType(schemes: readonly string[], what: string): ValueType<string> {
  return {
    parse: (raw) => {
      const s = text(raw, what);
      let u: URL;
      try {
        u = new URL(s);
      } catch {
        throw new ValueError(`is not ${what}`);
      }
      if (!schemes.includes(u.protocol) || u.hostname === '') throw new ValueError(`is not ${what}`);
      return s;
    },
    display: (v) => v,
    toToml: (v) => v,
  };
}

/** A list: a comma-separated string (flags, environment) or a TOML array. Empty entries are dropped. */
export function listType<T>(item: ValueType<T>): ValueType<T[]> {
  return {
    parse: (raw) => {
      const items = Array.isArray(raw) ? raw : text(raw, 'a comma-separated list').split(',');
      return items
        .map((i) => (typeof i === 'string' ? i.trim() : i))
        .filter((i) => i !== '')
        .map((i) => {
          try {
            return item.parse(i);
          } catch (err) {
            if (err instanceof ValueError) throw new ValueError(err.message, String(i));
            throw err;
          }
        });
    },
    display: (v) => v.map((i) => item.display(i)).join(','),
    toToml: (v) => v.map((i) => item.toToml(i)),
  };
}

/** A filesystem path; a leading ~ is the user's home directory. */
export function pathType(home: () => string): ValueType<string> {
  return {
    parse: (raw) => {
      const s = text(raw, 'a path');
      if (s === '') throw new ValueError('is not a path');
      return s === '~' ? home() : s.startsWith('~/') ? `${home()}${s.slice(1)}` : s;
    },
    display: (v) => v,
    toToml: (v) => v,
    path: true,
  };
}

export const addressType: ValueType<string> = {
  parse: (raw) => {
    const s = text(raw, 'an 0x address');
    if (!/^0x[0-9a-fA-F]{40}$/.test(s))
      throw new ValueError('is not a 20-byte 0x address (0x and 40 hex digits)');
    return s;
  },
  display: (v) => v,
  toToml: (v) => v,
};

/** Letters, digits, '-' and '_': used as a directory name. */
export const nameType: ValueType<string> = {
  parse: (raw) => {
    const s = text(raw, 'a name');
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(s)) {
      throw new ValueError(
        'is not a name of letters, digits, - and _ (at most 64, it becomes a directory name)',
      );
    }
    return s;
  },
  display: (v) => v,
  toToml: (v) => v,
};
