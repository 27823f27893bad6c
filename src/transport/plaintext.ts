// A ws:// URL to another machine sends Nostr events, BTP auth tokens and ILP packets in clear text. Loopback is
// fine (nothing leaves the machine); anything else gets a warning, once per URL so a reconnect loop does not flood.

/** Where warnings go: anything with a `warn` method (console, the node's Logger). */
export interface WarnLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

const warned = new Set<string>();

/** True for localhost, 127.0.0.0/8 and ::1 (with or without brackets). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1') return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  return host === '::ffff:127.0.0.1';
}

/**
 * Logs a warning when `url` is plain ws:// (or http://) to a non-loopback host, once per URL per process.
 * Returns whether it warned.
 */
export function warnIfPlaintext(url: string, logger: WarnLogger = console): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false; // the connection itself will fail with a clearer error
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'http:') return false;
  if (isLoopbackHost(parsed.hostname)) return false;
  const key = parsed.toString();
  if (warned.has(key)) return false;
  warned.add(key);
  logger.warn(
    `unencrypted connection to ${key}: traffic (events, auth tokens, payments) can be read and altered on the way; use wss:// with a certificate`,
    { url: key },
  );
  return true;
}

/** Forgets which URLs were warned about (tests). */
export function resetPlaintextWarnings(): void {
  warned.clear();
}
