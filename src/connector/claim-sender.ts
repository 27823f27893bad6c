// The paying side of a payment channel: opens (and tops up) a channel to the payee and signs cumulative claims
// for exactly the packets the payee fulfilled. Used by a Mayor paying the node and by the node paying a Mayor.
import type { Address, Hex, LocalAccount } from 'viem';
import { openChannel } from '../chain/actions/openChannel.js';
import { readChannel } from '../chain/actions/readChannel.js';
import { signClaim } from '../chain/actions/signClaim.js';
import { topUpChannel } from '../chain/actions/topUpChannel.js';
import { verifyClaim } from '../chain/actions/verifyClaim.js';
import type { ChainClients } from '../chain/clients.js';
import type { ClaimDomain } from '../chain/types.js';
import { conditionOf } from '../ilp/fulfillment.js';
import type { ClaimMessage } from './claim-message.js';
import { ConnectorError } from './errors.js';
import type { ChannelStatus } from './status-message.js';
import type { OutgoingChannel, UnpaidPacket } from './store.js';
import { packetsWithout, UnpaidPackets } from './unpaid.js';

export interface ClaimSenderOptions {
  clients: ChainClients;
  domain: ClaimDomain;
  token: Address;
  /** The payee's settlement address. */
  receiver: Address;
  /** Deposit of a new channel and of each top-up, base units. */
  deposit: bigint;
  /** Challenge window of a new channel, seconds (the contract enforces a minimum of 1 h). */
  challengeWindow?: bigint;
  /** Use an already open channel instead of opening one. */
  channelId?: Hex;
  /** Its current deposit, when channelId is given. */
  channelDeposit?: bigint;
  /** Cumulative amount already signed on that channel. */
  cumulative?: bigint;
  /** The ledger of fulfilled, unpaid packets to use (e.g. the connector's per-peer ledger). */
  unpaid?: UnpaidPackets;
  /** Runs on-chain writes (open, top up) under the owner's lock, so one wallet never races itself for a nonce. */
  chainLock?: <T>(fn: () => Promise<T>) => Promise<T>;
  /**
   * Runs when the channel state changes: after opening or topping up (pays empty) and after the payee accepted a
   * claim (pays = the packets it covered), e.g. to write it durably (a returned promise is awaited). A throw or
   * rejection reaches the caller of settle().
   */
  onState?: (state: OutgoingChannel, pays: readonly string[]) => void | Promise<void>;
}

export interface ResyncOptions {
  /** Refuse (RESYNC_OWED_TOO_HIGH, nothing changed) when the payee says we owe packets we do not know of worth more than this. */
  maxOwed?: bigint;
  /**
   * Refuse (RESYNC_BAD_STATUS, nothing changed) when the payee's cumulative rose by more than this beyond the
   * packets it stopped listing (default: maxOwed). Such a rise paid for packets we have no record of, which only
   * a payer that lost its records (a restart without them) can have; with complete records it is a payee showing
   * a claim whose packets it still lists as owed, to have them paid twice. 0n when our records are complete.
   */
  maxUnexplained?: bigint;
  /**
   * Packets we sent whose outcome we never learned (a crash or a lost answer came between the PREPARE and its
   * FULFILL or reject): the payee may list them as owed, with the fulfillment that proves each went through (only
   * whoever fulfilled it has it: for a payment forwarded on, the payee got it by paying the next hop). Listed packets
   * we hold neither as unpaid nor here, or listed without their proof, count against maxOwed. Unset: every listed
   * packet we do not hold counts against maxOwed (a payer without such records).
   */
  expected?: readonly UnpaidPacket[];
}

export interface ResyncResult {
  /** The cumulative amount we continue from (the payee's last accepted one). */
  cumulative: bigint;
  /** Owed packets the payee listed that we did not know of. */
  recovered: bigint;
  /** Paid by the claim sent after resyncing (0n if nothing was owed). */
  paid: bigint;
}

export class ClaimSender {
  readonly unpaid: UnpaidPackets;
  private channelId: Hex | undefined;
  private deposit: bigint;
  private signed: bigint;
  /** Taken from `unpaid` by a claim being signed or sent, not yet in `signed`. */
  private inFlight = 0n;
  /** The packets that claim pays (claims are serialized: one at a time). */
  private inFlightPackets: UnpaidPacket[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ClaimSenderOptions) {
    this.unpaid = options.unpaid ?? new UnpaidPackets();
    this.channelId = options.channelId;
    this.deposit = options.channelDeposit ?? 0n;
    this.signed = options.cumulative ?? 0n;
  }

  get channel(): Hex | undefined {
    return this.channelId;
  }

  /** Packets still owed to the payee: unpaid ones, then those a claim in flight pays (it may yet fail). */
  owed(): UnpaidPacket[] {
    return [...this.unpaid.entries(), ...this.inFlightPackets];
  }

  /** Cumulative amount signed so far. */
  get cumulative(): bigint {
    return this.signed;
  }

