// Mounting the dashboard on a terminal (or on test streams).
import { type RenderOptions, render } from 'ink';
import { Dashboard } from './dashboard.js';
import type { DashboardSource } from './model.js';

export interface RenderDashboardOptions {
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  /**
   * When the operator quits (q, Ctrl-C), also end the process with exit code 0 once the dashboard is
   * unmounted: for `crosstown mayor attach`, whose open connections would otherwise keep it alive.
   * Default false: quitting only unmounts, and waitUntilExit() resolves.
   */
  exitOnQuit?: boolean;
}

export interface DashboardHandle {
  /** Resolves when the dashboard is unmounted: by a quit key or by unmount(). */
  waitUntilExit(): Promise<void>;
  unmount(): void;
}

export function renderDashboard(
  source: DashboardSource,
  options: RenderDashboardOptions = {},
): DashboardHandle {
  let quitByKey = false;
  // Ctrl-C is handled by the dashboard itself (as a quit key), so Ink's own handler is off.
  // maxFps 60: Ink coalesces bursts of updates into at most one frame per ~17 ms, well inside the 100 ms
  // the dashboard promises between an event and the frame that shows it.
  const inkOptions: RenderOptions = {
    exitOnCtrlC: false,
    patchConsole: options.stdout === undefined,
    maxFps: 60,
  };
  if (options.stdout) inkOptions.stdout = options.stdout;
  if (options.stdin) inkOptions.stdin = options.stdin;
  // On a terminal the dashboard takes the alternate screen, like less or top: what the shell printed before
  // stays untouched below it, and quitting gives the screen back as it was.
  const out = options.stdout ?? process.stdout;
  const alternate = out.isTTY === true;
  if (alternate) out.write('\x1b[?1049h\x1b[2J\x1b[H');
  let restored = !alternate;
  const restore = () => {
    if (restored) return;
    restored = true;
    out.write('\x1b[?1049l');
  };
  process.once('exit', restore);
  const instance = render(
    <Dashboard
      source={source}
      onQuit={() => {
        quitByKey = true;
      }}
    />,
    inkOptions,
  );
  const exited = instance.waitUntilExit().then(() => {
    restore();
    process.off('exit', restore);
    if (options.exitOnQuit && quitByKey) process.exit(0);
  });
  return { waitUntilExit: () => exited, unmount: () => instance.unmount() };
}
