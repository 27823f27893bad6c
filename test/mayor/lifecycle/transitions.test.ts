// The lifecycle table: one source (src/mayor/lifecycle/transitions.ts over the state repo's table), the same in
// docs/mayor.md, every transition the table allows described and nothing described that it refuses.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { feedbackStatus, isBusy } from '../../../src/mayor/lifecycle/feedback.js';
import { intentKey, openIntentJournal } from '../../../src/mayor/lifecycle/intents.js';
import {
  canTransition,
  LIFECYCLE,
  lifecycleGaps,
  renderTransitionTable,
} from '../../../src/mayor/lifecycle/transitions.js';
import { openStateRepo } from '../../../src/mayor/state/index.js';

describe('job lifecycle table', () => {
  it('describes exactly the transitions the state repo allows', () => {
    expect(lifecycleGaps()).toEqual({ undescribed: [], notAllowed: [] });
    for (const r of LIFECYCLE) if (r.from !== 'new') expect(canTransition(r.from, r.to)).toBe(true);
    // Final states stay final; no way back.
    expect(canTransition('paid', 'routed')).toBe(false);
    expect(canTransition('routed', 'posted')).toBe(false);
  });

  it('docs/mayor.md shows the table generated from the one source', () => {
    const doc = readFileSync(new URL('../../../docs/mayor.md', import.meta.url), 'utf8');
    expect(doc).toContain(renderTransitionTable());
  });
});

describe('intent journal', () => {
  it('keeps intents and outcomes across a reopen; an intent without outcome is unresolved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crosstown-intents-'));
    let state = await openStateRepo({ dir });
    let journal = openIntentJournal(state);
    const pay = intentKey('provider-payment', 'job1');
    const skill = intentKey('skill', 'result1');
    journal.begin('provider-payment', 'job1', pay, { amount: 10n ** 15n });
    journal.begin('skill', 'job1', skill);
    journal.settle(skill, 'handled');
    journal.settle('skill:unknown', 'handled');
    await state.close();

    state = await openStateRepo({ dir });
    journal = openIntentJournal(state);
    expect(journal.unresolved().map((i) => i.key)).toEqual([pay]);
    expect(journal.get(pay).intent?.amount).toBe('1000000000000000');
    expect(journal.get(skill).outcome?.outcome).toBe('handled');
    expect(journal.get('skill:unknown')).toEqual({});
    // A retry: a new intent under a settled key is unresolved again.
    journal.settle(pay, 'rejected');
    journal.begin('provider-payment', 'job1', pay);
    expect(journal.unresolved('provider-payment').length).toBe(1);
    await state.close();
  });
});

describe('feedback policy', () => {
  const fb = (tags: string[][], content = '') =>
    ({ id: 'x', pubkey: 'p', created_at: 0, kind: 7000, tags, content, sig: '' }) as const;
  it('reads the status and the reason (tag, else content)', () => {
    expect(feedbackStatus(fb([['status', 'error', 'bid below price']]))).toEqual({
      status: 'error',
      reason: 'bid below price',
    });
    expect(feedbackStatus(fb([['status', 'error']], 'no executor'))).toEqual({
      status: 'error',
      reason: 'no executor',
    });
    expect(feedbackStatus(fb([]))).toEqual({ status: 'feedback', reason: 'no reason given' });
  });
  it('busy is retried later, anything else is final', () => {
    expect(isBusy('all 4 job slots are busy')).toBe(true);
    expect(isBusy('bid below price')).toBe(false);
    expect(isBusy('business rules forbid it')).toBe(false);
  });
});
