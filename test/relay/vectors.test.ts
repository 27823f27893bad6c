// Shared conformance vectors through the relay: NIP-01 serialization edge cases and the NIP-59 / NIP-17
// gift wraps from the NIPs, each paid in through handlePrepare and read back over a real WebSocket.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IlpPacketType } from '../../src/ilp/index.js';
import { finalizeEvent, getPublicKey, KIND_CLIENT_AUTH } from '../../src/nostr/index.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import type { IssuedAccount } from '../../src/relay/index.js';
import { decodeEvent } from '../../src/toon/index.js';
import { paidPrepare, startTestRelay, TestClient, type TestRelay } from './helpers.js';

const vectors = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/vectors/nostr');
const load = <T>(file: string): T => JSON.parse(readFileSync(resolve(vectors, file), 'utf8')) as T;
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

interface SerializationVector {
  name: string;
  event: Omit<NostrEvent, 'id' | 'sig'>;
  id_jsonstringify: string;
}
const serialization = load<{ vectors: SerializationVector[] }>('nip01-serialization.generated.json').vectors;
const nip59 = load<{ recipient_sk: string; wrap: NostrEvent }>('nip59-example.json');
const nip17 = load<{
  sender_sk_hex: string;
  receiver_sk_hex: string;
  wrap_to_receiver: NostrEvent;
  wrap_to_sender: NostrEvent;
}>('nip17-example.json');

let t: TestRelay;
let account: IssuedAccount;
beforeAll(async () => {
  t = await startTestRelay();
  account = t.secrets.issue('vectors');
});
afterAll(() => t.close());

async function payOk(event: NostrEvent): Promise<void> {
  const reply = await t.relay.handlePrepare(paidPrepare(event, account));
  expect(reply.type, reply.type === IlpPacketType.Reject ? reply.message : '').toBe(IlpPacketType.Fulfill);
}

describe('NIP-01 serialization vectors through the gate', () => {
  const sk = hex(`${'0'.repeat(63)}1`);
  it.each(serialization.map((v) => [v.name, v] as const))(
    '%s: paid, stored and served unchanged',
    async (_n, v) => {
      const event = finalizeEvent({ ...v.event, created_at: v.event.created_at }, sk);
      expect(event.pubkey).toBe(v.event.pubkey);
      expect(event.id).toBe(v.id_jsonstringify);
      await payOk(event);
      const json = await TestClient.connect(t.relay.url);
      const toon = await TestClient.connect(`${t.relay.url}?encoding=toon`);
      expect(await json.req('v', { ids: [event.id] })).toEqual([event]);
      const [text] = await toon.req('v', { ids: [event.id] });
      expect(decodeEvent(text as string)).toEqual(event);
      json.close();
      toon.close();
    },
  );
});

describe('NIP-59 and NIP-17 gift wraps from the NIPs', () => {
  const wraps = [
    ['NIP-59 wrap', nip59.wrap, nip59.recipient_sk],
    ['NIP-17 wrap to receiver', nip17.wrap_to_receiver, nip17.receiver_sk_hex],
    ['NIP-17 wrap to sender', nip17.wrap_to_sender, nip17.sender_sk_hex],
  ] as const;

  it.each(wraps)(
    '%s: accepted as paid and served only to its authenticated recipient',
    async (_n, wrap, sk) => {
      await payOk(wrap);
      expect(getPublicKey(hex(sk))).toBe(wrap.tags.find((tag) => tag[0] === 'p')?.[1]);
      const anon = await TestClient.connect(t.relay.url);
      expect(await anon.req('w', { ids: [wrap.id] })).toEqual([]);
      const recipient = await TestClient.connect(t.relay.url);
      const challenge = (await recipient.next((f) => f[0] === 'AUTH'))[1] as string;
      const auth = finalizeEvent(
        {
          kind: KIND_CLIENT_AUTH,
          tags: [
            ['relay', t.relay.url],
            ['challenge', challenge],
          ],
          content: '',
        },
        hex(sk),
      );
      expect(await recipient.auth(auth)).toEqual([true, '']);
      expect(await recipient.req('w', { kinds: [1059], ids: [wrap.id] })).toEqual([wrap]);
      anon.close();
      recipient.close();
    },
  );

  it('rejects a vector wrap whose content was altered (F06)', async () => {
    const altered = { ...nip17.wrap_to_receiver, content: `${nip17.wrap_to_receiver.content} ` };
    const reply = await t.relay.handlePrepare(paidPrepare(altered, account));
    expect(reply.type === IlpPacketType.Reject && reply.code).toBe('F06');
  });
});
