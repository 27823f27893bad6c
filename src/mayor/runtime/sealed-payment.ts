// What a provider checks before it reveals the key of a sealed result with a FULFILL (issue 19): the payer is
// the requester the result was sealed for, the PREPARE's execution condition is the sealed condition (any
// other condition could not be fulfilled by K anyway, and is refused F05 without revealing anything), the
// amount is at least the price the result asked, and the packet has not expired (an expired PREPARE is never
// fulfilled: the payer's connector already gave up on it, so K would go out unpaid).
import type { IlpPrepare } from '../../ilp/types.js';
import type { SealedKey } from '../provider/sealed-keys.js';

export interface SealedPaymentRefusal {
  code: string;
  message: string;
}

export function checkSealedPayment(
  prepare: IlpPrepare,
  sealed: SealedKey,
  from: string,
  now: number,
): SealedPaymentRefusal | undefined {
  if (from !== sealed.requester)
    return {
      code: 'F06',
      message: `job ${sealed.jobId} was sealed for another requester: only its requester can pay for its key`,
    };
  if (Buffer.from(prepare.executionCondition).toString('hex') !== sealed.condition)
    return {
      code: 'F05',
      message: `wrong condition: job ${sealed.jobId}'s result is sealed under condition ${sealed.condition}; pay with the condition in its ["condition"] tag`,
    };
  if (prepare.amount < sealed.amount)
    return {
      code: 'F04',
      message: `insufficient amount: job ${sealed.jobId} costs ${sealed.amount} base units, the payment carries ${prepare.amount}`,
    };
  if (prepare.expiresAt.getTime() <= now)
    return {
      code: 'R00',
      message: `payment for job ${sealed.jobId} expired before it arrived; send it again`,
    };
  return undefined;
}
