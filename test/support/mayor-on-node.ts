// A real anvil, a real node (relay + connector, SQLite store, in this process) and one Mayor key that attaches
// to it over Nostr SPSP and BTP: the set-up of the tests that restart the node or reset the chain under an
// attached Mayor. The node's ports are pinned after the first start, so a restart comes back where the Mayor
// looks for it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DevChain,
  deployPaymentChannels,
  deployToken,
  mintTokens,
  startDevChain,
} from '../../src/chain/index.js';
import { type Attachment, attach, RelayPool } from '../../src/mayor/runtime/index.js';
import { openStateRepo, type StateRepo } from '../../src/mayor/state/index.js';
import type { NodeConfig } from '../../src/node/config.js';
import { createLogger, type RunningNode, startNode } from '../../src/node/index.js';
import { finalizeEvent, generateSecretKey } from '../../src/nostr/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';
import { testNodeConfig } from './node-config.js';

const M2M = 10n ** 18n;

export interface MayorOnNode {
  chain: DevChain;
  dir: string;
  /** The node as it runs now (replaced by `restartNode`). */
  node: RunningNode;
  pool: RelayPool;
  state: StateRepo;
  mayorSk: Uint8Array;
  /** Every warning of every attachment, in order. */
  warnings: string[];
  attachMayor(extra?: Partial<Parameters<typeof attach>[0]>): Promise<Attachment>;
  /** Writes one fresh kind-1 note through the attachment (a paid write). */
  write(att: Attachment): ReturnType<Attachment['writeToRelay']>;
  /** Stops the node and starts it again on the same data dir and ports. */
  restartNode(): Promise<RunningNode>;
  /**
   * anvil restarted empty (anvil_reset) and the contracts deployed again, at the same addresses (what a restarted
   * devnet looks like); every account gets 1000 M2M again. Returns the contracts' addresses.
   */
  resetChain(): Promise<{ token: `0x${string}`; channels: `0x${string}` }>;
  close(): Promise<void>;
}

export async function startMayorOnNode(prefix: string): Promise<MayorOnNode> {
  const chain = await startDevChain({ accounts: 3 });
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const quietNode = (c: NodeConfig) => startNode(c, { logger: createLogger({ write: () => {} }) });
  let config = testNodeConfig(chain, join(dir, 'node'));
  const first = await quietNode(config);
  config = {
    ...config,
    relayPort: Number(new URL(first.relayUrl).port),
    btpPort: Number(new URL(first.btpUrl).port),
  };
  const mayorSk = generateSecretKey();
  const pool = new RelayPool({
    urls: [first.relayUrl],
    secretKey: mayorSk,
    backoff: { minMs: 50, maxMs: 200 },
  });
  pool.start();
  const state = await openStateRepo({ dir: join(dir, 'mayor') });
  const warnings: string[] = [];
  const attached: Attachment[] = [];
  let n = 0;

  const h: MayorOnNode = {
    chain,
    dir,
    node: first,
    pool,
    state,
    mayorSk,
    warnings,
    async attachMayor(extra = {}) {
      const att = await attach({
        pool,
        nostrSecretKey: mayorSk,
        walletKey: chain.anvil.accounts[2]!.privateKey,
        rpcUrl: chain.anvil.rpcUrl,
        nodePubkey: h.node.pubkey,
        maxBasePricePerByte: M2M,
        deposit: M2M,
        maxDeposit: 10n * M2M,
        state,
        reconnectDelayMs: 50,
        retryDelayMs: 50,
        onWarning: (m) => warnings.push(m),
        ...extra,
      });
      attached.push(att);
      return att;
    },
    write: (att) =>
      att.writeToRelay(
        encodeEventBytes(
          finalizeEvent(
            { kind: 1, tags: [], content: `note ${n++}`, created_at: 1_700_000_000 + n },
            mayorSk,
          ),
        ),
      ),
    async restartNode() {
      await h.node.stop();
      h.node = await quietNode(config);
      return h.node;
    },
    async resetChain() {
      await chain.deployer.public.request({ method: 'anvil_reset' as never, params: [] as never });
      const token = await deployToken(chain.deployer);
      const channels = await deployPaymentChannels(chain.deployer);
      for (const a of chain.anvil.accounts)
        await mintTokens(chain.deployer, { token: token.address, to: a.address, amount: 1000n * M2M });
      return { token: token.address, channels: channels.address };
    },
    async close() {
      for (const a of attached) await a.detach().catch(() => {});
      await pool.close();
      await state.close();
      await h.node.stop();
      await chain.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}
