// The Ink component: holds the latest snapshot and the UI state, maps keys, and prints the frame the views
// build. It re-renders straight from the source's subscribe callback; nothing here polls.
import { Box, Text, type TextProps, useApp, useInput, useStdin, useStdout } from 'ink';
import { memo, useEffect, useRef, useState } from 'react';
import { formatClock } from './format.js';
import { fitLine, type Segment, type Style } from './line.js';
import type { DashboardSource, DashboardState } from './model.js';
import { applyKey, decodeKey, initialUi, type UiState } from './ui-state.js';
import { buildFrame, findJob, logLines, logPageSize, type Size } from './views/index.js';

export interface DashboardProps {
  source: DashboardSource;
  /** Columns and rows to lay out for; default: the terminal's (tracked on resize), else 80x24. */
  width?: number;
  height?: number;
  /** Called when the operator quits (q or Ctrl-C), just before the Ink app exits. */
  onQuit?: () => void;
}

const STYLE: Record<Style, TextProps> = {
  plain: {},
  dim: { dimColor: true },
  bold: { bold: true },
  heading: { bold: true, color: 'cyan' },
  good: { color: 'green' },
  warn: { color: 'yellow' },
  danger: { color: 'red', bold: true },
  accent: { color: 'cyan' },
  selected: { inverse: true, bold: true },
  local: { backgroundColor: 'green', color: 'black', bold: true },
  testnet: { backgroundColor: 'yellow', color: 'black', bold: true },
  mainnet: { backgroundColor: 'red', color: 'white', bold: true },
};

/** One screen row. Memoized on its content: an update usually changes a few rows, not all of them. */
const Row = memo(
  function Row({ segments }: { segments: Segment[] }) {
    // An empty row still takes its line: a Text with no characters would collapse to nothing.
    if (segments.length === 0) return <Text> </Text>;
    return (
      <Text wrap="truncate-end">
        {segments.map((s, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: segments are positional and rebuilt every frame
          <Text key={i} {...STYLE[s.style ?? 'plain']}>
            {s.text}
          </Text>
        ))}
      </Text>
    );
  },
  (a, b) =>
    a.segments.length === b.segments.length &&
    a.segments.every((s, i) => s.text === b.segments[i]!.text && s.style === b.segments[i]!.style),
);

export function Dashboard({ source, width, height, onQuit }: DashboardProps) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [state, setState] = useState<DashboardState>(() => source.snapshot());
  const [ui, setUi] = useState<UiState>(initialUi);
  const [, setResizes] = useState(0);

  useEffect(() => {
    // One action often changes several things at once (posting a job adds the job, pays, logs activity):
    // coalesce the notifications of one synchronous burst into one render, still before any I/O happens.
    let pending: DashboardState | undefined;
    const unsubscribe = source.subscribe((next) => {
      const first = pending === undefined;
      pending = next;
      if (!first) return;
      queueMicrotask(() => {
        const latest = pending!;
        pending = undefined;
        setState(latest);
      });
    });
    setState(source.snapshot()); // a change between the first render and subscribing is not lost
    return unsubscribe;
  }, [source]);

  const { write } = useStdout();
  useEffect(() => {
    let wipe: NodeJS.Timeout | undefined;
    const onResize = () => {
      setResizes((n) => n + 1);
      // The terminal may have reflowed the old frame into more rows than Ink erases. Once the frame for the new
      // size is out (Ink renders at most every ~17 ms), wipe the screen: Ink draws its last frame again at the top.
      if (width !== undefined || height !== undefined || !stdout.isTTY) return;
      clearTimeout(wipe);
      wipe = setTimeout(() => write('\x1b[2J\x1b[3J\x1b[H'), 100);
    };
    stdout.on('resize', onResize);
    return () => {
      clearTimeout(wipe);
      stdout.off('resize', onResize);
    };
  }, [stdout, write, width, height]);

  // One line is left free: Ink ends the frame with a newline, and a frame as tall as the terminal scrolls.
  const size: Size = {
    width: Math.max(1, width ?? stdout.columns ?? 80),
    height: Math.max(1, (height ?? stdout.rows ?? 24) - 1),
  };

  const latest = useRef({ state, size });
  latest.current = { state, size };

  // Without a TTY on stdin (piped, CI) there are no keys to read, and Ink would fail to enter raw mode.
  const { isRawModeSupported } = useStdin();
  useInput(
    (input, key) => {
      const name = decodeKey(input, key);
      if (!name) return;
      if (name === 'quit') {
        onQuit?.();
        exit();
        return;
      }
      if (name === 'refresh') {
        refresh(source, setState, (notice) => setUi((u) => ({ ...u, notice })));
        return;
      }
      // Read the latest state and size through refs: a key can arrive before Ink re-attaches this handler.
      setUi((u) => {
        const current = latest.current;
        const ctx = {
          state: current.state,
          logLines: logLines(findJob(current.state, u.openJobId)).length,
          logPage: logPageSize(current.size),
        };
        return applyKey(u, name, ctx);
      });
    },
    { isActive: isRawModeSupported },
  );

  const lines = buildFrame(state, ui, size);
  return (
    <Box flexDirection="column" width={size.width}>
      {lines.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a frame is a fixed list of screen rows
        <Row key={i} segments={fitLine(l, size.width)} />
      ))}
    </Box>
  );
}

function refresh(
  source: DashboardSource,
  setState: (s: DashboardState) => void,
  notify: (notice: string) => void,
): void {
  notify('refreshing…');
  // Through a promise chain so that a refresh() that throws synchronously is reported like a rejection.
  Promise.resolve()
    .then(() => source.refresh?.())
    .then(
      () => {
        setState(source.snapshot());
        notify(`refreshed ${formatClock(Date.now())}`);
      },
      (err: unknown) => notify(`refresh failed: ${err instanceof Error ? err.message : String(err)}`),
    );
}
