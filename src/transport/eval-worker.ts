// Threads started from a source string (our worker scripts are CommonJS source) evaluate it as the parent's
// --input-type says: under `node --input-type=module -e …` every such thread became an ES module, where `require`
// does not exist, and died at start. The flag is left out of what the thread inherits.
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startEvalWorker(source: string, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const argv = process.execArgv;
  const i = argv.findIndex((a) => a === '--input-type' || a.startsWith('--input-type='));
  const execArgv =
    i < 0 ? undefined : argv.filter((_, j) => j !== i && !(argv[i] === '--input-type' && j === i + 1));
  return new Worker(source, { ...options, eval: true, ...(execArgv && { execArgv }) });
}
