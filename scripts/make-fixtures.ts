// Writes the TOON fixtures skill tests load with loadTestTOON (test/fixtures/toon/). Run once and commit the
// output: `npx tsx scripts/make-fixtures.ts`. The gift wrap uses a random one-time key and timestamps, so
// each run gives different bytes that decrypt to the same rumor with TEST_RECIPIENT_SECRET_KEY_HEX.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildSignedToonEvent,
  getPublicKey,
  giftWrapToon,
  testRecipientSecretKey,
} from '../src/testing/index.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'toon');
const recipientPubkey = getPublicKey(testRecipientSecretKey());
const createdAt = 1_767_225_600; // 2026-01-01T00:00:00Z, fixed so the signed fixtures are stable

const fixtures: Record<string, Uint8Array> = {
  'kind1059_encrypted_dm.toon': giftWrapToon(
    {
      kind: 5065,
      created_at: createdAt,
      tags: [
        ['t', 'ci-cd-linux'],
        ['i', 'git@example.com:acme/private-repo.git', 'git'],
        ['bid', '50000'],
      ],
      content: 'Analyze this private repo for failing tests and report a summary. Keep it confidential.',
    },
    { recipientPubkey },
  ),
  'kind1_note.toon': buildSignedToonEvent({
    kind: 1,
    created_at: createdAt,
    tags: [],
    content: 'hello crosstown',
  }),
};

for (const [name, bytes] of Object.entries(fixtures)) {
  writeFileSync(join(out, name), bytes);
  console.log(`wrote ${join(out, name)} (${bytes.length} bytes)`);
}
