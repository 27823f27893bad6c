// SPSP over Nostr, the node's side (DESIGN §3): answers a kind 23194 request with a kind 23195 carrying a
// relay account and shared secret, the price, the settlement chain, the Mayor's ILP address and a BTP token.
// One peer identity per Nostr pubkey: asking again returns the same address and token. A declared settlement
// address must come with a proof (an EIP-191 signature by it over the requester's key and ours): it binds the
// channels the peer pays through.
import { randomBytes } from 'node:crypto';
import { getPublicKey } from '../nostr/keys.js';
import type { SettlementInfo } from '../nostr/settlement.js';
import { verifySettlementProof } from '../nostr/settlement-proof.js';
import { buildSpspResponse, type ParsedSpspRequest, parseSpspRequest } from '../nostr/spsp.js';
import type { NostrEvent } from '../nostr/types.js';
import type { AccountSecretStore } from '../relay/secrets.js';
import type { Connector } from './connector.js';

export interface SpspResponderOptions {
  /** The node's Nostr secret key: requests are addressed to its pubkey. */
  secretKey: Uint8Array;
  connector: Connector;
  /** The relay's secret store (base address `<node>.relay`): each Mayor gets an account there. */
  secrets: AccountSecretStore;
  basePricePerByte: bigint;
  /** Chain id, token, channel contract and the node's settlement address. */
  settlement: SettlementInfo;
  /** Where Mayors connect over BTP. */
  btpUrl: string;
  /** Credit limit of a new Mayor peer (base units). */
  creditLimit: bigint;
  /** Owed to a Mayor at which the node signs a claim to it (provider earnings). */
  settleThreshold?: bigint;
  /** Address segment (peer id) for a pubkey; default the first 16 hex characters. */
  nameFor?: (pubkey: string) => string;
}

export type SpspResponder = (request: NostrEvent) => NostrEvent;

/**
 * Builds the responder. It throws NostrError for a request that does not parse (wrong key, bad signature,
 * bad JSON) and a plain Error when the requester cannot settle on our chain; the node logs and ignores those.
 */
export function createSpspResponder(options: SpspResponderOptions): SpspResponder {
  return (event) => {
    const parsed: ParsedSpspRequest = parseSpspRequest(event, options.secretKey);
    const { request, senderPubkey } = parsed;
    const chains = request.supportedChains;
    if (chains && !chains.includes(options.settlement.chainId)) {
      throw new Error(
        `requester supports chains ${chains.join(', ')}; this node settles on ${options.settlement.chainId}`,
      );
    }
    if (request.settlementAddress) {
      const proven =
        request.settlementProof !== undefined &&
        verifySettlementProof({
          settlementAddress: request.settlementAddress,
          requesterPubkey: senderPubkey,
          nodePubkey: getPublicKey(options.secretKey),
          signature: request.settlementProof,
        });
      if (!proven) {
        throw new Error(
          `settlementAddress ${request.settlementAddress} comes without a valid settlementProof: sign settlementProofMessage(address, your pubkey, the node's pubkey) with that address's key (EIP-191)`,
        );
      }
    }
    const c = options.connector;
    const id = (options.nameFor ?? ((pk: string) => pk.slice(0, 16)))(senderPubkey);
    let peer = c.peer(id);
    if (peer && peer.nostrPubkey !== senderPubkey) {
      throw new Error(`peer name ${id} is taken by another pubkey; configure nameFor to give unique names`);
    }
    if (!peer) {
      c.addPeer({
        id,
        relation: 'child',
        authToken: randomBytes(32).toString('base64url'),
        nostrPubkey: senderPubkey,
        creditLimit: options.creditLimit,
        ...(request.settlementAddress ? { settlementAddress: request.settlementAddress } : {}),
        ...(options.settleThreshold !== undefined ? { settleThreshold: options.settleThreshold } : {}),
      });
      peer = c.peer(id)!;
    } else if (!peer.settlementAddress && request.settlementAddress) {
      // The address binds incoming channels; it is set once and never silently replaced.
      c.updatePeer(id, { settlementAddress: request.settlementAddress });
    }
    // The relay account is named after the peer: asking again returns it; once expired (unused), a new one.
    const destination = `${options.secrets.baseAddress}.${id}`;
    const secret = options.secrets.secretFor(destination) ?? options.secrets.issue(id).sharedSecret;
    const account = { destination, secret };
    return buildSpspResponse(options.secretKey, event, {
      destinationAccount: account.destination,
      sharedSecret: Buffer.from(account.secret).toString('base64'),
      basePricePerByte: options.basePricePerByte,
      settlement: options.settlement,
      ilpAddress: `${c.address}.${id}`,
      btpUrl: options.btpUrl,
      btpToken: peer.authToken!,
    });
  };
}
