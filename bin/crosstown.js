#!/usr/bin/env node
// Launcher: registers tsx's loader in this very process and runs the TypeScript CLI, so a clone works without a
// build step and signals (Ctrl-C, SIGTERM from `devnet down`) reach the command directly, with no wrapper process.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
