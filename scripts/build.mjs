// `npm run build` (and `prepare`, so `npm ci` runs it): compiles src/ into a clean dist/ with tsc, then writes
// dist/.build-stamp dated to when the build started. bin/crosstown.js runs dist/ only while no file under src/ is
// newer than the stamp, so an edit made during the build still counts as unbuilt. A failed build writes no stamp.
import { spawnSync } from 'node:child_process';
import { rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const started = new Date();
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // An install without devDependencies: nothing to compile with; the CLI runs src/ through tsx (a dependency).
  process.stderr.write('typescript is not installed: dist/ not built, `crosstown` runs src/ through tsx\n');
  process.exit(0);
}
rmSync(dist, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
if (result.status !== 0) {
  process.stderr.write(
    'build failed: dist/ has no build stamp, so `crosstown` keeps running src/ through tsx\n',
  );
  process.exit(result.status ?? 1);
}
const stamp = join(dist, '.build-stamp');
writeFileSync(stamp, `${started.toISOString()}\n`);
utimesSync(stamp, started, started);
