// A payment found already made after a crash (a probe the relay FULFILLs, a provider's "already paid") goes to
// the audit only if the crashed run did not record it: the audit line and the job's transition are separate
// files of one write batch, and a SIGKILL in the middle of that batch can keep one without the other.
import type { PaymentAudit } from '../audit/index.js';

export async function alreadyAudited(
  audit: PaymentAudit,
  jobId: string,
  counterparty: string,
  amount: bigint,
): Promise<boolean> {
  const entries = await audit.list();
  return entries.some(
    (e) =>
      e.jobId === jobId &&
      e.direction === 'out' &&
      e.status === 'fulfilled' &&
      e.counterparty === counterparty &&
      e.amount === amount,
  );
}

/** The audit line of a provider payment that was fulfilled (money moved, through our channel). */
export function auditProviderPaid(
  audit: PaymentAudit,
  p: { jobId: string; amount: bigint; provider: string; channelId: string },
): void {
  audit.record({
    direction: 'out',
    jobId: p.jobId,
    amount: p.amount,
    status: 'fulfilled',
    counterparty: p.provider,
    channelId: p.channelId,
  });
}
