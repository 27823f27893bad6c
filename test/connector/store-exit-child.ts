// Child of store-exit.test.ts: a batch is on its way to connector.db's writer thread when a read (unpaid) settles
// it on this thread (drainSync). Then, with mode `return`, it returns without closing the store, as a process whose
// work is done: it must exit by itself. With mode `close` it closes the store and prints the file descriptors it
// still holds on the database (none expected).
import { join } from 'node:path';
import { openConnectorStore } from '../../src/connector/index.js';
import { openFilesUnder } from '../support/open-files.js';

const [dir, mode] = process.argv.slice(2) as [string, 'return' | 'close'];
const path = join(dir, 'connector.db');
// commitInline false: every batch goes to the writer thread, as on a node with packets in flight.
const store = openConnectorStore({ path, commitInline: () => false });
const recorded = store.addUnpaid('peer', 'in', { condition: 'c'.repeat(64), amount: 5n });
await new Promise((r) => setImmediate(r)); // the batch is with the writer thread now
const rows = store.unpaid('peer', 'in'); // waits for that commit on this thread (drainSync)
await recorded;
if (mode === 'close') {
  await store.close();
  const held = openFilesUnder([path]);
  process.stdout.write(`${JSON.stringify({ rows: rows.length, held })}\n`);
} else {
  process.stdout.write(`${JSON.stringify({ rows: rows.length })}\n`);
}
