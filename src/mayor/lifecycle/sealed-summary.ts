// The operator's view of a sealed result (`crosstown job status`): "sealed, awaiting payment" with its signed
// public summary until the key is paid for, then the opened result's summary line.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParsedJobResult } from '../../nostr/nip90.js';
import { openSealedResult, parseSealedResult } from '../../nostr/sealed-result.js';
import { ciSummaryOf } from '../../skills/builtin/ci-cd-callback.js';
import { keyPath } from './sealed-results.js';

/** A summary line for a sealed stored result, or undefined for a clear one. */
export function sealedSummaryLine(
  stateDir: string,
  jobId: string,
  result: ParsedJobResult,
): string | undefined {
  const sealed = parseSealedResult(result.event);
  if (!sealed) return undefined;
  const { build, tests } = sealed.summary;
  const pub = `Build: ${build}${tests ? ` | Tests: ${tests.passed}/${tests.total} passed` : ''}`;
  const keyFile = join(stateDir, keyPath(jobId));
  if (!existsSync(keyFile)) return `sealed, awaiting payment (${pub})`;
  try {
    const key = new Uint8Array(Buffer.from(readFileSync(keyFile, 'utf8').trim().slice(0, 64), 'hex'));
    const plain = openSealedResult(sealed.ciphertext, key, jobId);
    return ciSummaryOf({ ...result, content: plain });
  } catch {
    return `sealed, paid, does not open under its key (${pub})`;
  }
}
