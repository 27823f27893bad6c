// Whether dist/ (built by `npm run build`, which `npm ci` runs as `prepare`) may run instead of src/ (docs/cli.md
// "Start-up"): dist/.build-stamp exists (written only after a successful build, dated to when the build started)
// and no file under src/ is newer than it. A developer editing src/ therefore never runs stale code, and an install
// without src/ always runs dist/. Checking the ~260 mtimes of src/ costs a few ms.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The newest mtime (ms) of any file under dir, or -1 when dir does not exist. */
function newestMtime(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return -1;
  }
  let newest = -1;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

/** 'current', 'missing' (never built, or the build failed) or 'stale' (a file under src/ changed since). */
export function distState(root) {
  let built;
  try {
    built = statSync(join(root, 'dist', '.build-stamp')).mtimeMs;
  } catch {
    return 'missing';
  }
  return newestMtime(join(root, 'src')) <= built ? 'current' : 'stale';
}
