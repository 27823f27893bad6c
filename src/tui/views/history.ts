// Every job the Mayor knows, newest first, with a cursor to open one.
import { type Line, line, seg } from '../line.js';
import type { DashboardState } from '../model.js';
import { historyJobs, selectedIndex, type UiState } from '../ui-state.js';
import { banner, fitHeight, footer, jobRow, rule, type Size, windowAround } from './common.js';

export function historyView(state: DashboardState, ui: UiState, size: Size): Line[] {
  const jobs = historyJobs(state);
  const out: Line[] = [...banner(state, size), rule(size, `Job history · ${jobs.length} jobs`)];
  const foot = footer(
    size,
    'esc back  ↑↓ select  ⏎ open  g/G first/last  q quit',
    'esc back  ↑↓ ⏎',
    ui.notice,
  );
  if (jobs.length === 0) out.push(line([seg('  no jobs yet', 'dim')]));
  const sel = selectedIndex(ui, jobs);
  const shown = windowAround(jobs, sel, size.height - out.length - 1);
  shown.items.forEach((job, i) => {
    out.push(jobRow(job, shown.start + i === sel, size, true));
  });
  return fitHeight([...out, foot], size.height);
}
