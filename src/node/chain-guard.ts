// Chain-reset detection for the node: at start and periodically, checks that the chain behind the RPC URL is the
// one the node's settlement state was built on (chain id, genesis block, contract code, every channel it holds
// claims on, head not behind the last scanned block). On a mismatch the connector refuses payments with an error that
// says what to do; when the check passes again, payments resume. Closing channels found here enter the watcher loop.
import type { Address, Hex } from 'viem';
import { checkChainIdentity } from '../chain/actions/checkChainIdentity.js';
import type { ChainPublicClient } from '../chain/clients.js';
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
    // Not verified yet, or the chain does not match: keep resuming from the older block.
    if (!this.saved || this.options.connector.paymentsRefused !== undefined) return;
    this.saved = { ...this.saved, lastScannedBlock: block.toString() };
    writeChainState(this.options.dataDir, this.saved);
  }

  /** Runs every check; refuses or resumes payments on the connector accordingly. Never throws. */
  async check(): Promise<ChainCheckResult> {
    const o = this.options;
    const closing: Hex[] = [];
    let problems: string[];
    try {
      const last = this.saved?.lastScannedBlock;
      const r = await checkChainIdentity(o.client, {
        chainId: o.chainId,
        channels: o.channels,
        token: o.token,
        ...(this.saved && { saved: this.saved }),
        ...(last !== undefined && { lastScannedBlock: BigInt(last) }),
        channelIds: o.connector.knownChannels(),
      });
      problems = r.problems;
      for (const [channelId, state] of r.channels) {
        if (!state.closing) continue;
        closing.push(channelId);
        o.connector.channelClosing(channelId, state.closesAt);
      }
      if (problems.length === 0 && !this.saved) {
        this.saved = r.fingerprint;
        writeChainState(o.dataDir, r.fingerprint);
      }
    } catch (err) {
      // An unreachable RPC is not a reset: keep the current verdict, say so.
      return {
        ok: o.connector.paymentsRefused === undefined,
        problems: [],
        unreachable: (err as Error).message,
        closing,
      };
    }
    o.connector.refusePayments(problems.length ? chainMismatchMessage(o, problems) : undefined);
    return { ok: problems.length === 0, problems, closing };
  }
}
