// Chain-reset detection for the node: at start and periodically, checks that the chain behind the RPC URL is the
// one the node's settlement state was built on (chain id, genesis block, contract code, every channel it holds
// claims on, head not behind the last scanned block). On a mismatch the connector refuses payments with an error that
// says what to do; when the check passes again, payments resume. Closing channels found here enter the watcher loop.
import { type Address, type Hex, keccak256 } from 'viem';
import { readChannel } from '../chain/actions/readChannel.js';
import type { ChainPublicClient } from '../chain/clients.js';
import { ChainError } from '../chain/errors.js';
import type { Connector } from '../connector/connector.js';
import { readChainState, type SavedChainState, writeChainState } from './chain-state.js';

export interface ChainCheckResult {
  ok: boolean;
  /** What does not match (empty when ok). */
  problems: string[];
  /** Set when the check could not run (RPC down): not a mismatch, payments are not stopped for it. */
  unreachable?: string;
  /** Channels with claims that were read closing (handed to the watcher). */
  closing: Hex[];
}

export interface ChainGuardOptions {
  client: ChainPublicClient;
  rpcUrl: string;
  chainId: number;
  channels: Address;
  token: Address;
  dataDir: string;
  connector: Connector;
}

/** The error text of a mismatch: what differs, and what to do about it. */
export function chainMismatchMessage(o: { rpcUrl: string; dataDir: string }, problems: string[]): string {
  return (
    `the chain at ${o.rpcUrl} is not the chain this node's settlement state belongs to (${problems.join('; ')}). ` +
    'Payments are refused until this is fixed. If the RPC URL is wrong, point --rpc-url/--chain-id/--token/--channels ' +
    'at the chain this state was made on and restart. If the chain was reset on purpose (a local anvil/devnet restarted ' +
    `empty), the saved channels and claims are void: stop the node, delete ${o.dataDir}/connector.db* and ` +
    `${o.dataDir}/chain-state.json, deploy the contracts again and restart the node (\`crosstown devnet up\` starts ` +
    'from a clean state by itself), then have each Mayor open a new channel.'
  );
}

export class ChainGuard {
  private saved: SavedChainState | undefined;

  constructor(private readonly options: ChainGuardOptions) {
    this.saved = readChainState(options.dataDir);
  }

  /** The watcher's onScanned: persisted with the fingerprint once the chain was checked. */
  scanned(block: bigint): void {
    if (!this.saved) return; // not verified yet: keep resuming from the older block
    this.saved = { ...this.saved, lastScannedBlock: block.toString() };
    writeChainState(this.options.dataDir, this.saved);
  }

  /** Runs every check; refuses or resumes payments on the connector accordingly. Never throws. */
  async check(): Promise<ChainCheckResult> {
    const o = this.options;
    const c = o.client;
    const problems: string[] = [];
    const closing: Hex[] = [];
    try {
      const chainId = await c.getChainId();
      if (chainId !== o.chainId) problems.push(`chain id is ${chainId}, expected ${o.chainId}`);
      const [channelsCode, tokenCode, genesis, head] = await Promise.all([
        c.getCode({ address: o.channels }),
        c.getCode({ address: o.token }),
        c.getBlock({ blockNumber: 0n }),
        c.getBlockNumber(),
      ]);
      if (!channelsCode || channelsCode === '0x')
        problems.push(`no PaymentChannels contract code at ${o.channels}`);
      if (!tokenCode || tokenCode === '0x') problems.push(`no token contract code at ${o.token}`);
      const now: SavedChainState = {
        chainId,
        channels: o.channels,
        token: o.token,
        genesisHash: genesis.hash,
        channelsCodeHash: keccak256(channelsCode ?? '0x'),
        tokenCodeHash: keccak256(tokenCode ?? '0x'),
        ...(this.saved?.lastScannedBlock !== undefined && { lastScannedBlock: this.saved.lastScannedBlock }),
      };
      const s = this.saved;
      if (s) {
        if (s.genesisHash !== now.genesisHash)
          problems.push(`genesis block is ${now.genesisHash}, the node's state was made on ${s.genesisHash}`);
        if (s.channelsCodeHash !== now.channelsCodeHash && problems.every((p) => !p.includes(o.channels)))
          problems.push(`the code at ${o.channels} changed since the node's state was made`);
        if (s.lastScannedBlock !== undefined && head < BigInt(s.lastScannedBlock))
          problems.push(
            `head is block ${head}, but the node already scanned up to block ${s.lastScannedBlock}`,
          );
      }
      for (const channelId of o.connector.knownChannels()) {
        try {
          const state = await readChannel(c, { channels: o.channels, channelId });
          if (state.closing) {
            closing.push(channelId);
            o.connector.channelClosing(channelId, state.closesAt);
          }
        } catch (err) {
          if (err instanceof ChainError && err.code === 'UnknownChannel')
            problems.push(`channel ${channelId}, on which the node holds claims, does not exist`);
          else throw err;
        }
      }
      if (problems.length === 0 && !s) {
        this.saved = now;
        writeChainState(o.dataDir, now);
      }
    } catch (err) {
      // An unreachable RPC is not a reset: keep the current verdict, say so.
      return {
        ok: o.connector.paymentsRefused === undefined,
        problems,
        unreachable: (err as Error).message,
        closing,
      };
    }
    o.connector.refusePayments(problems.length ? chainMismatchMessage(o, problems) : undefined);
    return { ok: problems.length === 0, problems, closing };
  }
}
