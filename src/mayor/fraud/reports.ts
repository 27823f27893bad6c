// Reading the reports about a provider from a relay (a free read: REQ until EOSE) and verifying each: what
// `crosstown provider reports <pubkey>` shows. A report that only refers to its result (too large to embed) is
// verified against the result read from the same relay.
import { KIND_REPORT, parseReport } from '../../nostr/nip56.js';
import type { Filter, NostrEvent } from '../../nostr/types.js';
import { connectWebSocket, type WebSocketClientOptions } from '../../transport/index.js';
import { type FraudVerdict, isFraudReport, reportedResultId, verifyFraudReport } from './proof.js';

export interface ProviderReport {
  id: string;
  reporter: string;
  /** Unix seconds (the report's created_at). */
  createdAt: number;
  /** NIP-56 report type (`other` for fraud proofs). */
  type: string;
  /** A sealed-result fraud proof (labelled crosstown.fraud), as opposed to another NIP-56 report. */
  fraudProof: boolean;
  resultEventId?: string;
  /** What the reporter says happened (its `mismatch` tag, or the content of another report). */
  claim: string;
  verified: boolean;
  /** Why it verifies or does not, as this reader computed it. */
  reason: string;
  code: FraudVerdict['code'] | 'NOT_A_PROOF';
}

/** Most reports read per query. */
const LIMIT = 500;

/** Stored events matching `filter`, read over one WebSocket (NIP-01 JSON), until EOSE. */
export async function readRelay(
  url: string,
  filter: Filter,
  o: WebSocketClientOptions & { timeoutMs?: number } = {},
): Promise<NostrEvent[]> {
  const ws = await connectWebSocket(url, o);
  const timeoutMs = o.timeoutMs ?? 10_000;
  try {
    return await new Promise<NostrEvent[]>((resolve, reject) => {
      const events: NostrEvent[] = [];
      const timer = setTimeout(
        () => reject(new Error(`the relay ${url} sent no EOSE within ${timeoutMs} ms`)),
        timeoutMs,
      );
      ws.on('message', (data) => {
        let msg: unknown;
        try {
          msg = JSON.parse(String(data));
        } catch {
          return; // not a NIP-01 frame: ignore it
        }
        if (!Array.isArray(msg) || msg[1] !== 'q') return;
        if (msg[0] === 'EVENT' && msg[2] && typeof msg[2] === 'object') events.push(msg[2] as NostrEvent);
        else if (msg[0] === 'EOSE' || msg[0] === 'CLOSED') {
          clearTimeout(timer);
          if (msg[0] === 'CLOSED') reject(new Error(`the relay ${url} refused the query: ${String(msg[2])}`));
          else resolve(events);
        }
      });
      ws.once('close', () => {
        clearTimeout(timer);
        reject(new Error(`the relay ${url} closed the connection before answering`));
      });
      ws.send(JSON.stringify(['REQ', 'q', filter]));
    });
  } finally {
    ws.removeAllListeners('close');
    ws.close();
  }
}

/** Every kind 1984 about `pubkey` on the relay, newest first, each verified. */
export async function providerReports(
  relayUrl: string,
  pubkey: string,
  o: WebSocketClientOptions & { timeoutMs?: number } = {},
): Promise<ProviderReport[]> {
  const found = await readRelay(relayUrl, { kinds: [KIND_REPORT], '#p': [pubkey], limit: LIMIT }, o);
  const unique = [...new Map(found.map((e) => [e.id, e])).values()];
  // Reports that refer to their result instead of embedding it: read those results in one query.
  const missing = unique
    .filter((e) => isFraudReport(e) && e.content === '')
    .map(reportedResultId)
    .filter((id): id is string => id !== undefined);
  const results = new Map<string, NostrEvent>();
  if (missing.length > 0) {
    for (const e of await readRelay(relayUrl, { ids: [...new Set(missing)] }, o)) results.set(e.id, e);
  }
  const rows: ProviderReport[] = [];
  for (const e of unique) {
    let parsed: ReturnType<typeof parseReport> | undefined;
    try {
      parsed = parseReport(e);
    } catch {
      parsed = undefined;
    }
    // The relay answered a #p query: keep only reports whose reported pubkey really is this provider.
    if (parsed && parsed.reported !== pubkey) continue;
    const fraudProof = isFraudReport(e);
    const claim = fraudProof
      ? (e.tags.find((t) => t[0] === 'mismatch')?.[1] ?? '')
      : (parsed?.content ?? e.content).slice(0, 200);
    const base = {
      id: e.id,
      reporter: e.pubkey,
      createdAt: e.created_at,
      type: parsed?.type ?? 'other',
      fraudProof,
      claim,
    };
    if (!fraudProof) {
      rows.push({
        ...base,
        verified: false,
        code: 'NOT_A_PROOF',
        reason: 'an ordinary NIP-56 report: it carries no proof to check',
      });
      continue;
    }
    const resultId = reportedResultId(e);
    const verdict = verifyFraudReport(e, resultId ? results.get(resultId) : undefined);
    rows.push({
      ...base,
      ...(resultId ? { resultEventId: resultId } : {}),
      verified: verdict.verified,
      code: verdict.code,
      reason: verdict.reason,
    });
  }
  return rows.sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
}
