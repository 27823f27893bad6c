// Which peer each incoming channel belongs to (DESIGN §3: "one channel bound to one peer"). Several peer
// identities may prove the same settlement address; without this map each would get its own receiver for the
// same channel and spend its deposit once per identity. A channel is bound by the first claim, status request
// or credit check that proves it is from the peer's address to us, and stays bound (persisted in PeerConfig).
import type { Hex } from 'viem';
import { ConnectorError } from './errors.js';

export class ChannelBindings {
  private readonly owners = new Map<string, string>();

  /** The peer a channel is bound to. */
  owner(channelId: Hex): string | undefined {
    return this.owners.get(channelId.toLowerCase());
  }

  /** Channels bound to a peer. */
  channelsOf(peerId: string): Hex[] {
    return [...this.owners].filter(([, p]) => p === peerId).map(([c]) => c as Hex);
  }

  /**
   * Binds `channelId` to `peerId` when it is free; returns true if this call bound it. Throws
   * CLAIM_WRONG_CHANNEL, changing nothing, when another peer owns it.
   */
  bind(channelId: Hex, peerId: string): boolean {
    const key = channelId.toLowerCase();
    const owner = this.owners.get(key);
    if (owner === peerId) return false;
    if (owner !== undefined) {
      throw new ConnectorError(
        'CLAIM_WRONG_CHANNEL',
        `channel ${channelId} is bound to another peer of this node: each identity pays through a channel of its own; open one`,
      );
    }
    this.owners.set(key, peerId);
    return true;
  }

  /** Undoes a bind() whose proof failed (the channel turned out not to be the peer's). */
  release(channelId: Hex, peerId: string): void {
    const key = channelId.toLowerCase();
    if (this.owners.get(key) === peerId) this.owners.delete(key);
  }
}
