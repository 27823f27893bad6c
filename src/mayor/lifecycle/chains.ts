// Chains of jobs: step N+1 is recorded (in the same synchronous block, so the same commit) when step N is
// routed, with step N's job as its input (NIP-90 chaining: input type `job`).
import type { NostrEvent } from '../../nostr/types.js';
import type { ChainStep } from '../state/index.js';
import type { LifecycleDeps } from './deps.js';
import type { Posting, PostJobRequest } from './posting.js';

export function stepRequest(step: ChainStep): PostJobRequest {
  const { bid, ...params } = step.params ?? {};
  return {
    kind: step.kind,
    jobType: step.jobType,
    params,
    callbackSkill: step.callbackSkill,
    ...(bid !== undefined ? { bid: BigInt(bid) } : {}),
  };
}

export function failChain(deps: Pick<LifecycleDeps, 'state'>, chainId: string): void {
  const chain = deps.state.chains.get(chainId);
  if (chain && chain.status === 'running')
    deps.state.chains.put({ id: chain.id, steps: chain.steps, status: 'failed' });
}

/** After a step is routed: record the next step's job (returned, to be sent) or finish the chain. Synchronous. */
export function advanceChain(
  deps: LifecycleDeps,
  posting: Posting,
  chainId: string,
  finishedJob: string,
): NostrEvent | undefined {
  const { state } = deps;
  const chain = state.chains.get(chainId);
  if (chain?.status !== 'running') return undefined;
  const index = chain.steps.findIndex((s) => s.jobId === finishedJob);
  if (index < 0) return undefined;
  const next = index + 1;
  if (next >= chain.steps.length) {
    state.chains.put({ id: chainId, steps: chain.steps, current: chain.steps.length, status: 'done' });
    deps.activity('info', `Chain ${chainId} done (${chain.steps.length} steps)`);
    return undefined;
  }
  const step = chain.steps[next]!;
  if (step.jobId) return undefined;
  const req = stepRequest(step);
  const event = posting.buildRequest(req, [{ data: finishedJob, type: 'job' }]);
  posting.record(event, step.callbackSkill, chainId, req.bid);
  const steps = chain.steps.map((s, i) => (i === next ? { ...s, jobId: event.id } : s));
  state.chains.put({ id: chainId, steps, current: next });
  return event;
}
