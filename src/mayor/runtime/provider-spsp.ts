// The receiving side of SPSP for a provider Mayor: a requester that owes it for a job asks (kind 23194
// addressed to the provider), the provider answers (kind 23195) with an ILP address under its own and a
// fresh shared secret; PREPAREs to that address arriving on the provider's BTP session are fulfilled with
// the secret (DESIGN §3: fulfillment = HMAC(HMAC(secret, "ilp_stream_fulfillment"), data)).
import { randomBytes } from 'node:crypto';
import { conditionOf, deriveFulfillment } from '../../ilp/fulfillment.js';
import { IlpPacketType, type IlpPrepare, type IlpReply } from '../../ilp/types.js';
import type { SettlementInfo } from '../../nostr/settlement.js';
import { buildSpspResponse, parseSpspRequest } from '../../nostr/spsp.js';
import type { NostrEvent } from '../../nostr/types.js';

export interface ProviderSpspOptions {
  /** The provider's Nostr secret key (requests are NIP-44 encrypted to it). */
  secretKey: Uint8Array;
  /** The provider's own ILP address (from its SPSP with its node). */
  ilpAddress: string;
  /** The provider's settlement info, as its node told it. */
  settlement: SettlementInfo;
  /** Its node's BTP URL (informational for the requester). */
  btpUrl: string;
  /** Called for every fulfilled payment, before the FULFILL is returned (record it, e.g. for claims). */
  onPayment?: (p: { from: string; amount: bigint; prepare: IlpPrepare }) => void;
}

interface Account {
  secret: Uint8Array;
  /** The requester's pubkey. */
  from: string;
}

export interface ProviderSpsp {
  /** Answers a kind 23194 addressed to the provider; throws on a malformed or misaddressed request. */
  respond(request: NostrEvent): NostrEvent;
  /** The provider's BTP `onPrepare`: fulfills packets for accounts it issued. */
  handlePrepare(prepare: IlpPrepare): Promise<IlpReply>;
  /** Total received, base units. */
  readonly received: bigint;
}

export function createProviderSpsp(options: ProviderSpspOptions): ProviderSpsp {
  const accounts = new Map<string, Account>();
  const byRequester = new Map<string, string>();
  let received = 0n;
  const reject = (code: string, message: string): IlpReply => ({
    type: IlpPacketType.Reject,
    code,
    triggeredBy: options.ilpAddress,
    message,
    data: new Uint8Array(),
  });
  return {
    get received() {
      return received;
    },
    respond(request) {
      const parsed = parseSpspRequest(request, options.secretKey);
      // One account per requester: asking again returns the same address and secret.
      let destination = byRequester.get(parsed.senderPubkey);
      if (!destination) {
        destination = `${options.ilpAddress}.pay${parsed.senderPubkey.slice(0, 12)}`;
        accounts.set(destination, { secret: new Uint8Array(randomBytes(32)), from: parsed.senderPubkey });
        byRequester.set(parsed.senderPubkey, destination);
      }
      const account = accounts.get(destination)!;
      return buildSpspResponse(options.secretKey, request, {
        destinationAccount: destination,
        sharedSecret: Buffer.from(account.secret).toString('base64'),
        // A provider charges per job (the result's amount), not per byte; the BTP fields only describe
        // where the provider itself is attached: the requester pays through its own connector.
        basePricePerByte: 0n,
        settlement: options.settlement,
        ilpAddress: options.ilpAddress,
        btpUrl: options.btpUrl,
        btpToken: 'not-issued',
      });
    },
    async handlePrepare(prepare) {
      const account = accounts.get(prepare.destination);
      if (!account) {
        return reject('F02', `unreachable: ${prepare.destination} is not an account this provider issued`);
      }
      const fulfillment = deriveFulfillment(account.secret, prepare.data);
      if (!Buffer.from(conditionOf(fulfillment)).equals(Buffer.from(prepare.executionCondition))) {
        return reject('F06', 'unexpected payment: the condition does not match the shared secret; redo SPSP');
      }
      received += prepare.amount;
      options.onPayment?.({ from: account.from, amount: prepare.amount, prepare });
      return { type: IlpPacketType.Fulfill, fulfillment, data: new Uint8Array() };
    },
  };
}
