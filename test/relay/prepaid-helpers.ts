// The relay's prepaid parts over real SQLite files in one folder, as a fresh process opens them: a restart is
// another call on the same folder. Shared by the prepaid crash and receipt tests.
import { join } from 'node:path';
import { createWriteGate } from '../../src/relay/gate.js';
import { PrepaidBalances } from '../../src/relay/prepaid.js';
import { AccountSecretStore } from '../../src/relay/secrets.js';
import { openPrepaidStore, openSqliteStore } from '../../src/store/index.js';

export const PREPAID_PRICE = 10n;

export async function openPrepaidRelay(dir: string) {
  const secrets = new AccountSecretStore('g.test.relay');
  const persistence = openPrepaidStore(join(dir, 'prepaid.db'));
  const prepaid = new PrepaidBalances(secrets, persistence);
  const store = await openSqliteStore({ path: join(dir, 'relay.db') });
  const gate = createWriteGate({
    store,
    secrets,
    prepaid,
    basePricePerByte: PREPAID_PRICE,
    maxEventBytes: 32_767,
    ilpAddress: 'g.test.relay',
    deliver: () => {},
    now: Date.now,
  });
  const close = async () => {
    await store.close();
    persistence.close();
  };
  return { secrets, prepaid, store, gate, close };
}
