// What the Mayor does when a result it paid for fails to open under the key the FULFILL carried, or opens to a
// result that contradicts its signed summary (the lifecycle calls `onFraud`): sign a fraud proof (proof.ts),
// check it as any verifier would, put the provider on the blocklist together with the signed report (durable:
// the intent), then publish the report with a paid relay write and mark it published (the outcome). A report a
// crash or a refused write left unpublished goes out on the next start (`resume`), probing the relay first so it
// is never paid twice.
import type { EventTemplate, NostrEvent } from '../../nostr/types.js';
import { encodeEventBytes } from '../../toon/index.js';
import { MAX_PACKET_DATA } from '../provider/results.js';
import type { Blocklist } from './blocklist.js';
import { buildFraudReport, type FraudVerdict, verifyFraudReport } from './proof.js';

export interface FraudEvent {
  jobId: string;
  /** The provider's signed sealed result. */
  resultEvent: NostrEvent;
  /** K, from the FULFILL. */
  key: Uint8Array;
  /** What went wrong, in words (DECRYPT_FAILED's message or the summary contradiction). */
  mismatch: string;
}

export interface FraudOutcome {
  /** The provider is (now) on the blocklist. */
  blocked: boolean;
  /** The signed report, when the evidence is a public proof. */
  report?: NostrEvent;
  published: boolean;
  verdict: FraudVerdict;
}

export interface FraudHandlerDeps {
  blocklist: Blocklist;
  sign(template: EventTemplate): NostrEvent;
  /**
   * The paid relay write of a report; throws when the relay refuses it. `resumed`: an earlier attempt may have
   * reached the relay (a restart), so ask it first (a 0-amount write is fulfilled only for a stored event).
   */
  publish(report: NostrEvent, o: { jobId: string; resumed: boolean }): Promise<void>;
  activity(kind: 'error' | 'info' | 'payment', text: string): void;
  now?: () => number;
}

export interface FraudHandler {
  onFraud(f: FraudEvent): Promise<FraudOutcome>;
  /** Publishes the reports a crash or a refused write left on the blocklist unpublished. */
  resume(): Promise<void>;
}

const short = (s: string) => `${s.slice(0, 8)}…`;

export function createFraudHandler(deps: FraudHandlerDeps): FraudHandler {
  const now = deps.now ?? Date.now;
  const { blocklist } = deps;

  const publish = async (pubkey: string, report: NostrEvent, jobId: string, resumed: boolean) => {
    try {
      await deps.publish(report, { jobId, resumed });
    } catch (err) {
      deps.activity(
        'error',
        `Fraud report ${short(report.id)} about provider ${short(pubkey)} not published: ${(err as Error).message}; it is sent again on the next start`,
      );
      return false;
    }
    blocklist.markPublished(pubkey);
    deps.activity('info', `Published fraud report ${short(report.id)} about provider ${short(pubkey)}`);
    return true;
  };

  const sign = (f: FraudEvent) => {
    const report = deps.sign(buildFraudReport(f));
    // A result near the PREPARE limit does not fit inside a report: refer to it by id instead.
    if (encodeEventBytes(report).length <= MAX_PACKET_DATA) return report;
    return deps.sign(buildFraudReport({ ...f, referenceOnly: true }));
  };

  return {
    onFraud: async (f) => {
      const provider = f.resultEvent.pubkey;
      const report = sign(f);
      // The same check any reader of the report makes: only a proof is published.
      const verdict = verifyFraudReport(report, f.resultEvent);
      if (!verdict.verified && verdict.code === 'HONEST') {
        // The result opens and matches its summary: whatever the caller saw, this is no fraud.
        deps.activity(
          'error',
          `job-${f.jobId.slice(0, 7)}: no fraud to report against ${short(provider)} (${verdict.reason}); provider not blocked`,
        );
        return { blocked: false, published: false, verdict };
      }
      const existing = blocklist.get(provider);
      if (existing) return { blocked: true, published: existing.published, verdict };
      const proven = verdict.verified;
      blocklist.block({
        pubkey: provider,
        reason: f.mismatch,
        at: now(),
        jobId: f.jobId,
        resultEventId: f.resultEvent.id,
        ...(proven ? { reportId: report.id, report } : {}),
        // Evidence nobody else can check (a private result has no signature of its own) is not published.
        published: !proven,
      });
      deps.activity(
        'error',
        `Provider ${short(provider)} blocked: job-${f.jobId.slice(0, 7)} ${f.mismatch}${proven ? '' : ` (no public proof: ${verdict.reason})`}`,
      );
      if (!proven) return { blocked: true, published: false, verdict };
      const published = await publish(provider, report, f.jobId, false);
      return { blocked: true, report, published, verdict };
    },
    resume: async () => {
      for (const e of blocklist.unpublished()) {
        await publish(e.pubkey, e.report!, e.jobId ?? e.resultEventId ?? e.pubkey, true);
      }
    },
  };
}
