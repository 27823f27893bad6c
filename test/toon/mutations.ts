// Damage to encoded events, for the property and fuzz tests: line edits, kind-line variants, raw bytes.
import fc from 'fast-check';
import { encodeEventBytes } from '../../src/toon/index.js';
import { trickyString, validEvent } from './helpers.js';

/** Line-level and byte-level damage to an encoded event. */
const kindLineVariants = [
  'kind: 1',
  'kind: 01',
  'kind: 1.0',
  'kind: 1e3',
  'kind: -1',
  'kind: -0',
  'kind: 65536',
  'kind: "1"',
  'kind:',
  'kind: []',
  'kind[1]: 1',
  '"kind": 3',
  '"k\\u0069nd": 4',
  'kind : 5',
  'kind: 6 ',
  'kind: 7\r',
  '  kind: 2',
  ' kind: 2',
  '\tkind: 1',
  'kind: 1\t',
  '# kind: 9',
  'kinda: 1',
  '\ufeffkind: 8',
  '[1]: 1',
  '  x: 1',
  '- kind: 1',
];

type Mutation =
  | { op: 'delete' | 'duplicate' | 'indent1' | 'indent2' | 'dedent' | 'crlf'; at: number }
  | { op: 'replace' | 'insert'; at: number; line: string }
  | { op: 'bytes'; at: number; bytes: number[] }
  | { op: 'swap'; at: number; with: number }
  | { op: 'bom' };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constantFrom('delete', 'duplicate', 'indent1', 'indent2', 'dedent', 'crlf'),
    at: fc.nat(40),
  }) as fc.Arbitrary<Mutation>,
  fc.record({
    op: fc.constantFrom('replace', 'insert'),
    at: fc.nat(40),
    line: fc.oneof(fc.constantFrom(...kindLineVariants), trickyString),
  }) as fc.Arbitrary<Mutation>,
  fc.record({
    op: fc.constant('bytes'),
    at: fc.nat(4000),
    bytes: fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(10, 13, 32, 9, 34, 58, 107)), {
      minLength: 1,
      maxLength: 4,
    }),
  }) as fc.Arbitrary<Mutation>,
  fc.record({ op: fc.constant('swap'), at: fc.nat(40), with: fc.nat(40) }) as fc.Arbitrary<Mutation>,
  fc.constant({ op: 'bom' } as Mutation),
);

export function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let data = bytes;
  for (const m of mutations) {
    if (m.op === 'bytes') {
      const at = m.at % (data.length + 1);
      data = new Uint8Array([...data.subarray(0, at), ...m.bytes, ...data.subarray(at)]);
      continue;
    }
    if (m.op === 'bom') {
      data = new Uint8Array([0xef, 0xbb, 0xbf, ...data]);
      continue;
    }
    // Line operations work on latin1 so that arbitrary bytes survive untouched.
    const lines = Buffer.from(data).toString('latin1').split('\n');
    const i = m.at % lines.length;
    const line = lines[i]!;
    if (m.op === 'delete') lines.splice(i, 1);
    else if (m.op === 'duplicate') lines.splice(i, 0, line);
    else if (m.op === 'indent1') lines[i] = ` ${line}`;
    else if (m.op === 'indent2') lines[i] = `  ${line}`;
    else if (m.op === 'dedent') lines[i] = line.replace(/^ {1,2}/, '');
    else if (m.op === 'crlf') lines[i] = `${line}\r`;
    else if (m.op === 'swap') {
      const j = m.with % lines.length;
      [lines[i], lines[j]] = [lines[j]!, line];
    } else if (m.op === 'replace' || m.op === 'insert') {
      const replacement = Buffer.from(m.line, 'utf8').toString('latin1');
      if (m.op === 'replace') lines[i] = replacement;
      else lines.splice(i, 0, replacement);
    }
    data = new Uint8Array(Buffer.from(lines.join('\n'), 'latin1'));
  }
  return data;
}

export const mutatedEvent = fc
  .tuple(validEvent, fc.array(mutation, { minLength: 1, maxLength: 4 }))
  .map(([event, mutations]) => mutate(encodeEventBytes(event), mutations));
