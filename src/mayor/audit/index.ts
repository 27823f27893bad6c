// Public API of the Mayor's payment audit (see docs/mayor-state.md).
export { AuditError, type AuditErrorCode } from './errors.js';
export { CSV_HEADER, type PaymentJson } from './format.js';
export { CURRENT_LOG, type OpenPaymentAuditOptions, openPaymentAudit, type PaymentAudit } from './log.js';
export { paymentStats } from './stats.js';
export {
  type DateRange,
  PAYMENT_DIRECTIONS,
  PAYMENT_STATUSES,
  type PaymentDirection,
  type PaymentEntry,
  type PaymentInput,
  type PaymentStats,
  type PaymentStatus,
  type Totals,
} from './types.js';
