// Typed errors for the chain module. Contract reverts (custom Solidity errors) are decoded by viem and
// mapped here to a code (the Solidity error name) and a message that says what to do about it.
import { BaseError, ContractFunctionRevertedError, formatUnits, InsufficientFundsError } from 'viem';
import { ChainError } from './chain-error.js';

export { ChainError };

type Explain = (args: readonly unknown[]) => string;

const fmtTime = (t: unknown) => `${new Date(Number(t) * 1000).toISOString()} (unix ${String(t)})`;

/** Token amounts in errors are shown as decimal M2M (18 decimals), as people type them. */
const m2m = (v: unknown) => (typeof v === 'bigint' ? formatUnits(v, 18) : String(v));

/** What each custom error of PaymentChannels means, in words, with the way out. */
const EXPLAIN: Record<string, Explain> = {
  UnknownChannel: ([id]) =>
    `Channel ${id} does not exist on this contract; check the channel id, the contract address and the network.`,
  NotChannelSender: ([id, caller]) =>
    `Only the channel's sender may do this on channel ${id}; ${caller} is not the sender. Use the sender's wallet.`,
  NotChannelReceiver: ([id, caller]) =>
    `Only the channel's receiver may claim on channel ${id}; ${caller} is not the receiver. Use the receiver's wallet.`,
  InvalidReceiver: ([r]) =>
    `Receiver ${r} is not allowed: it must be a non-zero address different from the sender.`,
  ZeroAmount: () => 'The amount must be greater than zero (and the token must actually transfer something).',
  ChallengeWindowOutOfRange: ([given, min, max]) =>
    `Challenge window ${given}s is out of range: choose between ${min}s and ${max}s (the minimum gives the receiver time to claim).`,
  ChannelAlreadySettled: ([id]) => `Channel ${id} is already settled: nothing is left to claim or withdraw.`,
  ChannelClosing: ([id, closesAt]) =>
    `Channel ${id} is closing (window ends ${fmtTime(closesAt)}): it cannot be topped up or closed again; open a new channel.`,
  CloseNotStarted: ([id]) =>
    `Channel ${id} has no close in progress: call startClose first, then withdraw after the challenge window.`,
  ChallengeWindowActive: ([id, closesAt]) =>
    `The challenge window of channel ${id} is still running: withdraw after ${fmtTime(closesAt)}.`,
  InvalidClaimSignature: ([id, recovered]) =>
    `The claim for channel ${id} is not signed by the channel's sender (recovered ${recovered}): it may be for another channel, contract or chain id. Ask the sender for a claim signed over this channel's EIP-712 domain.`,
  ERC20InsufficientAllowance: ([spender, allowance, needed]) =>
    `Token allowance for ${spender} is ${allowance} but ${needed} is needed: approve the channel contract first.`,
  ERC20InsufficientBalance: ([sender, balance, needed]) =>
    `${sender} holds ${m2m(balance)} M2M but ${m2m(needed)} M2M are needed: fund the wallet first.`,
  OwnableUnauthorizedAccount: ([account]) => `${account} is not the token owner: only the deployer may mint.`,
};

/** Converts anything a contract call threw into a ChainError (idempotent). */
export function toChainError(err: unknown, action: string): ChainError {
  if (err instanceof ChainError) return err;
  if (err instanceof BaseError) {
    const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName) {
      const name = reverted.data.errorName;
      const args = reverted.data.args ?? [];
      const explain = EXPLAIN[name];
      const text = explain ? explain(args) : `${name}(${args.map(String).join(', ')})`;
      return new ChainError(name, `${action} reverted: ${text}`, args, { cause: err });
    }
    if (err.walk((e) => e instanceof InsufficientFundsError)) {
      return new ChainError(
        'INSUFFICIENT_FUNDS',
        `${action} failed: the wallet has no ETH (or too little) to pay for gas; fund it with ETH first`,
        [],
        { cause: err },
      );
    }
    return new ChainError('RPC_ERROR', `${action} failed: ${err.shortMessage}`, [], { cause: err });
  }
  return new ChainError('UNKNOWN', `${action} failed: ${String(err)}`, [], { cause: err });
}
