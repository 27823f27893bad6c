// The requesting side of SPSP over Nostr (DESIGN §3): publish a kind 23194 addressed to the receiver (the
// node, or a provider Mayor), read its kind 23195 answer. Both kinds are ephemeral, so the answer is only
// seen live: the subscription is opened before the request is published.

import { IlpPacketType, type IlpReply } from '../../ilp/types.js';
import { getPublicKey } from '../../nostr/keys.js';
import { KIND_SPSP_RESPONSE } from '../../nostr/kinds.js';
import {
  buildSpspRequest,
  parseSpspResponse,
  type SpspRequest,
  type SpspResponse,
} from '../../nostr/spsp.js';
import { MayorError } from './errors.js';
import type { RelayPool } from './relay-pool.js';

export interface SpspHandshakeOptions {
  pool: RelayPool;
  secretKey: Uint8Array;
  /** The receiver's Nostr pubkey (hex). */
  recipient: string;
  request: Omit<SpspRequest, 'requestId'> & { requestId?: string };
  /** Default 10 s. */
  timeoutMs?: number;
}

export async function spspHandshake(options: SpspHandshakeOptions): Promise<SpspResponse> {
  const { pool, secretKey, recipient } = options;
  const me = getPublicKey(secretKey);
  const requestId = options.request.requestId ?? `spsp-${Date.now().toString(36)}`;
  const event = buildSpspRequest(secretKey, recipient, { ...options.request, requestId });
  const timeoutMs = options.timeoutMs ?? 10_000;
  let close = () => {};
  let finished = false;
  try {
    return await new Promise<SpspResponse>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new MayorError(
              'SPSP_TIMEOUT',
              `No SPSP answer (kind 23195) from ${recipient.slice(0, 16)}… within ${timeoutMs} ms: check that it is online and reads the relay(s) ${pool.urls.join(', ')}.`,
            ),
          ),
        timeoutMs,
      );
      close = pool.subscribe(
        `spsp-${event.id.slice(0, 12)}`,
        [{ kinds: [KIND_SPSP_RESPONSE], '#p': [me], '#e': [event.id] }],
        ({ event: answer }) => {
          if (answer.pubkey !== recipient) return;
          try {
            const { response } = parseSpspResponse(answer, secretKey, event.id);
            clearTimeout(timer);
            resolve(response);
          } catch (err) {
            clearTimeout(timer);
            reject(err);
          }
        },
      );
      const deadline = Date.now() + timeoutMs;
      const fail = (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      };
      const publish = (retryInMs: number): void => {
        if (finished) return;
        pool.publish(event).then((acks) => {
          if (acks.some((a) => a.ok)) return;
          // Refused only for the relays' handshake budgets ("slow down and retry"): the same request again once they
          // refill, while the timeout allows (a restart or a burst of new providers meets this).
          const limited = acks.length > 0 && acks.every((a) => a.reason?.startsWith('rate-limited:'));
          if (limited && Date.now() + retryInMs < deadline) {
            setTimeout(() => publish(retryInMs * 2), retryInMs).unref();
            return;
          }
          fail(
            new MayorError(
              'RELAY_REFUSED',
              `Every relay refused the SPSP request: ${acks.map((a) => `${a.url}: ${a.reason}`).join('; ')}.`,
            ),
          );
        }, fail);
      };
      publish(250);
    });
  } finally {
    finished = true;
    close();
  }
}

/**
 * The node's relay answers F02 "no account for destination" when it no longer knows the account SPSP gave us
 * (the node restarted), and F05 "execution condition does not match" when it holds the account under another
 * secret (after a restart, a handshake made for another write in flight re-issued it before our answer came
 * back). Either way the cure is a new handshake: a reject moved no money, so writing again is safe.
 */
export function isStaleRelayAccount(reply: IlpReply): boolean {
  if (reply.type !== IlpPacketType.Reject) return false;
  return (
    (reply.code === 'F02' && reply.message.includes('no account for destination')) ||
    (reply.code === 'F05' && reply.message.includes('execution condition does not match'))
  );
}
