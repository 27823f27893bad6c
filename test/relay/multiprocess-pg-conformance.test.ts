// The relay's conformance suites, unchanged, on the PostgreSQL store that several relay processes share: the same
// test files run here with every test relay backed by a fresh database on a real throwaway PostgreSQL server
// (test/support/postgres.ts), with the relay's live feed on. Their SQLite runs are the files themselves.
import { afterAll, describe } from 'vitest';
import { openPostgresStore } from '../../src/store/index.js';
import { startPostgres } from '../support/postgres.js';
import { setTestStoreFactory } from './helpers.js';

const server = await startPostgres();
afterAll(async () => {
  setTestStoreFactory();
  await server.stop();
});
setTestStoreFactory(async () => openPostgresStore({ url: await server.createDatabase(), poolSize: 4 }));

// `?pg`: a module of its own, run here even when the worker already ran the file itself (isolate: false keeps a
// worker's modules from one test file to the next, and an import of a module already loaded registers no tests).
const onPostgres = (file: string) => import(/* @vite-ignore */ `./${file}?pg`);
describe('relay.test.ts on PostgreSQL', async () => {
  await onPostgres('relay.test.js');
});
describe('client-conformance.test.ts on PostgreSQL', async () => {
  await onPostgres('client-conformance.test.js');
});
describe('gate.test.ts on PostgreSQL', async () => {
  await onPostgres('gate.test.js');
});
describe('vectors.test.ts on PostgreSQL', async () => {
  await onPostgres('vectors.test.js');
});
// NIP-45 with nostr-tools' count() as the client: the PostgreSQL store's indexed COUNT(*) (issue 18).
describe('count.test.ts on PostgreSQL', async () => {
  await onPostgres('count.test.js');
});
