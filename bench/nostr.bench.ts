// Nostr hot paths: signing and verifying events (every relay write verifies), NIP-44 on a 1 KB message.
// Baseline: nostr-tools in the same run (same noble primitives underneath), printed as a ratio.
import { finalizeEvent as ntFinalize, verifyEvent as ntVerify } from 'nostr-tools/pure';
import { finalizeEvent, verifyEvent } from '../src/nostr/event.js';
import { generateSecretKey, getPublicKey } from '../src/nostr/keys.js';
import { decrypt, encrypt, getConversationKey } from '../src/nostr/nip44.js';
import { formatNs, timeIt } from './stats.js';

const perSecond = (ns: number) => Math.round(1e9 / ns).toLocaleString('en-US');
const line = (label: string, ns: number, unit: string, baselineNs?: number) =>
  console.log(
    `${label.padEnd(30)} ${formatNs(ns).padStart(12)}/op ${perSecond(ns).padStart(9)} ${unit}` +
      (baselineNs === undefined ? '' : `   ${(ns / baselineNs).toFixed(2)}x nostr-tools`),
  );

export async function run(): Promise<void> {
  const sk = generateSecretKey();
  const template = {
    kind: 5065,
    tags: [
      ['t', 'ci-cd-linux'],
      ['bid', '1000000'],
    ],
    content: 'x'.repeat(200),
    created_at: 1700000000,
  };
  const opts = { samples: 30, batch: 20, warmup: 50 };

  const ntSign = timeIt(() => ntFinalize(template, sk), opts);
  const sign = timeIt(() => finalizeEvent(template, sk), opts);
  line('sign event (finalizeEvent)', sign.medianNs, 'events/s', ntSign.medianNs);

  const event = finalizeEvent(template, sk);
  // nostr-tools caches the verdict on the object, so it gets a fresh copy each call (cheap next to a verify).
  const ntVer = timeIt(() => ntVerify({ ...event }), opts);
  const verify = timeIt(() => verifyEvent(event), opts);
  line('verify event (id + schnorr)', verify.medianNs, 'events/s', ntVer.medianNs);

  const key = getConversationKey(sk, getPublicKey(generateSecretKey()));
  const message = 'm'.repeat(1024);
  const nip44Opts = { samples: 50, batch: 50, warmup: 200 };
  const enc = timeIt(() => encrypt(message, key), nip44Opts);
  line('NIP-44 encrypt 1 KB', enc.medianNs, 'msg/s');
  const payload = encrypt(message, key);
  const dec = timeIt(() => decrypt(payload, key), nip44Opts);
  line('NIP-44 decrypt 1 KB', dec.medianNs, 'msg/s');

  const conv = timeIt(() => getConversationKey(sk, getPublicKey(sk)), opts);
  line('NIP-44 conversation key (ECDH)', conv.medianNs, 'keys/s');
}
