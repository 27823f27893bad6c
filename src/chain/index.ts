// Public API of the chain module: payment channels on an EVM chain.
export {
  type ChainFingerprint,
  type ChainIdentityResult,
  checkChainIdentity,
} from './actions/checkChainIdentity.js';
export { checkIncomingClaim } from './actions/checkIncomingClaim.js';
export { deployPaymentChannels } from './actions/deployPaymentChannels.js';
export { type DeployResult, deployToken } from './actions/deployToken.js';
export { type ListedChannel, listChannels } from './actions/listChannels.js';
export { type OpenChannelParams, type OpenChannelResult, openChannel } from './actions/openChannel.js';
export { readChannel } from './actions/readChannel.js';
export { signClaim } from './actions/signClaim.js';
export { startClose } from './actions/startClose.js';
export { type SubmitClaimResult, submitClaim } from './actions/submitClaim.js';
export { ensureAllowance, mintTokens, tokenBalance } from './actions/token.js';
export { topUpChannel } from './actions/topUpChannel.js';
export { nonCanonicalSignature, type VerifyClaimResult, verifyClaim } from './actions/verifyClaim.js';
export { withdraw } from './actions/withdraw.js';
export {
  type Anvil,
  type AnvilAccount,
  anvilBinaryPath,
  type StartAnvilOptions,
  startAnvil,
} from './anvil.js';
export { CLAIM_DOMAIN_NAME, CLAIM_DOMAIN_VERSION, CLAIM_TYPES, claimDomain } from './claims.js';
export {
  type ChainClients,
  type ChainPublicClient,
  type ChainWalletClient,
  chainFor,
  createChainClients,
} from './clients.js';
export { type DevChain, type StartDevChainOptions, startDevChain } from './devchain.js';
export { ChainError, toChainError } from './errors.js';
export { m2MTokenAbi, m2MTokenBytecode } from './generated/M2MToken.js';
export { paymentChannelsAbi, paymentChannelsBytecode } from './generated/PaymentChannels.js';
export {
  DEFAULT_BASE_SEPOLIA_RPC,
  M2M_BASE_SEPOLIA,
  type Network,
  type NetworkName,
  type ResolveNetworkOptions,
  resolveNetwork,
} from './networks.js';
export type { ChannelState, Claim, ClaimDomain, SignedClaim } from './types.js';
export { formatM2M, M2M_DECIMALS, parseM2M } from './units.js';
export { type ClaimWatcher, type ClaimWatcherOptions, type RedeemAttempt, watchClosures } from './watcher.js';
