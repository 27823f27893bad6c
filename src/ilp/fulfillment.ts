// Fulfillments and conditions (DESIGN §3): the STREAM derivation applied to the packet data.
//   fulfillmentKey = HMAC-SHA256(sharedSecret, "ilp_stream_fulfillment")
//   fulfillment    = HMAC-SHA256(fulfillmentKey, data)
//   condition      = SHA-256(fulfillment)
// Only the receiver and the sender (who share the secret) can produce the fulfillment; every hop
// can check it against the condition.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const FULFILLMENT_STRING = 'ilp_stream_fulfillment';

/** HMAC-SHA256(sharedSecret, "ilp_stream_fulfillment"); cache it per shared secret on hot paths. */
export function fulfillmentKeyOf(sharedSecret: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', sharedSecret).update(FULFILLMENT_STRING).digest());
}

/** HMAC-SHA256(fulfillmentKey, data), for callers that cached the key. */
export function fulfillmentFromKey(fulfillmentKey: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', fulfillmentKey).update(data).digest());
}

/** The 32-byte fulfillment for a PREPARE carrying `data`, under the SPSP shared secret. */
export function deriveFulfillment(sharedSecret: Uint8Array, data: Uint8Array): Uint8Array {
  return fulfillmentFromKey(fulfillmentKeyOf(sharedSecret), data);
}

/** SHA-256 of the fulfillment: the executionCondition to put in the PREPARE. */
export function conditionOf(fulfillment: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(fulfillment).digest());
}

/** True when SHA-256(fulfillment) equals the condition; compares in constant time. */
export function verifyFulfillment(fulfillment: Uint8Array, condition: Uint8Array): boolean {
  if (fulfillment.length !== 32 || condition.length !== 32) return false;
  return timingSafeEqual(createHash('sha256').update(fulfillment).digest(), condition);
}
