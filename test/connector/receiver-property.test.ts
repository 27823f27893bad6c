// Property test of the receiving side (issue 13 "Show"): random sequences of claims (canonical, malleated, v = 0/1,
// stale, over the deposit, on another sender's channel, on a channel to someone else, forged by another key, signed
// for another chain), top-ups, closes (seen by the watcher or not yet), clock ticks past the cache bound, restarts
// from the store, RPC failures and withdrawals after the window. Invariant after every step, whatever the step:
// what the node credited <= what it can redeem on-chain (already claimed + what its best claims would pay now,
// asked of the real contract with eth_call). The test counts the sequences and the checks and asserts both.
//
// The chain is real: one anvil for the whole file, channels opened once, evm_snapshot / evm_revert around each
// sequence. Two things are stand-ins, said here: the closure watcher's redemption before a window ends is played by
// the test (it submits the receiver's best claim just before a withdrawal; hostile-payer.test.ts shows the real
// watcher does this), and RPC failures are injected by a transport wrapper that throws for the next N calls.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { createPublicClient, custom, encodeFunctionData, erc20Abi, type Hex, maxUint256 } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChainClients,
  chainFor,
  claimDomain,
  createChainClients,
  type DevChain,
  openChannel,
  paymentChannelsAbi,
  readChannel,
  type SignedClaim,
  signClaim,
  startDevChain,
} from '../../src/chain/index.js';
import { ClaimReceiver, MemoryConnectorStore, UnpaidPackets } from '../../src/connector/index.js';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const DEPOSIT = 10_000n;
const PEER = 'payer';
/** Issue 13 asks for at least 500 sequences in CI, with a fixed seed. */
const SEQUENCES = 500;

type ClaimKind =
  | 'canonical'
  | 'malleated'
  | 'lowV'
  | 'stale'
  | 'overDeposit'
  | 'otherSender'
  | 'otherReceiver'
  | 'forged'
  | 'otherChain';
type Step =
  | { k: 'claim'; kind: ClaimKind; amount: bigint }
  | { k: 'topUp'; amount: bigint }
  | { k: 'close'; watched: boolean }
  | { k: 'tick'; ms: number }
  | { k: 'redeem' }
  | { k: 'restart' }
  | { k: 'rpcFail'; calls: number }
  | { k: 'withdraw' };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('claim' as const),
      kind: fc.constantFrom<ClaimKind>(
        'canonical',
        'canonical',
        'canonical',
        'malleated',
        'lowV',
        'stale',
        'overDeposit',
        'otherSender',
        'otherReceiver',
        'forged',
        'otherChain',
      ),
      // Few distinct amounts: cumulative values repeat across sequences, so their signatures are memoized.
      amount: fc.constantFrom(700n, 1500n, 3100n),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('topUp' as const), amount: fc.constantFrom(1000n, 5000n) }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('close' as const), watched: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 12_000 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ k: 'redeem' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'restart' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('rpcFail' as const), calls: fc.integer({ min: 1, max: 3 }) }),
  },
  { weight: 2, arbitrary: fc.constant({ k: 'withdraw' as const }) },
);

let dev: DevChain;
let rpc: (method: string, params: unknown[]) => Promise<unknown>;
let node: ChainClients; // receiver of A and B
let payer: ChainClients; // sender of A and C
let snapshot: unknown;
let channelA: Hex; // payer -> node: the channel under test
let channelB: Hex; // another sender -> node
let channelC: Hex; // payer -> someone else
let domain: ReturnType<typeof claimDomain>;
/** The same contract address on another chain id: a claim signed for it is worthless here. */
let otherDomain: ReturnType<typeof claimDomain>;
let failNext = 0;
const stats = { sequences: 0, steps: 0, checks: 0, accepted: 0, refused: 0, rpcFailures: 0, refusedByRpc: 0 };
/** Signing is deterministic (RFC 6979) and slow on a loaded CI machine: the same claim is signed once. */
const signatures = new Map<string, SignedClaim>();

beforeAll(async () => {
  dev = await startDevChain({ accounts: 5 });
  const url = dev.anvil.rpcUrl;
  let id = 0;
  rpc = async (method, params) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }),
    });
    const body = (await res.json()) as { result?: unknown; error?: { message: string; data?: unknown } };
    if (body.error)
      throw Object.assign(new Error(body.error.message), { code: -32000, data: body.error.data });
    return body.result;
  };
  const wallet = (i: number) =>
    createChainClients({
      rpcUrl: url,
      chainId: dev.anvil.chainId,
      privateKey: dev.anvil.accounts[i]!.privateKey,
    });
  node = wallet(1);
  payer = wallet(2);
  domain = claimDomain(dev.anvil.chainId, dev.network.channels);
  otherDomain = claimDomain(dev.anvil.chainId + 1, dev.network.channels);
  const open = async (from: ChainClients, to: Hex) =>
    (
      await openChannel(from, {
        channels: dev.network.channels,
        token: dev.network.token,
        receiver: to,
        amount: DEPOSIT,
        challengeWindow: 3600n,
      })
    ).channelId;
  channelA = await open(payer, dev.anvil.accounts[1]!.address);
  channelB = await open(wallet(3), dev.anvil.accounts[1]!.address);
  channelC = await open(payer, dev.anvil.accounts[4]!.address);
  // Top-ups in the sequences need an allowance; set once, before the snapshot.
  await payer.wallet.writeContract({
    address: dev.network.token,
    abi: erc20Abi,
    functionName: 'approve',
    args: [dev.network.channels, maxUint256],
  });
  snapshot = await rpc('evm_snapshot', []);
});

