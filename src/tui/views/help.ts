// The key map.
import { type Line, line, seg } from '../line.js';
import type { DashboardState } from '../model.js';
import type { UiState } from '../ui-state.js';
import { banner, fitHeight, footer, rule, type Size } from './common.js';

export const KEYS: [string, string][] = [
  ['q, Ctrl-C', 'quit'],
  ['r', 'refresh from the Mayor'],
  ['h', 'job history'],
  ['c', 'payment channel details'],
  ['?', 'this help'],
  ['↑ ↓, k j', 'select a job / scroll logs'],
  ['PgUp PgDn', 'page'],
  ['g G', 'first / last'],
  ['Enter', 'open the selected job'],
  ['Esc', 'back'],
];

export function helpView(state: DashboardState, ui: UiState, size: Size): Line[] {
  const out: Line[] = [...banner(state, size), rule(size, 'Keys')];
  for (const [keys, what] of KEYS) out.push(line([seg(` ${keys.padEnd(12)}`, 'bold'), seg(what)]));
  return fitHeight([...out, footer(size, 'esc back  q quit', 'esc back', ui.notice)], size.height);
}
