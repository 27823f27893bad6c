// The thread of claim-signer-thread.ts: checks claim signatures (claimSignedBy, with its own kept keys) so the
// node's main thread does not spend a scalar multiplication per claim.
import { parentPort } from 'node:worker_threads';
import type { Address, Hex } from 'viem';
import { claimSignedBy } from './claim-signers.js';

export interface SignerTask {
  id: number;
  hash: Hex;
  signature: Hex;
  expected: Address;
}
export interface SignerReply {
  id: number;
  valid: boolean;
  signer: Address | null;
}

parentPort?.on('message', (t: SignerTask) => {
  void claimSignedBy(t.hash, t.signature, t.expected).then(
    ({ valid, signer }) => parentPort?.postMessage({ id: t.id, valid, signer } satisfies SignerReply),
    () => parentPort?.postMessage({ id: t.id, valid: false, signer: null } satisfies SignerReply),
  );
});
parentPort?.postMessage({ ready: true });
