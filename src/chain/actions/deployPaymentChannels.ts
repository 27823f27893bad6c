import type { ChainClients } from '../clients.js';
import { toChainError } from '../errors.js';
import { paymentChannelsAbi, paymentChannelsBytecode } from '../generated/PaymentChannels.js';
import { type DeployResult, deployed } from './deployToken.js';

/** Deploys the PaymentChannels contract (no constructor arguments; works for any ERC-20). */
export async function deployPaymentChannels(clients: ChainClients): Promise<DeployResult> {
  try {
    const hash = await clients.wallet.deployContract({
      abi: paymentChannelsAbi,
      bytecode: paymentChannelsBytecode,
    });
    return deployed(await clients.public.waitForTransactionReceipt({ hash }), 'deployPaymentChannels');
  } catch (err) {
    throw toChainError(err, 'deployPaymentChannels');
  }
}
