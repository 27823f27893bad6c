import type { ClaimReceiver } from './claim-receiver.js';
import type { ClaimSender } from './claim-sender.js';
import type { PeerBalance, PeerConfig } from './types.js';
import { UnpaidPackets } from './unpaid.js';

/** The connector's bookkeeping for one peer. */
export class PeerAccount {
  /** Reserved for PREPAREs from this peer that are still in flight. */
  inFlight = 0n;
  /** Packets from this peer that were fulfilled and not yet paid by a claim: the peer's debt. */
  readonly incoming: UnpaidPackets;
  /** Packets this peer fulfilled for us and we have not paid yet: our debt. */
  readonly outgoing: UnpaidPackets;
  /** Checks the peer's claims (created when settlement is configured and the peer has an address). */
  receiver?: ClaimReceiver;
  /** Signs our claims to the peer. */
  sender?: ClaimSender;

  /** `ledgers`: durable ledgers restored from a ConnectorStore; fresh in-memory ones by default. */
  constructor(
    public config: PeerConfig,
    ledgers?: { incoming: UnpaidPackets; outgoing: UnpaidPackets },
  ) {
    this.incoming = ledgers?.incoming ?? new UnpaidPackets();
    this.outgoing = ledgers?.outgoing ?? new UnpaidPackets();
  }

  balance(): PeerBalance {
    return {
      owedByPeer: this.incoming.total,
      inFlight: this.inFlight,
      owedToPeer: this.outgoing.total,
      paidByPeer: this.receiver?.paid ?? 0n,
      paidToPeer: this.sender?.cumulative ?? 0n,
    };
  }
}
