// A spinner on stderr for slow steps (transactions waiting for confirmation, waiting for a result). It only
// draws when stderr is a terminal and the output format is text, so scripts and pipes see nothing of it.
import type { OutputFormat } from './output.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface Progress {
  /** Changes the label of the step in progress. */
  update(label: string): void;
  /** Ends the step with ✓ and a final label. */
  succeed(label?: string): void;
  /** Ends the step with ✗. */
  fail(label?: string): void;
}

export interface ProgressOptions {
  format: OutputFormat;
  /** Default process.stderr. */
  stream?: NodeJS.WriteStream;
}

const silent: Progress = { update() {}, succeed() {}, fail() {} };

export function startProgress(label: string, options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.format !== 'text' || stream.isTTY !== true) return silent;
  let text = label;
  let frame = 0;
  const draw = () => stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${text}`);
  draw();
  const timer = setInterval(draw, 80);
  timer.unref();
  const end = (mark: string, final?: string) => {
    clearInterval(timer);
    stream.write(`\r\x1b[2K${mark} ${final ?? text}\n`);
  };
  return {
    update: (l) => {
      text = l;
    },
    succeed: (l) => end('✓', l),
    fail: (l) => end('✗', l),
  };
}

/** Runs `work` under a spinner: ✓ when it resolves, ✗ when it throws (the error still propagates). */
export async function withProgress<T>(
  label: string,
  options: ProgressOptions,
  work: (p: Progress) => Promise<T>,
): Promise<T> {
  const p = startProgress(label, options);
  try {
    const result = await work(p);
    p.succeed();
    return result;
  } catch (err) {
    p.fail();
    throw err;
  }
}
