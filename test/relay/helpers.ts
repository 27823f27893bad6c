// Test helpers: a relay on 127.0.0.1:0 with a real in-memory SQLite store (or another backend chosen with
// setTestStoreFactory, e.g. PostgreSQL), a small ws client that records every frame, and a builder for paid PREPAREs.
import WebSocket from 'ws';
import { conditionOf, deriveFulfillment, IlpPacketType, type IlpPrepare } from '../../src/ilp/index.js';
import { finalizeEvent } from '../../src/nostr/index.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import {
  AccountSecretStore,
  type IssuedAccount,
  NostrRelay,
  type StartRelayOptions,
} from '../../src/relay/index.js';
import { type EventStore, SqliteEventStore } from '../../src/store/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';

export const RELAY_ADDRESS = 'g.crosstown.relay';
export const PRICE = 10n;

/** Makes the store of each test relay. Default: a fresh in-memory SQLite store. */
export type TestStoreFactory = () => EventStore | Promise<EventStore>;
const inMemory: TestStoreFactory = () => new SqliteEventStore({ path: ':memory:' });
let storeFactory = inMemory;

/**
 * Runs the relay tests imported after this call on another backend: multiprocess-pg-conformance.test.ts imports
 * relay.test.ts and client-conformance.test.ts unchanged with a PostgreSQL factory. Without a factory: back to the
 * default (test files share a worker's modules, so a file that set one puts it back when it ends).
 */
export function setTestStoreFactory(factory: TestStoreFactory = inMemory): void {
  storeFactory = factory;
}

export interface TestRelay {
  relay: NostrRelay;
  store: EventStore;
  secrets: AccountSecretStore;
  close(): Promise<void>;
}

export async function startTestRelay(overrides: Partial<StartRelayOptions> = {}): Promise<TestRelay> {
  const store = await storeFactory();
  const secrets = new AccountSecretStore(RELAY_ADDRESS);
  const relay = await NostrRelay.start({
    store,
    secrets,
    basePricePerByte: PRICE,
    ilpAddress: RELAY_ADDRESS,
    ...overrides,
  });
  return {
    relay,
    store,
    secrets,
    close: async () => {
      await relay.close();
      await store.close();
    },
  };
}

export function sign(
  sk: Uint8Array,
  kind: number,
  tags: string[][] = [],
  content = '',
  createdAt?: number,
): NostrEvent {
  return finalizeEvent({ kind, tags, content, created_at: createdAt ?? Math.floor(Date.now() / 1000) }, sk);
}

/** A PREPARE paying for `event`, with the condition derived from the account's shared secret. */
export function paidPrepare(
  event: NostrEvent,
  account: IssuedAccount,
  overrides: Partial<IlpPrepare> & { data?: Uint8Array } = {},
): IlpPrepare {
  const data = overrides.data ?? encodeEventBytes(event);
  return {
    type: IlpPacketType.Prepare,
    amount: BigInt(data.length) * PRICE,
    expiresAt: new Date(Date.now() + 30_000),
    executionCondition: conditionOf(deriveFulfillment(account.sharedSecret, data)),
    destination: account.destination,
    data,
    ...overrides,
  };
}

type Frame = unknown[];

/** A WebSocket client that keeps every frame it received, in order. */
export class TestClient {
  readonly frames: Frame[] = [];
  private waiters: { test: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private cursor = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
  }

  /** `options` reach ws as they are (e.g. `headers` a client chooses, such as a forged Host). */
  static async connect(url: string, options?: WebSocket.ClientOptions): Promise<TestClient> {
    const ws = new WebSocket(url, options);
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next frame (received after the previous `next`) that passes `test`. */
  async next(test: (f: Frame) => boolean = () => true, timeoutMs = 3000): Promise<Frame> {
    for (; this.cursor < this.frames.length; this.cursor++) {
      const frame = this.frames[this.cursor]!;
      if (test(frame)) {
        this.cursor++;
        return frame;
      }
    }
    this.cursor = this.frames.length;
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching frame within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        test,
        resolve: (f) => {
          clearTimeout(timer);
          this.cursor = this.frames.length;
          resolve(f);
        },
      });
    });
  }

  /** Sends REQ and returns the stored events' payloads (objects or TOON strings) up to EOSE. */
  async req(subId: string, ...filters: object[]): Promise<unknown[]> {
    const start = this.frames.length;
    this.send(['REQ', subId, ...filters]);
    const end = await this.next((f) => (f[0] === 'EOSE' || f[0] === 'CLOSED') && f[1] === subId);
    if (end[0] === 'CLOSED') throw new Error(`subscription closed: ${end[2]}`);
    return this.frames
      .slice(start)
      .filter((f) => f[0] === 'EVENT' && f[1] === subId)
      .map((f) => f[2]);
  }

  /** Sends EVENT and waits for its OK: [accepted, reason]. */
  async publish(
    event: NostrEvent | string,
    id?: string,
    type: 'EVENT' | 'AUTH' = 'EVENT',
  ): Promise<[boolean, string]> {
    const eventId = id ?? (event as NostrEvent).id;
    this.send([type, event]);
    const ok = await this.next((f) => f[0] === 'OK' && f[1] === eventId);
    return [ok[2] as boolean, ok[3] as string];
  }

  /** Sends AUTH (NIP-42) and waits for its OK. */
  auth(event: NostrEvent): Promise<[boolean, string]> {
    return this.publish(event, event.id, 'AUTH');
  }

  /** Resolves when no frame arrives for `ms` (to assert that something was NOT delivered). */
  async quiet(ms = 150): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
  }

  eventsFor(subId: string): unknown[] {
    return this.frames.filter((f) => f[0] === 'EVENT' && f[1] === subId).map((f) => f[2]);
  }

  close(): void {
    this.ws.close();
  }
}
