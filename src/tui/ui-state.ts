// What the operator is looking at, and how each key changes it. Pure functions, so the key map can be read
// (and tested) in one place; the component only performs the side effects (quit, refresh).
import type { DashboardState, JobInfo } from './model.js';
import { isInFlight } from './model.js';

export type View = 'main' | 'history' | 'channel' | 'help' | 'job';

export interface UiState {
  view: View;
  /** The highlighted job in the main list or the history, by id so updates do not move the cursor. */
  selectedJobId?: string;
  /** The job shown in the job view. */
  openJobId?: string;
  /** Where esc goes back to from the job view. */
  back: 'main' | 'history';
  /** First log line shown in the job view. */
  logTop: number;
  /** A short message in the footer, e.g. "refreshed 12:00:01". */
  notice?: string;
}

export const initialUi: UiState = { view: 'main', back: 'main', logTop: 0 };

/** The keys the dashboard understands, decoded from Ink's (input, key) pair. */
export type KeyName =
  | 'quit'
  | 'refresh'
  | 'history'
  | 'channel'
  | 'help'
  | 'up'
  | 'down'
  | 'pageUp'
  | 'pageDown'
  | 'top'
  | 'bottom'
  | 'enter'
  | 'back';

export interface InkKey {
  upArrow?: boolean;
  downArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
}

export function decodeKey(input: string, key: InkKey): KeyName | undefined {
  if ((key.ctrl && input === 'c') || input === 'q') return 'quit';
  if (key.upArrow || input === 'k') return 'up';
  if (key.downArrow || input === 'j') return 'down';
  if (key.pageUp || (key.ctrl && input === 'b')) return 'pageUp';
  if (key.pageDown || input === ' ' || (key.ctrl && input === 'f')) return 'pageDown';
  if (key.home || input === 'g') return 'top';
  if (key.end || input === 'G') return 'bottom';
  if (key.return) return 'enter';
  if (key.escape) return 'back';
  if (key.ctrl) return undefined;
  if (input === 'r') return 'refresh';
  if (input === 'h') return 'history';
  if (input === 'c') return 'channel';
  if (input === '?') return 'help';
  return undefined;
}

/** Main list: jobs in flight first (newest first), then finished ones (newest first). */
export function mainJobs(state: DashboardState): JobInfo[] {
  const byNewest = (a: JobInfo, b: JobInfo) => b.postedAt - a.postedAt;
  const all = [...state.jobs].sort(byNewest);
  return [...all.filter(isInFlight), ...all.filter((j) => !isInFlight(j))];
}

/** History: every job, newest first. */
export function historyJobs(state: DashboardState): JobInfo[] {
  return [...state.jobs].sort((a, b) => b.postedAt - a.postedAt);
}

export function listFor(ui: UiState, state: DashboardState): JobInfo[] {
  return ui.view === 'history' ? historyJobs(state) : mainJobs(state);
}

/** Index of the highlighted job in `jobs` (the first one when nothing or a vanished job is selected). */
export function selectedIndex(ui: UiState, jobs: JobInfo[]): number {
  const i = jobs.findIndex((j) => j.id === ui.selectedJobId);
  return Math.max(i, 0);
}

export interface KeyContext {
  state: DashboardState;
  /** Number of log lines of the open job and how many fit on screen; for scrolling. */
  logLines: number;
  logPage: number;
}

/** Applies one key. Returns the new UI state; 'quit' and 'refresh' are side effects the caller performs. */
export function applyKey(ui: UiState, key: KeyName, ctx: KeyContext): UiState {
  const toView = (view: View): UiState => ({
    ...ui,
    view: ui.view === view ? 'main' : view,
    notice: undefined,
  });
  switch (key) {
    case 'quit':
    case 'refresh':
      return ui;
    case 'history':
      return { ...toView('history'), selectedJobId: ui.view === 'history' ? ui.selectedJobId : undefined };
    case 'channel':
      return toView('channel');
    case 'help':
      return toView('help');
    case 'back':
      if (ui.view === 'job') return { ...ui, view: ui.back };
      return { ...ui, view: 'main', notice: undefined };
  }
  if (ui.view === 'job') return { ...ui, logTop: scrollLogs(ui.logTop, key, ctx) };
  if (ui.view !== 'main' && ui.view !== 'history') return ui;
  const jobs = listFor(ui, ctx.state);
  if (jobs.length === 0) return ui;
  const i = selectedIndex(ui, jobs);
  const move = (to: number) => ({
    ...ui,
    selectedJobId: jobs[Math.max(0, Math.min(jobs.length - 1, to))]!.id,
  });
  switch (key) {
    case 'up':
      return move(i - 1);
    case 'down':
      return move(i + 1);
    case 'pageUp':
      return move(i - 10);
    case 'pageDown':
      return move(i + 10);
    case 'top':
      return move(0);
    case 'bottom':
      return move(jobs.length - 1);
    case 'enter':
      return {
        ...ui,
        view: 'job',
        openJobId: jobs[i]!.id,
        selectedJobId: jobs[i]!.id,
        back: ui.view,
        logTop: 0,
      };
  }
  return ui;
}

function scrollLogs(top: number, key: KeyName, { logLines, logPage }: KeyContext): number {
  const max = Math.max(0, logLines - logPage);
  const page = Math.max(1, logPage - 1);
  const next =
    key === 'up'
      ? top - 1
      : key === 'down'
        ? top + 1
        : key === 'pageUp'
          ? top - page
          : key === 'pageDown'
            ? top + page
            : key === 'top'
              ? 0
              : key === 'bottom'
                ? max
                : top;
  return Math.max(0, Math.min(max, next));
}
