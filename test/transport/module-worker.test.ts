// Our worker threads (store writers, gate workers, the claim signer) start from a bootstrap string that the thread
// evaluates as its parent's --input-type says. A script run with `node --input-type=module -e …` (how a user
// scripts the node in one line) made that string an ES module, where the bootstrap's `require` does not exist:
// every worker died at start ("require is not defined in ES module scope"). Real child processes and threads, both
// module types, the TypeScript path (tsx registered in the thread) as a checkout without a build runs it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const moduleWorker = pathToFileURL(join(process.cwd(), 'src/transport/module-worker.ts')).href;
const fixture = pathToFileURL(join(process.cwd(), 'test/transport/fixtures/x.ts')).href;

/** Runs `body` (top-level await allowed) as a `node -e` script of the given input type; resolves with its stdout. */
function runAs(inputType: 'module' | 'commonjs', body: string): Promise<string> {
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

/** Starts the fixture worker through startModuleWorker in a child node; resolves with what the worker answered. */
function run(inputType: 'module' | 'commonjs'): Promise<string> {
  return runAs(
    inputType,
    `
    const { startModuleWorker } = await import(${JSON.stringify(moduleWorker)});
    const w = startModuleWorker(${JSON.stringify(fixture)}, 'echo-worker', { text: 'hello' });
    const answer = await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    console.log(answer.echo);
    await w.terminate();`,
  );
}

const connectorStore = pathToFileURL(join(process.cwd(), 'src/connector/store-sqlite.ts')).href;

/** Records a packet through connector.db's writer thread (its own CommonJS source) in a child node. */
function runStoreWriter(inputType: 'module' | 'commonjs', path: string): Promise<string> {
  return runAs(
    inputType,
    `
    const { openConnectorStore } = await import(${JSON.stringify(connectorStore)});
    const s = openConnectorStore({ path: ${JSON.stringify(path)} });
    await s.addUnpaid('p', 'in', { condition: 'aa'.repeat(32), amount: 7n });
    console.log(String(s.unpaid('p', 'in')[0].amount));
    s.close();`,
  );
}

describe('module workers', () => {
  it('start under --input-type=module and under CommonJS', async () => {
    expect(await run('module')).toBe('hello');
    expect(await run('commonjs')).toBe('hello');
  }, 90_000);

  it('a worker from its own source (connector.db writer) starts under --input-type=module', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crosstown-eval-worker-'));
    try {
      expect(await runStoreWriter('module', join(dir, 'esm.db'))).toBe('7');
      expect(await runStoreWriter('commonjs', join(dir, 'cjs.db'))).toBe('7');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
