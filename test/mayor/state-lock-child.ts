// Child of state-lock.test.ts: takes and releases a state repository's owner lock in a tight loop for `ms`, holding
// a marker file while it owns the lock (created with O_EXCL: a second owner at the same time cannot create it).
// Prints {"acquired", "refused", "errors", "double"} on one line.
import { closeSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock } from '../../src/mayor/state/recovery.js';

const [dir, ms] = process.argv.slice(2) as [string, string];
const marker = join(dir, 'owner-marker');
let acquired = 0;
let refused = 0;
let double = 0;
const errors: string[] = [];
const end = Date.now() + Number(ms);
while (Date.now() < end) {
  let release: (() => void) | undefined;
  try {
    release = acquireLock(dir);
  } catch (err) {
    if ((err as { code?: string }).code === 'REPO_LOCKED') refused++;
    else errors.push((err as Error).message);
    continue;
  }
  acquired++;
  let held = false;
  try {
    closeSync(openSync(marker, 'wx'));
    held = true;
  } catch {
    double++;
  }
  if (held) rmSync(marker);
  release();
}
process.stdout.write(`${JSON.stringify({ acquired, refused, double, errors: errors.slice(0, 5) })}\n`);
