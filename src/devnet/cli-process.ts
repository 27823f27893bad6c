// How to run the `crosstown` CLI as a child process whose pid is the CLI itself: through the launcher
// bin/crosstown.js, which runs the CLI in its own process (no wrapper, so signals reach it directly) from dist/ when
// the build is current and from src/ through tsx otherwise (docs/cli.md "Start-up"). A child started from compiled
// code and one started from the sources therefore run the same, newest code, and neither pays tsx needlessly.
import { fileURLToPath } from 'node:url';

/** Absolute path of the launcher, bin/crosstown.js (same depth from src/devnet and dist/devnet). */
export const CLI_MAIN = fileURLToPath(new URL('../../bin/crosstown.js', import.meta.url));

/** `[command, args]` to spawn `crosstown <args>`. */
export function cliCommand(args: string[]): [string, string[]] {
  return [process.execPath, [CLI_MAIN, ...args]];
}
