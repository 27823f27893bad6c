// The settlement terms of an SPSP answer (chain id, token, channel contract) checked against what the network
// is known to use, before any approve or open: an impostor answering the handshake would name its own contract
// and the deposit would go to it (issue 14). Each value is checked when known; on a public network the token and
// the channel contract must be known, so a Mayor never deposits into a contract it only heard of from the answer.
import type { Address } from 'viem';
import { KNOWN_SETTLEMENT, type NetworkName } from '../../chain/networks.js';
import type { SettlementInfo } from '../../nostr/settlement.js';
import { MayorError } from './errors.js';

export interface ExpectedSettlement {
  network: string;
  chainId?: number;
  token?: Address;
  channelContract?: Address;
  /** Refuse when the token or the channel contract is not known (public networks). */
  requireKnown: boolean;
}

/** The network's known values (src/chain/networks.ts), overridden by configured ones (flags, env, devnet.json). */
export function expectedSettlementFor(
  network: NetworkName,
  configured: { chainId?: number; token?: Address; channelContract?: Address } = {},
): ExpectedSettlement {
  const known = KNOWN_SETTLEMENT[network];
  const chainId = configured.chainId ?? known.chainId;
  const token = configured.token ?? known.token;
  const channelContract = configured.channelContract ?? known.channels;
  return {
    network,
    ...(chainId !== undefined ? { chainId } : {}),
    ...(token ? { token } : {}),
    ...(channelContract ? { channelContract } : {}),
    requireKnown: network !== 'devnet',
  };
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Throws MayorError SETTLEMENT_MISMATCH (naming both values) or SETTLEMENT_UNKNOWN; returns when the terms are known-good. */
export function checkSettlementTerms(actual: SettlementInfo, expected: ExpectedSettlement): void {
  const refuse = (what: string, got: string | number, want: string | number) => {
    throw new MayorError(
      'SETTLEMENT_MISMATCH',
      `The node's SPSP answer names ${what} ${got}, but ${expected.network} uses ${want}: refusing to approve or open anything. ` +
        'The answer may come from an impostor: check node-pubkey (--node-pubkey, CROSSTOWN_NODE_PUBKEY) and the --token/--channels settings.',
    );
  };
  if (expected.chainId !== undefined && actual.chainId !== expected.chainId)
    refuse('chain id', actual.chainId, expected.chainId);
  if (expected.token && !same(actual.token, expected.token)) refuse('token', actual.token, expected.token);
  if (expected.channelContract && !same(actual.channelContract, expected.channelContract))
    refuse('channel contract', actual.channelContract, expected.channelContract);
  if (!expected.requireKnown) return;
  const unknown = [
    !expected.token && `the M2M token (--token, CROSSTOWN_TOKEN; the node names ${actual.token})`,
    !expected.channelContract &&
      `the PaymentChannels contract (--channels, CROSSTOWN_CHANNELS; the node names ${actual.channelContract})`,
  ].filter(Boolean);
  if (unknown.length > 0) {
    throw new MayorError(
      'SETTLEMENT_UNKNOWN',
      `On ${expected.network} a deposit only goes to contracts configured beforehand; not configured: ${unknown.join(' and ')}. ` +
        'Set them to the addresses the node operator published, then attach again.',
    );
  }
}
