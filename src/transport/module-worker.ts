// Worker threads that run one of our modules, started the same way under plain node (dist/*.js), tsx and vitest
// (src/*.ts): the thread is bootstrapped from a string, and when the module is TypeScript, tsx's loader is
// registered in the thread before the module is imported. Used by the relay's gate pool, the event store's writer
// and the claim-signer thread. A caller running from src/ while the build is current (the launcher's rule,
// bin/dist-current.js) starts the compiled module instead: the same code, without the second or so tsx needs to
// load a module graph in each new thread (every node started under tsx or vitest paid it).
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { distState } from '../../bin/dist-current.js';
import { startEvalWorker } from './eval-worker.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC_URL = pathToFileURL(`${ROOT}src/`).href;
const DIST_URL = pathToFileURL(`${ROOT}dist/`).href;

/** The compiled twin of a src/ caller when the build is current (and the sources were not asked for), else itself. */
function builtTwin(callerUrl: string): string {
  if (!callerUrl.endsWith('.ts') || !callerUrl.startsWith(SRC_URL)) return callerUrl;
  if (process.env.CROSSTOWN_FROM_SOURCE === '1' || distState(ROOT) !== 'current') return callerUrl;
  return `${DIST_URL}${callerUrl.slice(SRC_URL.length, -'.ts'.length)}.js`;
}

const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsxApiUrl) {
    const api = await import(workerData.tsxApiUrl);
    (api.register ?? api.default.register)();
  }
  await import(workerData.moduleUrl);
})().catch((err) => { setImmediate(() => { throw err; }); });
`;

/**
 * Starts a thread running the module `name` (no extension) beside `callerUrl` (pass `import.meta.url`): `name.ts`
 * when the caller runs from source, else `name.js`. `data` reaches the module as `workerData` (with `moduleUrl` and
 * `tsxApiUrl` added).
 */
export function startModuleWorker(
  callerUrl: string,
  name: string,
  data: Record<string, unknown> = {},
): Worker {
  const caller = builtTwin(callerUrl);
  const fromSource = caller.endsWith('.ts');
  const moduleUrl = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, caller).href;
  const tsxApiUrl = fromSource
    ? pathToFileURL(
        createRequire(caller)
          .resolve('tsx/esm/api')
          .replace(/\.cjs$/, '.mjs'),
      ).href
    : undefined;
  return startEvalWorker(BOOTSTRAP, { workerData: { ...data, moduleUrl, tsxApiUrl } });
}
