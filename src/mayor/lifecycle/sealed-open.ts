// Whether a stored result can go to its skill: a clear result can; a sealed one (issue 19) only once its key is
// recorded (paid), and then as the opened plain result. A paid result that does not open, or contradicts its
// signed summary, is fraud: the caller reports it (onFraud) and the job fails.

import { parseSealedResult } from '../../nostr/sealed-result.js';
import { decodeEvent } from '../../toon/index.js';
import type { LifecycleDeps } from './deps.js';
import { failForFraud, openStored, readKey, readSealed, type StoredResult } from './sealed-results.js';

export type SealedGate =
  | { status: 'ready'; stored: StoredResult }
  | { status: 'missing' }
  | { status: 'unpaid' }
  | { status: 'fraud'; report: () => Promise<void> };

export function openSealed(deps: LifecycleDeps, jobId: string, stored: StoredResult | undefined): SealedGate {
  if (!stored) return { status: 'missing' };
  if (!readSealed(deps.state, jobId)) return { status: 'ready', stored };
  const key = readKey(deps.state, jobId);
  if (!key) return { status: 'unpaid' };
  const event = decodeEvent(stored.toon);
  const sealed = parseSealedResult(event);
  if (!sealed) return { status: 'ready', stored };
  const opened = openStored(event, sealed, key, jobId);
  if (opened.ok) return { status: 'ready', stored: opened.stored };
  return {
    status: 'fraud',
    report: () => failForFraud(deps, { jobId, resultEvent: event, key, mismatch: opened.mismatch }),
  };
}
