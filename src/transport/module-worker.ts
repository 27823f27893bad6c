// Worker threads that run one of our modules, started the same way under plain node (dist/*.js), tsx and vitest
// (src/*.ts): the thread is bootstrapped from a string, and when the module is TypeScript, tsx's loader is
// registered in the thread before the module is imported. Used by the relay's gate pool, the event store's writer
// and the claim-signer thread.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

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
  const fromSource = callerUrl.endsWith('.ts');
  const moduleUrl = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, callerUrl).href;
  const tsxApiUrl = fromSource
    ? pathToFileURL(
        createRequire(callerUrl)
          .resolve('tsx/esm/api')
          .replace(/\.cjs$/, '.mjs'),
      ).href
    : undefined;
  return new Worker(BOOTSTRAP, { eval: true, workerData: { ...data, moduleUrl, tsxApiUrl } });
}