  /**
   * Everything the payee fulfilled: signed, being claimed, or still owed. Unlike `cumulative + unpaid.total` it does
   * not dip while a claim is in flight (its packets have left `unpaid` and are not in `signed` yet).
   */
  get fulfilled(): bigint {
    return this.signed + this.inFlight + this.unpaid.total;
  }

  /** Deposit of the channel as far as we know (0n before it is opened). */
  get channelDeposit(): bigint {
    return this.deposit;
  }

  /**
   * After a crash: asks the payee (`ask`, e.g. `(id) => btp.requestStatus(id)`) what it accepted on our channel
   * and what we owe, continues from its cumulative amount, adds the owed packets we did not know of and pays them
   * with one claim through `send`. The payee's figures are checked: its cumulative must carry our own signature
   * (or equal the on-chain `claimed`), so it cannot make us pay twice. Serialized with settle().
   */
  resync(
    ask: (channelId: Hex) => Promise<ChannelStatus>,
    send: (msg: ClaimMessage) => Promise<void>,
    options: ResyncOptions = {},
  ): Promise<ResyncResult> {
    const run = this.queue.then(async (): Promise<ResyncResult> => {
      if (!this.channelId) return { cumulative: this.signed, recovered: 0n, paid: 0n };
      const channelId = this.channelId;
      // Only packets we knew of before asking can be missing from the status because a lost claim paid them:
      // one fulfilled while the status was in flight (or while the chain was read) is simply newer than it.
      const knownWhenAsked = this.unpaid.entries();
      const status = await ask(channelId);
      const chain = await readChannel(this.options.clients.public, {
        channels: this.options.domain.verifyingContract,
        channelId,
      });
      await this.checkStatus(status, chain.claimed);
      const owed = status.owed.map(withProofOnly);
      // What the payee lists beyond the packets we hold as unpaid: packets we never sent (or have no record of), and
      // packets we sent and never learned the fate of that it lists without the fulfillment proving they went through.
      const missing = this.unpaid.missing(owed);
      const notSent = packetsWithout(missing, options.expected);
      const sentUnproven = options.expected
        ? packetsWithout(missing, notSent).filter((p) => p.fulfillment === undefined)
        : [];
      const sum = (packets: readonly UnpaidPacket[]) => packets.reduce((a, p) => a + p.amount, 0n);
      const unknown = sum(notSent) + sum(sentUnproven);
      if (options.maxOwed !== undefined && unknown > options.maxOwed) {
        const why = [
          notSent.length > 0 &&
            `says we owe ${sum(notSent)} for packets we have no record of${options.expected ? ' sending' : ''}`,
          sentUnproven.length > 0 &&
            `lists ${sum(sentUnproven)} we sent and never learned the fate of without the fulfillment that proves it went through`,
        ].filter(Boolean);
        throw new ConnectorError(
          'RESYNC_OWED_TOO_HIGH',
          `the payee ${why.join(', and ')}: ${unknown} in all, above maxOwed ${options.maxOwed}; check its list before paying`,
        );
      }
      // Packets we still hold as unpaid that the payee no longer lists were paid by the claim whose answer we
      // lost (the link dropped after it was accepted): drop them, as long as the accepted increase covers them.
      const listed = new UnpaidPackets(undefined, owed);
      const paidMeanwhile = knownWhenAsked.filter((p) => {
        try {
          listed.take([p.condition]); // still owed (each listed packet matches one of ours once)
          return false;
        } catch {
          return true;
        }
      });
      const increase = status.cumulativeAmount - this.signed;
      const dropped = paidMeanwhile.reduce((a, p) => a + p.amount, 0n);
      if (dropped > 0n && dropped > increase) {
        throw new ConnectorError(
          'RESYNC_BAD_STATUS',
          `the payee's status of channel ${channelId} no longer lists ${dropped} we owe, but its cumulative only rose by ${increase}; not resyncing`,
        );
      }
      const maxUnexplained = options.maxUnexplained ?? options.maxOwed;
      if (maxUnexplained !== undefined && increase - dropped > maxUnexplained) {
        throw new ConnectorError(
          'RESYNC_BAD_STATUS',
          `the payee's cumulative on channel ${channelId} rose by ${increase}, but it stopped listing only ${dropped} of the packets we owe (it still lists packets that claim paid); not resyncing`,
        );
      }
      this.unpaid.take(paidMeanwhile.map((p) => p.condition));
      this.signed = status.cumulativeAmount;
      this.deposit = chain.deposit;
      const recovered = await this.unpaid.merge(owed);
      await this.options.onState?.(
        { channelId, deposit: this.deposit, cumulative: this.signed },
        paidMeanwhile.map((p) => p.condition),
      );
      const paid = await this.settleNow(send);
      return { cumulative: status.cumulativeAmount, recovered, paid };
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async checkStatus(status: ChannelStatus, claimedOnChain: bigint): Promise<void> {
    const bad = (why: string) =>
      new ConnectorError(
        'RESYNC_BAD_STATUS',
        `the payee's status of channel ${status.channelId} ${why}; not resyncing`,
      );
    if (status.signature === null) {
      if (status.cumulativeAmount !== claimedOnChain)
        throw bad(
          `claims ${status.cumulativeAmount} without our signature (on-chain claimed: ${claimedOnChain})`,
        );
      return;
    }
    if (status.cumulativeAmount < claimedOnChain)
      throw bad(`is below what was claimed on-chain (${claimedOnChain})`);
    const { valid } = await verifyClaim({
      claim: { channelId: status.channelId, cumulativeAmount: status.cumulativeAmount },
      signature: status.signature,
      domain: this.options.domain,
      expectedSigner: this.options.clients.wallet.account.address,
    });
    if (!valid) throw bad(`carries a signature that is not ours for ${status.cumulativeAmount}`);
  }

  /**
   * Makes sure the channel (opening it first) covers what is signed, owed and `extra` more: the payee gives no
   * credit beyond the channel's unclaimed deposit, so a payer tops up before it sends, not after.
   */
  reserve(extra: bigint): Promise<void> {
    // Already covered (counting a claim in flight): no need to wait behind that claim's round trip. Only the
    // deposit can change under us, and it only grows.
    if (this.channelId && this.signed + this.inFlight + this.unpaid.total + extra <= this.deposit)
      return Promise.resolve();
    const run = this.queue.then(() => this.ensureChannel(this.unpaid.total + extra));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Records a packet the payee fulfilled: it must be paid by a later claim. */
  recordFulfilled(condition: string, amount: bigint): void {
    this.unpaid.add(condition, amount);
  }

  /**
   * Signs a claim covering every unpaid packet (opening or topping up the channel first if needed) and hands
   * it to `send`, which resolves when the payee accepted it. Calls are serialized so claims arrive in order.
   * If `send` fails, the packets are owed again and the cumulative amount goes back; the error is rethrown.
   * Returns the amount paid (0n when nothing was owed).
   */
  settle(send: (msg: ClaimMessage) => Promise<void>): Promise<bigint> {
    const run = this.queue.then(() => this.settleNow(send));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async settleNow(send: (msg: ClaimMessage) => Promise<void>): Promise<bigint> {
    if (this.unpaid.total === 0n) return 0n;
    await this.ensureChannel(this.unpaid.total);
    const pays = this.unpaid.conditions();
    const fulfillments = pays.map((c) => this.unpaid.fulfillmentOf(c));
    const amounts = this.unpaid.takeEach(pays);
    const amount = amounts.reduce((a, b) => a + b, 0n);
    const cumulative = this.signed + amount;
    this.inFlight += amount;
    this.inFlightPackets = pays.map((condition, i) => ({ condition, amount: amounts[i]! }));
    try {
      const claim = await signClaim({
        signer: this.options.clients.wallet.account as LocalAccount,
        domain: this.options.domain,
        claim: { channelId: this.channelId!, cumulativeAmount: cumulative },
      });
      await send({ ...claim, pays });
    } catch (err) {
      for (const [i, c] of pays.entries()) this.unpaid.putBack(c, amounts[i]!, fulfillments[i]);
      throw err;
    } finally {
      this.inFlight -= amount;
      this.inFlightPackets = [];
    }
    this.signed = cumulative;
    await this.options.onState?.({ channelId: this.channelId!, deposit: this.deposit, cumulative }, pays);
    return amount;
  }

  private async ensureChannel(needed: bigint): Promise<void> {
    if (this.channelId && this.signed + needed <= this.deposit) return;
    const lock = this.options.chainLock ?? ((fn) => fn());
    await lock(() => this.openOrTopUp(needed));
  }

  private async openOrTopUp(needed: bigint): Promise<void> {
    const o = this.options;
    if (!this.channelId) {
      const opened = await openChannel(o.clients, {
        channels: o.domain.verifyingContract,
        token: o.token,
        receiver: o.receiver,
        amount: maxOf(o.deposit, needed),
        challengeWindow: o.challengeWindow ?? 3600n,
      });
      this.channelId = opened.channelId;
      this.deposit = opened.deposit;
      await this.options.onState?.(
        { channelId: opened.channelId, deposit: this.deposit, cumulative: this.signed },
        [],
      );
      return;
    }
    const shortfall = this.signed + needed - this.deposit;
    const r = await topUpChannel(o.clients, {
      channels: o.domain.verifyingContract,
      token: o.token,
      channelId: this.channelId,
      amount: maxOf(o.deposit, shortfall),
    });
    this.deposit = r.deposit;
    await this.options.onState?.(
      { channelId: this.channelId, deposit: this.deposit, cumulative: this.signed },
      [],
    );
  }
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** The packet with its fulfillment only when that proves it (SHA-256 of it is the condition); without one otherwise. */
function withProofOnly(p: UnpaidPacket): UnpaidPacket {
  if (p.fulfillment === undefined) return p;
  const proves = Buffer.from(conditionOf(Buffer.from(p.fulfillment, 'hex'))).toString('hex') === p.condition;
  return proves ? p : { condition: p.condition, amount: p.amount };
}
