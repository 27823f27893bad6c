// How to run the `crosstown` CLI as a child process whose pid is the CLI itself (no launcher in between),
// so signals reach it directly: `node --import tsx src/cli/main.ts ...`.
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/** Absolute path of src/cli/main.ts. */
export const CLI_MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));

/** `[command, args]` to spawn `crosstown <args>`. */
export function cliCommand(args: string[]): [string, string[]] {
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  return [process.execPath, ['--import', tsx, CLI_MAIN, ...args]];
}
