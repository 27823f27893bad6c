// The content of a ci-cd job result (kind 6xxx). DESIGN §3 fixes gzip+base64 logs; this fixes the rest:
// a JSON object, so a requester can read the outcome without running anything.
//   { "build": "SUCCESS" | "FAILURE", "tests": { "passed": 47, "failed": 0 }, "logs": "<gzip+base64>",
//     "logsTruncated": false, "logsSha256": "<hex of the whole log when truncated>" }
// Every field is optional; a provider that only has logs sends { "logs": ... }.
import { compressLogs } from '../logs.js';

export interface CiResultContent {
  build?: string;
  tests?: { passed: number; failed: number };
  /** gzip + base64 */
  logs?: string;
  logsTruncated?: boolean;
  logsSha256?: string;
}

export function encodeCiResultContent(input: Omit<CiResultContent, 'logs'> & { logText?: string }): string {
  const { logText, ...rest } = input;
  const content: CiResultContent = { ...rest };
  if (logText !== undefined) content.logs = compressLogs(logText);
  return JSON.stringify(content);
}

/** Reads what it can; unknown or mistyped fields are dropped, never trusted. Non-JSON content gives {}. */
export function parseCiResultContent(content: string): CiResultContent {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch {
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const v = value as Record<string, unknown>;
  const out: CiResultContent = {};
  if (typeof v.build === 'string') out.build = v.build.slice(0, 64);
  const tests = v.tests as Record<string, unknown> | undefined;
  if (tests && isCount(tests.passed) && isCount(tests.failed))
    out.tests = { passed: tests.passed, failed: tests.failed };
  if (typeof v.logs === 'string') out.logs = v.logs;
  if (typeof v.logsTruncated === 'boolean') out.logsTruncated = v.logsTruncated;
  if (typeof v.logsSha256 === 'string' && /^[0-9a-f]{64}$/.test(v.logsSha256)) out.logsSha256 = v.logsSha256;
  return out;
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}