afterAll(async () => {
  await dev?.stop();
});

/** The receiver's view of the chain: the real anvil, except the next `failNext` calls fail like a dead RPC. */
function flakyClient() {
  return createPublicClient({
    chain: chainFor(dev.anvil.chainId, dev.anvil.rpcUrl),
    // No retries: viem's default (3) absorbed every injected failure, so none ever reached the receiver.
    transport: custom(
      {
        request: async ({ method, params }: { method: string; params: unknown[] }) => {
          if (failNext > 0) {
            failNext--;
            stats.rpcFailures++;
            throw new Error('injected RPC failure');
          }
          return rpc(method, params);
        },
      },
      { retryCount: 0 },
    ),
  });
}

const malleate = (s: Hex): Hex =>
  `0x${s.slice(2, 66)}${(N - BigInt(`0x${s.slice(66, 130)}`)).toString(16).padStart(64, '0')}${s.slice(130) === '1b' ? '1c' : '1b'}`;
const lowV = (s: Hex): Hex => `${s.slice(0, 130)}0${Number.parseInt(s.slice(130), 16) - 27}` as Hex;

/**
 * Sends a transaction as `from` with eth_sendTransaction (anvil's dev accounts are unlocked, so no signing here); a
 * call that would revert is refused at anvil's own gas estimation and throws. Returns once it is mined: anvil answers
 * with the hash before its automine ran, and a transaction mined after the next evm_revert would land in the next
 * sequence's state (a close there made every later claim CLAIM_CHANNEL_CLOSING on a loaded machine).
 */
