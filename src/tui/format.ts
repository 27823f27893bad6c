// Small display helpers. Everything the dashboard prints goes through sanitize(): text comes from strangers
// (job logs, relay errors) and must not smuggle terminal escape sequences onto the operator's screen.
import { stripVTControlCharacters } from 'node:util';

const M2M_SCALE = 10n ** 18n;

/** 8750000000000000n -> "0.00875 M2M". Exact: bigint arithmetic, no trailing zeros, no exponent. */
export function formatM2M(amount: bigint, unit = true): string {
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  const fraction = (abs % M2M_SCALE).toString().padStart(18, '0').replace(/0+$/, '');
  const text = `${negative ? '-' : ''}${abs / M2M_SCALE}${fraction ? `.${fraction}` : ''}`;
  return unit ? `${text} M2M` : text;
}

/** "HH:MM:SS" in local time. */
export function formatClock(epochMs: number): string {
  const d = new Date(epochMs);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export function formatBytes(bytes: number): string {
  if (bytes < 10_000) return `${bytes} B`;
  if (bytes < 10_000_000) return `${Math.round(bytes / 1000)} kB`;
  return `${Math.round(bytes / 1_000_000)} MB`;
}

/** Removes escape sequences and control characters (tabs become two spaces) so one string is one line. */
export function sanitize(text: string): string {
  const stripped = stripVTControlCharacters(text.replace(/\t/g, '  '));
  let out = '';
  for (const ch of stripped) {
    const code = ch.codePointAt(0)!;
    out += code < 0x20 || (code >= 0x7f && code < 0xa0) ? ' ' : ch;
  }
  return out;
}

/** Cuts `text` to at most `width` characters, ending with "…" when something was cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  return `${chars.slice(0, width - 1).join('')}…`;
}

/** Truncates or pads to exactly `width` characters: a table cell. */
export function cell(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const t = truncate(text, width);
  const pad = ' '.repeat(Math.max(0, width - Array.from(t).length));
  return align === 'left' ? t + pad : pad + t;
}

/** "0x39eaF99Cd4965A28DFe8B1455DD42aB49D0836B9" -> "0x39ea…36B9" when there is no room for all of it. */
export function shortHex(hex: string, keep = 4): string {
  return hex.length <= 2 + keep * 2 + 1 ? hex : `${hex.slice(0, 2 + keep)}…${hex.slice(-keep)}`;
}

export function textWidth(text: string): number {
  return Array.from(text).length;
}
