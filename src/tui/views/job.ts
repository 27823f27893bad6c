// One job: what was posted, what it cost, the result, the test counts and the full, scrollable logs.
import { formatClock, formatM2M } from '../format.js';
import { type Line, line, seg } from '../line.js';
import type { DashboardState, JobInfo } from '../model.js';
import type { UiState } from '../ui-state.js';
import { banner, fitHeight, footer, jobStateStyle, rule, type Size } from './common.js';

/** Banner (2), rule, title, meta, result, tests, logs rule, footer. */
const FIXED_LINES = 9;

export function logPageSize(size: Size): number {
  return Math.max(1, size.height - FIXED_LINES);
}

/** The last split, so a live view of a large log does not split it again on every frame. */
let cache: { logs: string; lines: string[] } = { logs: '', lines: [] };

export function logLines(job: JobInfo | undefined): string[] {
  const logs = job?.result?.logs ?? '';
  if (logs !== cache.logs) {
    cache = { logs, lines: logs === '' ? [] : logs.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n') };
  }
  return cache.lines;
}

export function findJob(state: DashboardState, id: string | undefined): JobInfo | undefined {
  return state.jobs.find((j) => j.id === id);
}

export function jobView(state: DashboardState, ui: UiState, size: Size): Line[] {
  const job = findJob(state, ui.openJobId);
  const foot = footer(
    size,
    'esc back  ↑↓ scroll  PgUp/PgDn page  g/G top/end  q quit',
    'esc back  ↑↓ scroll',
    ui.notice,
  );
  const out: Line[] = [...banner(state, size), rule(size)];
  if (!job) {
    out.push(line([seg(` Job ${ui.openJobId ?? '?'} is no longer known to the Mayor.`, 'warn')]));
    return fitHeight([...out, foot], size.height);
  }
  out.push(
    line(
      [seg(' Job ', 'dim'), seg(job.id, 'bold'), seg(`  ${job.jobType}`)],
      [seg(job.state, jobStateStyle(job))],
    ),
  );
  out.push(
    line([
      seg(` posted ${formatClock(job.postedAt)}`, 'dim'),
      seg(` · ${job.bytes} bytes · ${formatM2M(job.price)}`),
      seg(` · provider ${job.result?.provider ?? job.provider ?? 'none yet'}`, 'dim'),
    ]),
  );
  const r = job.result;
  if (r) {
    const style = r.status === 'success' ? 'good' : 'danger';
    out.push(line([seg(' Result ', 'dim'), seg(r.status.toUpperCase(), style), seg(`  ${r.summary}`)]));
    const t = r.tests;
    out.push(
      line([
        seg(' Tests  ', 'dim'),
        seg(`${t.passed} passed`, 'good'),
        seg(', '),
        seg(`${t.failed} failed`, t.failed > 0 ? 'danger' : 'plain'),
        seg(`, ${t.total} total`),
      ]),
    );
  } else {
    out.push(line([seg(' Result ', 'dim'), seg('waiting for a provider…', 'warn')]));
    out.push(line([seg(' Tests  ', 'dim'), seg('none yet', 'dim')]));
  }
  const lines = logLines(job);
  const page = logPageSize(size);
  const top = Math.max(0, Math.min(ui.logTop, lines.length - page));
  const shown = lines.slice(top, top + page);
  const range = lines.length === 0 ? 'none' : `${top + 1}-${top + shown.length} of ${lines.length}`;
  out.push(rule(size, `Logs ${range}`));
  for (const text of shown) out.push(line([seg(` ${text}`)]));
  return fitHeight([...out, foot], size.height);
}
