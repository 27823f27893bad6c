#!/usr/bin/env node
// Launcher. Runs the compiled CLI in dist/ when it is current (see dist-current.js), else the TypeScript sources
// through tsx (a development checkout, or CROSSTOWN_FROM_SOURCE=1). Either way the CLI runs in this very process,
// with no wrapper, so signals (Ctrl-C, SIGTERM from `devnet down`) reach the command directly.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { distState } from './dist-current.js';

// `crosstown --version` alone is answered here, from package.json, as commander would print it: scripts and shell
// prompts call it often, and it needs neither the CLI nor the dist/src check (docs/cli.md "Start-up").
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${version}\n`);
  process.exit(0);
}

const root = fileURLToPath(new URL('..', import.meta.url));
let main;
if (process.env.CROSSTOWN_FROM_SOURCE !== '1' && distState(root) === 'current') {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  // Both hooks, as `node --import tsx` has: a TypeScript skill outside a `"type": "module"` package is CommonJS.
  const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
  esm.register();
  cjs.register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv);
