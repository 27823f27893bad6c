import type { Line } from '../line.js';
import type { DashboardState } from '../model.js';
import type { UiState } from '../ui-state.js';
import { channelView } from './channel.js';
import type { Size } from './common.js';
import { helpView } from './help.js';
import { historyView } from './history.js';
import { jobView } from './job.js';
import { mainView } from './main.js';

export type { Size } from './common.js';
export { findJob, logLines, logPageSize } from './job.js';

/** The whole screen for the current view, at most size.height lines. */
export function buildFrame(state: DashboardState, ui: UiState, size: Size): Line[] {
  switch (ui.view) {
    case 'main':
      return mainView(state, ui, size);
    case 'history':
      return historyView(state, ui, size);
    case 'channel':
      return channelView(state, ui, size);
    case 'help':
      return helpView(state, ui, size);
    case 'job':
      return jobView(state, ui, size);
  }
}
