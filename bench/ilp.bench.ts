// ILP codec and fulfillment benchmarks. Baseline: npm ilp-packet (a dev dependency) on the same packet.
import * as ilpOracle from 'ilp-packet';
import {
  conditionOf,
  deriveFulfillment,
  deserializeIlpPrepare,
  fulfillmentFromKey,
  fulfillmentKeyOf,
  type IlpPrepare,
  serializeIlpPrepare,
  verifyFulfillment,
} from '../src/ilp/index.js';
import { formatNs, timeIt } from './stats.js';

export async function run(): Promise<void> {
  const data = new Uint8Array(2048).map((_, i) => i & 0xff);
  const secret = new Uint8Array(32).fill(7);
  const fulfillment = deriveFulfillment(secret, data);
  const prepare: Omit<IlpPrepare, 'type'> = {
    amount: 875_000_000_000_000n,
    expiresAt: new Date('2030-01-01T00:00:30.000Z'),
    executionCondition: conditionOf(fulfillment),
    destination: 'g.crosstown.relay.mayor-alice',
    data,
  };
  const bytes = serializeIlpPrepare(prepare);
  const oraclePrepare = {
    amount: prepare.amount.toString(),
    expiresAt: prepare.expiresAt,
    executionCondition: Buffer.from(prepare.executionCondition),
    destination: prepare.destination,
    data: Buffer.from(data),
  };
  const buf = Buffer.from(bytes);

  const rows: [string, number, number | undefined][] = [];
  const ser = timeIt(() => serializeIlpPrepare(prepare)).medianNs;
  const serBase = timeIt(() => ilpOracle.serializeIlpPrepare(oraclePrepare)).medianNs;
  rows.push([`serialize PREPARE (${bytes.length} B, 2 KB data)`, ser, serBase]);
  const de = timeIt(() => deserializeIlpPrepare(bytes)).medianNs;
  const deBase = timeIt(() => ilpOracle.deserializeIlpPrepare(buf)).medianNs;
  rows.push(['deserialize PREPARE (2 KB data)', de, deBase]);

  const key = fulfillmentKeyOf(secret);
  rows.push([
    'deriveFulfillment (2 KB data, two HMACs)',
    timeIt(() => deriveFulfillment(secret, data)).medianNs,
    undefined,
  ]);
  rows.push([
    'fulfillmentFromKey (2 KB data, cached key)',
    timeIt(() => fulfillmentFromKey(key, data)).medianNs,
    undefined,
  ]);
  rows.push([
    'verifyFulfillment (SHA-256 + constant-time compare)',
    timeIt(() => verifyFulfillment(fulfillment, prepare.executionCondition)).medianNs,
    undefined,
  ]);

  for (const [name, ns, base] of rows) {
    const ratio =
      base === undefined ? '' : `  (ilp-packet ${formatNs(base)}; ours/theirs = ${(ns / base).toFixed(2)}x)`;
    console.log(`${name.padEnd(52)} median ${formatNs(ns)}${ratio}`);
  }
}
