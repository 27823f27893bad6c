// Fraud proofs about sealed results and the providers this Mayor no longer buys from (issue 19).
export * from './blocklist.js';
export * from './handler.js';
export * from './lifecycle.js';
export * from './proof.js';
