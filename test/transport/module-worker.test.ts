// Our worker threads (store writers, gate workers, the claim signer) start from a bootstrap string that the thread
// evaluates as its parent's --input-type says. A script run with `node --input-type=module -e …` (how a user
// scripts the node in one line) made that string an ES module, where the bootstrap's `require` does not exist:
// every worker died at start ("require is not defined in ES module scope"). Real child processes and threads, both
// module types, the TypeScript path (tsx registered in the thread) as a checkout without a build runs it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const moduleWorker = pathToFileURL(join(process.cwd(), 'src/transport/module-worker.ts')).href;
const fixture = pathToFileURL(join(process.cwd(), 'test/transport/fixtures/x.ts')).href;

/** Starts the fixture worker through startModuleWorker in a child node; resolves with what the worker answered. */
function run(inputType: 'module' | 'commonjs'): Promise<string> {
  const body = `
    const { startModuleWorker } = await import(${JSON.stringify(moduleWorker)});
    const w = startModuleWorker(${JSON.stringify(fixture)}, 'echo-worker', { text: 'hello' });
    const answer = await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    console.log(answer.echo);
    await w.terminate();`;
  const code =
    inputType === 'module'
      ? body
      : `(async () => { ${body} })().catch((e) => { console.error(e.message); process.exit(1); });`;
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', `--input-type=${inputType}`, '-e', code],
      { timeout: 60_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim()),
    ),
  );
}

describe('module workers', () => {
  it('start under --input-type=module and under CommonJS', async () => {
    expect(await run('module')).toBe('hello');
    expect(await run('commonjs')).toBe('hello');
  }, 90_000);
});