async function send(
  from: ChainClients,
  functionName: 'topUp' | 'startClose' | 'withdraw' | 'claim',
  args: unknown[],
) {
  const hash = await rpc('eth_sendTransaction', [
    {
      from: from.wallet.account.address,
      to: dev.network.channels,
      data: encodeFunctionData({ abi: paymentChannelsAbi, functionName, args } as never),
    },
  ]);
  for (let i = 0; ; i++) {
    const receipt = (await rpc('eth_getTransactionReceipt', [hash])) as { status: string } | null;
    if (receipt) {
      if (receipt.status !== '0x1') throw new Error(`${functionName} reverted`);
      return;
    }
    if (i > 1000) throw new Error(`${functionName} was not mined`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** What the node can still get from A and B: claimed so far plus what each best claim would pay now (eth_call). */
async function redeemable(best: (id: Hex) => SignedClaim | undefined): Promise<bigint> {
  let total = 0n;
  // B's claimed never moves (only the node could claim on it, and it never holds a claim on it unless it is broken).
  for (const channelId of best(channelB) ? [channelA, channelB] : [channelA]) {
    const state = await readChannel(node.public, { channels: dev.network.channels, channelId });
    total += state.claimed;
    const claim = best(channelId);
    if (!claim) continue;
    // The contract pays min(cumulative, deposit) - claimed.
    let payable = state.deposit;
    if (claim.cumulativeAmount < payable) payable = claim.cumulativeAmount;
    if (payable <= state.claimed) continue;
    try {
      await node.public.call({
        account: node.wallet.account,
        to: dev.network.channels,
        data: encodeFunctionData({
          abi: paymentChannelsAbi,
          functionName: 'claim',
          args: [channelId, claim.cumulativeAmount, claim.signature, false],
        }),
      });
      total += payable - state.claimed;
    } catch {
      // The contract would refuse it (bad signature, settled): worth nothing.
    }
  }
  return total;
}

async function runSequence(steps: Step[]): Promise<void> {
  stats.sequences++;
  // Each sequence starts from the same chain: the revert must succeed and leave channel A as it was opened.
  expect(await rpc('evm_revert', [snapshot])).toBe(true);
  snapshot = await rpc('evm_snapshot', []);
  expect(
    await readChannel(node.public, { channels: dev.network.channels, channelId: channelA }),
  ).toMatchObject({
    deposit: DEPOSIT,
    claimed: 0n,
    closing: false,
    settled: false,
  });
  failNext = 0;
  let clock = 1_000_000;
  const store = new MemoryConnectorStore();
  const unpaid = new UnpaidPackets();
  const makeReceiver = () => {
    const r = new ClaimReceiver({
      publicClient: flakyClient(),
      domain,
      token: dev.network.token,
      receiver: dev.anvil.accounts[1]!.address,
      sender: dev.anvil.accounts[2]!.address,
      now: () => clock,
      onAccept: (claim, pays) => store.acceptClaim(PEER, claim, pays),
    });
    r.restore(store.acceptedClaims(PEER));
    return r;
  };
  let receiver = makeReceiver();
  let credited = 0n;
  let accepted = 0n; // last accepted cumulative on A
  let deposit = DEPOSIT;
  let closing = false;
  const payerKey = dev.anvil.accounts[2]!.privateKey;
  const otherKey = dev.anvil.accounts[3]!.privateKey;
  const sign = async (signer: Hex, channelId: Hex, cumulativeAmount: bigint, over = domain) => {
    const key = `${signer}:${channelId}:${cumulativeAmount}:${over.chainId}`;
    let c = signatures.get(key);
    if (!c) {
      c = await signClaim({ signer, domain: over, claim: { channelId, cumulativeAmount } });
      signatures.set(key, c);
    }
    return c;
  };
  const log: string[] = [];

  for (const s of steps) {
    stats.steps++;
    log.push(JSON.stringify(s, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));
    switch (s.k) {
      case 'claim': {
        let claim: SignedClaim;
        let packet = s.amount;
        switch (s.kind) {
          case 'canonical':
            claim = await sign(payerKey, channelA, accepted + s.amount);
            break;
          case 'malleated': {
            const c = await sign(payerKey, channelA, accepted + s.amount);
            claim = { ...c, signature: malleate(c.signature) };
            break;
          }
          case 'lowV': {
            const c = await sign(payerKey, channelA, accepted + s.amount);
            claim = { ...c, signature: lowV(c.signature) };
            break;
          }
          case 'stale':
            claim = await sign(payerKey, channelA, accepted > s.amount ? accepted - s.amount : 0n);
            break;
          case 'overDeposit':
            packet = deposit + s.amount - accepted;
            claim = await sign(payerKey, channelA, deposit + s.amount);
            break;
          case 'otherSender':
            claim = await sign(otherKey, channelB, s.amount);
            break;
          case 'otherReceiver':
            claim = await sign(payerKey, channelC, s.amount);
            break;
          case 'forged':
            claim = await sign(otherKey, channelA, accepted + s.amount);
            break;
          case 'otherChain':
            claim = await sign(payerKey, channelA, accepted + s.amount, otherDomain);
            break;
        }
        const condition = randomBytes(32).toString('hex');
        unpaid.add(condition, packet);
        const armed = failNext;
        try {
          credited += await receiver.accept({ ...claim, pays: [condition] }, unpaid);
          if (claim.channelId === channelA) accepted = claim.cumulativeAmount;
          stats.accepted++;
        } catch {
          if (failNext < armed) stats.refusedByRpc++;
          stats.refused++;
          // Refused: the packet stays owed, nothing credited (checked below like any step).
        }
        break;
      }
      case 'topUp':
        try {
          await send(payer, 'topUp', [channelA, s.amount]);
          deposit += s.amount;
        } catch {
          // Refused on a closing or settled channel.
        }
        break;
      case 'close':
        try {
          await send(payer, 'startClose', [channelA]);
          closing = true;
          if (s.watched) receiver.markClosing(channelA);
        } catch {
          // Already closing or settled.
        }
        break;
      case 'tick':
        clock += s.ms;
        break;
      case 'redeem': {
        const best = receiver.bestClaim(channelA);
        if (best)
          await send(node, 'claim', [channelA, best.cumulativeAmount, best.signature, false]).catch(() => {});
        break;
      }
      case 'restart':
        receiver = makeReceiver();
        break;
      case 'rpcFail':
        failNext = s.calls;
        break;
      case 'withdraw': {
        if (!closing) break;
        // The watcher's part: the best claim is redeemed before the window ends.
        const best = receiver.bestClaim(channelA);
        if (best)
          await send(node, 'claim', [channelA, best.cumulativeAmount, best.signature, false]).catch(() => {});
        await rpc('evm_increaseTime', [3601]);
        await rpc('evm_mine', []);
        clock += 3_601_000;
        await send(payer, 'withdraw', [channelA]).catch(() => {});
        break;
      }
    }
    stats.checks++;
    const failing = failNext;
    failNext = 0; // the invariant is read from the real chain
    const can = await redeemable((id) => receiver.bestClaim(id));
    failNext = failing;
    if (credited > can) {
      throw new Error(`credited ${credited} > redeemable ${can} after:\n${log.join('\n')}`);
    }
  }
}

describe('ClaimReceiver property: credited <= redeemable on-chain after every step', () => {
  it('holds over 500 random sequences (fixed seed)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), runSequence), {
      numRuns: SEQUENCES,
      seed: 1313,
      endOnFailure: true,
    });
    console.log('STATS', JSON.stringify(stats));
    // Every sequence ran, and the invariant was read after every one of their steps.
    expect(stats.sequences).toBe(SEQUENCES);
    expect(stats.checks).toBe(stats.steps);
    // Not vacuous: many claims were credited and many refused.
    expect(stats.accepted).toBeGreaterThan(100);
    expect(stats.refused).toBeGreaterThan(200);
    // Injected RPC failures reached the receiver (and refused the claims they hit).
    expect(stats.rpcFailures).toBeGreaterThan(50);
    expect(stats.refusedByRpc).toBeGreaterThan(10);
  }, 240_000);
});
