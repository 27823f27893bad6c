#!/usr/bin/env node
// Launcher. Runs the compiled CLI in dist/ when it is current (see dist-current.js), else the TypeScript sources
// through tsx (a development checkout, or CROSSTOWN_FROM_SOURCE=1). Either way the CLI runs in this very process,
// with no wrapper, so signals (Ctrl-C, SIGTERM from `devnet down`) reach the command directly.
import { fileURLToPath } from 'node:url';
import { distState } from './dist-current.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let main;
if (process.env.CROSSTOWN_FROM_SOURCE !== '1' && distState(root) === 'current') {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv);
