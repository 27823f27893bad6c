// TOON: peekKind against full decodeEvent and JSON.parse of the same ~2 KB kind-5065 job request.

import type { NostrEvent } from '../src/nostr/types.js';
import { decodeEvent, encodeEvent, encodeEventBytes, peekKind } from '../src/toon/index.js';
import { formatNs, timeIt } from './stats.js';

const PEEK_TARGET_NS = 500;
const RATIO_TARGET = 30;

/** A realistic NIP-90 "build and test" request: job type, inputs, parameters, bid, relays, provider. */
export function sampleJobRequest(): NostrEvent {
  return {
    id: '5c83da77af1dec6d7289834998ad7aafbd9e2191396d75ec3cc27f5a77226f36',
    pubkey: 'f7234bd4c1394dda46d09f35bd384dd30cc552ad5541990f98844fb06676e9ca',
    created_at: 1735689600,
    kind: 5065,
    tags: [
      ['t', 'ci-cd-linux'],
      ['i', 'https://github.com/gastown/sample-repo.git', 'url'],
      ['i', 'a3f1c9e2b7d4058e6f1a2b3c4d5e6f708192a3b4', 'text', 'commit'],
      ['param', 'command', 'npm ci && npm test -- --reporter=dot'],
      ['param', 'node', '20'],
      ['param', 'timeout', '600'],
      ['param', 'artifacts', 'coverage/lcov.info,test-results.xml'],
      ['bid', '50000000000000000', 'M2M'],
      ['relays', 'ws://127.0.0.1:7100', 'ws://127.0.0.1:7101'],
      ['p', '8f2b1e4d7c0a3f6e9d2c5b8a1f4e7d0c3b6a9f2e5d8c1b4a7f0e3d6c9b2a5f8e'],
      ['expiration', '1735693200'],
    ],
    content:
      'Build and test the sample repository on linux/amd64. Run the full test suite with Node 20, ' +
      'collect coverage and junit results, gzip+base64 the logs. '.repeat(16) +
      'Report failures with the first 200 lines of each failing test log.\nkind: 1 (this is content, not a header)',
    sig:
      '908a15e46fb4d8675bab026fc230a0e3542bfade63da02d542fb78b2a8513fcd' +
      '0092619a2c8c1221e581946e0191f2af505dfdf8657a414dbca329186f009262',
  };
}

export async function run(): Promise<void> {
  const event = sampleJobRequest();
  const text = encodeEvent(event);
  const bytes = encodeEventBytes(event);
  const json = JSON.stringify(event);
  if (peekKind(bytes) !== 5065 || decodeEvent(bytes).kind !== 5065)
    throw new Error('bench event does not decode');

  const peekBytes = timeIt(() => peekKind(bytes), { samples: 300, batch: 1000 });
  const peekText = timeIt(() => peekKind(text), { samples: 300, batch: 1000 });
  const decode = timeIt(() => decodeEvent(bytes), { samples: 100, batch: 20, warmup: 500 });
  const parse = timeIt(() => JSON.parse(json), { samples: 200, batch: 100 });
  const ratio = decode.medianNs / peekBytes.medianNs;

  console.log(`event: kind 5065, ${bytes.length} bytes TOON, ${Buffer.byteLength(json)} bytes JSON`);
  console.log(
    `peekKind(bytes)        median ${formatNs(peekBytes.medianNs)}  p90 ${formatNs(peekBytes.p90Ns)}`,
  );
  console.log(
    `peekKind(string)       median ${formatNs(peekText.medianNs)}  p90 ${formatNs(peekText.p90Ns)}`,
  );
  console.log(`decodeEvent(bytes)     median ${formatNs(decode.medianNs)}  p90 ${formatNs(decode.p90Ns)}`);
  console.log(`JSON.parse(same event) median ${formatNs(parse.medianNs)}  p90 ${formatNs(parse.p90Ns)}`);
  console.log(`decode/peek ratio      ${ratio.toFixed(1)}x`);
  console.log(
    `targets: peekKind median < ${PEEK_TARGET_NS} ns: ${peekBytes.medianNs < PEEK_TARGET_NS ? 'MET' : 'NOT MET'}; ` +
      `decode/peek >= ${RATIO_TARGET}x: ${ratio >= RATIO_TARGET ? 'MET' : 'NOT MET'}`,
  );
}
