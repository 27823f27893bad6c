import { describe, expect, it } from 'vitest';
import { applyKey, decodeKey, initialUi, type KeyName, type UiState } from '../../src/tui/ui-state.js';
import { busySource } from './helpers.js';

const state = busySource().snapshot();
const ctx = { state, logLines: 42, logPage: 14 };
const run = (keys: KeyName[], from: UiState = initialUi) =>
  keys.reduce((ui, k) => applyKey(ui, k, ctx), from);

describe('decodeKey', () => {
  it('maps the documented keys', () => {
    expect(decodeKey('q', {})).toBe('quit');
    expect(decodeKey('c', { ctrl: true })).toBe('quit');
    expect(decodeKey('c', {})).toBe('channel');
    expect(decodeKey('r', {})).toBe('refresh');
    expect(decodeKey('h', {})).toBe('history');
    expect(decodeKey('?', {})).toBe('help');
    expect(decodeKey('', { upArrow: true })).toBe('up');
    expect(decodeKey('', { downArrow: true })).toBe('down');
    expect(decodeKey('', { return: true })).toBe('enter');
    expect(decodeKey('', { escape: true })).toBe('back');
    expect(decodeKey('', { pageDown: true })).toBe('pageDown');
    expect(decodeKey('G', {})).toBe('bottom');
    expect(decodeKey('x', {})).toBeUndefined();
    expect(decodeKey('r', { ctrl: true })).toBeUndefined();
  });
});

describe('applyKey', () => {
  it('opens the job under the cursor and returns to where it came from', () => {
    let ui = run(['down', 'enter']);
    expect(ui).toMatchObject({ view: 'job', openJobId: 'job-done0001', back: 'main', logTop: 0 });
    ui = run(['back'], ui);
    expect(ui).toMatchObject({ view: 'main', selectedJobId: 'job-done0001' });
    ui = run(['history', 'enter', 'back']);
    expect(ui.view).toBe('history');
  });

  it('clamps the cursor and the log scroll', () => {
    expect(run(['up', 'up']).selectedJobId).toBe('job-5abc123');
    expect(run(['bottom', 'down']).selectedJobId).toBe('job-done0001');
    const job = run(['enter']);
    expect(run(['up'], job).logTop).toBe(0);
    expect(run(['bottom'], job).logTop).toBe(28);
    expect(run(['bottom', 'down'], job).logTop).toBe(28);
    expect(run(['pageDown', 'pageDown', 'pageDown'], job).logTop).toBe(28);
    expect(run(['pageDown', 'pageUp'], job).logTop).toBe(0);
  });

  it('view keys toggle and esc always leads back to main', () => {
    expect(run(['channel']).view).toBe('channel');
    expect(run(['channel', 'channel']).view).toBe('main');
    expect(run(['help', 'history']).view).toBe('history');
    expect(run(['help', 'back']).view).toBe('main');
  });
});
