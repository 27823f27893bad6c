// The paying side of a payment channel: opens (and tops up) a channel to the payee and signs cumulative claims
// for exactly the packets the payee fulfilled. Used by a Mayor paying the node and by the node paying a Mayor.
import type { Address, Hex, LocalAccount } from 'viem';
import { openChannel } from '../chain/actions/openChannel.js';
import { signClaim } from '../chain/actions/signClaim.js';
import { topUpChannel } from '../chain/actions/topUpChannel.js';
import type { ChainClients } from '../chain/clients.js';
import type { ClaimDomain } from '../chain/types.js';
import type { ClaimMessage } from './claim-message.js';
import { UnpaidPackets } from './unpaid.js';

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
}

export class ClaimSender {
  readonly unpaid: UnpaidPackets;
  private channelId: Hex | undefined;
  private deposit: bigint;
  private signed: bigint;
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

  /** Cumulative amount signed so far. */
  get cumulative(): bigint {
    return this.signed;
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
    const amounts = this.unpaid.takeEach(pays);
    const amount = amounts.reduce((a, b) => a + b, 0n);
    const cumulative = this.signed + amount;
    try {
      const claim = await signClaim({
        signer: this.options.clients.wallet.account as LocalAccount,
        domain: this.options.domain,
        claim: { channelId: this.channelId!, cumulativeAmount: cumulative },
      });
      await send({ ...claim, pays });
    } catch (err) {
      for (const [i, c] of pays.entries()) this.unpaid.add(c, amounts[i]!);
      throw err;
    }
    this.signed = cumulative;
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
  }
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
