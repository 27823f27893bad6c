// What providers advertise (NIP-89 kind 31990) for a job type, so a job nobody will run, or whose bid is below
// every price, is caught before its write fee is paid.
import { formatM2M } from '../chain/units.js';
import { KIND_HANDLER_INFO, KIND_JOB_REQUEST } from '../nostr/kinds.js';
import { parseHandlerInfo } from '../nostr/nip89.js';
import type { Filter, NostrEvent } from '../nostr/types.js';

export interface Offer {
  provider: string;
  /** Price per job, base units; undefined when the advert names the type without a price. */
  price?: bigint;
}

/** Every provider advertising `jobType` for `kind`; a malformed advert is skipped. */
export async function findOffers(
  pool: { query(filters: Filter[], timeoutMs?: number): Promise<{ event: NostrEvent }[]> },
  jobType: string,
  kind = KIND_JOB_REQUEST,
): Promise<Offer[]> {
  const found = await pool.query([{ kinds: [KIND_HANDLER_INFO], '#k': [String(kind)] }], 3000);
  const offers = new Map<string, Offer>();
  for (const { event } of found) {
    try {
      const info = parseHandlerInfo(event);
      if (!info.kinds.includes(kind) || !info.jobTypes.includes(jobType)) continue;
      const price = info.prices[jobType];
      offers.set(info.provider, { provider: info.provider, ...(price !== undefined ? { price } : {}) });
    } catch {
      // not a handler info we can read: it advertises nothing
    }
  }
  return [...offers.values()];
}

/** Why posting would likely waste the write fee, or undefined when some provider can take the job. */
export function offerProblem(
  offers: Offer[],
  request: { jobType: string; bid?: bigint; provider?: string },
): string | undefined {
  const usable = request.provider ? offers.filter((o) => o.provider === request.provider) : offers;
  if (usable.length === 0) {
    return request.provider
      ? `provider ${request.provider.slice(0, 16)}… does not advertise ${request.jobType} (NIP-89) on the relay`
      : `no provider advertises job type ${request.jobType} (NIP-89 kind 31990) on the relay`;
  }
  if (request.bid === undefined) return undefined;
  const priced = usable.filter((o) => o.price !== undefined).map((o) => o.price!);
  if (priced.length < usable.length || priced.length === 0) return undefined;
  // bigints: Math.min does not take them.
  const lowest = [...priced].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[0]!;
  if (request.bid < lowest) {
    return `the bid ${formatM2M(request.bid)} M2M is below every advertised price for ${request.jobType} (lowest ${formatM2M(lowest)} M2M): no provider would be paid`;
  }
  return undefined;
}
