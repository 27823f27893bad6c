// Issue 13 items 1-4 and issue 14 item 5: a hostile payer against the node's receiving side, written against public
// interfaces only (BTP over a real socket, the chain actions a payer has, the contract), on a real anvil.
// Each test failed on the code before the fix: malleated claims were credited, claims were credited on closed
// channels, the watcher gave up after one failed redemption and never rescanned a reorged block, a claim accepted
// after the first redemption was never redeemed, and redeem() stopped at the first failing channel.
import { randomBytes } from 'node:crypto';
import { encodeFunctionData, type Hex, recoverTypedDataAddress } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLAIM_TYPES,
  claimDomain,
  type DevChain,
  openChannel,
  paymentChannelsAbi,
  type RedeemAttempt,
  readChannel,
  type SignedClaim,
  signClaim,
  startClose,
  startDevChain,
  submitClaim,
  watchClosures,
  withdraw,
} from '../../src/chain/index.js';
import {
  BtpClient,
  ClaimReceiver,
  type ConnectorSettlementOptions,
  UnpaidPackets,
  watchReceiver,
} from '../../src/connector/index.js';
import { IlpPacketType } from '../../src/ilp/index.js';
import { addMayor, anvilAccounts, makeEvent, type Node, paidWrite, startNode } from './helpers.js';

const M2M = 10n ** 18n;
const HALF_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n / 2n;
const N = HALF_N * 2n + 1n;
let dev: DevChain;
const { clients, addr } = anvilAccounts(() => dev);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rpc = async (method: string, params: unknown[]) => {
  const res = await fetch(dev.anvil.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
};
async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
const travel = async (seconds: number) => {
  await rpc('evm_increaseTime', [seconds]);
  await rpc('evm_mine', []);
};
const claimedOnChain = async (channelId: Hex) =>
  (await readChannel(clients(0).public, { channels: dev.network.channels, channelId })).claimed;

/** The same signature with s' = n - s and the other v: recovers to the same key, which the contract refuses. */
/** A 1 M2M channel from account 5 to account 6 (a receiver outside any node), with 5's key and claim domain. */
async function channelFrom5To6() {
  const key = dev.anvil.accounts[5]!.privateKey;
  const domain = claimDomain(dev.anvil.chainId, dev.network.channels);
  const { channelId } = await openChannel(clients(5), {
    channels: dev.network.channels,
    token: dev.network.token,
    receiver: addr(6),
    amount: M2M,
    challengeWindow: 3600n,
  });
  return { key, domain, channelId };
}

function malleate(signature: Hex): Hex {
  const r = signature.slice(2, 66);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  return `0x${r}${(N - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}`;
}
/** v written as 0/1 instead of 27/28 (what some signers produce): also refused by the contract. */
const lowV = (signature: Hex): Hex =>
  `${signature.slice(0, 130)}${(Number.parseInt(signature.slice(130, 132), 16) - 27).toString(16).padStart(2, '0')}` as Hex;

function settlementFor(extra: Partial<ConnectorSettlementOptions> = {}): ConnectorSettlementOptions {
  return {
    clients: clients(1),
    token: dev.network.token,
    channels: dev.network.channels,
    channelDeposit: M2M,
    settleThreshold: 0n,
    ...extra,
  };
}

/**
 * A payer as a stranger would write it: registered like a Mayor after SPSP, its own channel to the node, paid writes
 * over BTP, claims it signs (and tampers with) itself.
 */
async function hostilePayer(node: Node, account: number, id = `payer${account}-${hex(randomBytes(3))}`) {
  const key = dev.anvil.accounts[account]!.privateKey;
  const { authToken, destination, sharedSecret } = addMayor(node, id, {
    settlementAddress: addr(account),
    creditLimit: 10n ** 12n,
  });
  const client = await BtpClient.connect({ url: node.connector.btpUrl, authToken });
  const { channelId } = await openChannel(clients(account), {
    channels: dev.network.channels,
    token: dev.network.token,
    receiver: addr(1),
    amount: M2M,
    challengeWindow: 3600n,
  });
  let cumulative = 0n;
  let pays: string[] = [];
  let owed = 0n;
  const domain = claimDomain(dev.anvil.chainId, dev.network.channels);
  return {
    id,
    channelId,
    client,
    get cumulative() {
      return cumulative;
    },
    /** Gets a paid write served on credit. */
    async write() {
      const w = paidWrite(makeEvent(), destination, sharedSecret);
      const reply = await client.sendPrepare(w.prepare);
      expect(reply.type).toBe(IlpPacketType.Fulfill);
      pays.push(hex(w.prepare.executionCondition));
      owed += w.price;
    },
    /** Signs previous + owed, lets `tamper` change the signature, sends it; on success moves on. */
    async claim(tamper: (s: Hex) => Hex = (s) => s): Promise<SignedClaim> {
      const signed = await signClaim({
        signer: key,
        domain,
        claim: { channelId, cumulativeAmount: cumulative + owed },
      });
      const sent = { ...signed, signature: tamper(signed.signature) };
      await client.sendClaim({ ...sent, pays });
      cumulative += owed;
      owed = 0n;
      pays = [];
      return sent;
    },
    close: () => client.close(),
  };
}

beforeAll(async () => {
  dev = await startDevChain({ accounts: 8 });
});
afterAll(async () => {
  await dev?.stop();
});

describe('item 1: only canonical claim signatures', () => {
  let node: Node;
  beforeAll(async () => {
    node = await startNode({ settlement: settlementFor({ watch: false }) });
  });
  afterAll(async () => node?.close());

  it('refuses a malleated (high-s) claim and a v = 0/1 claim with a clear reason, then takes the honest one', async () => {
    const p = await hostilePayer(node, 2);
    await p.write();
    await p.write();
    const balance = node.connector.balance(p.id);
    // The malleated signature is a real one: an off-chain recovery finds the sender...
    const honest = await signClaim({
      signer: dev.anvil.accounts[2]!.privateKey,
      domain: claimDomain(dev.anvil.chainId, dev.network.channels),
      claim: { channelId: p.channelId, cumulativeAmount: balance.owedByPeer },
    });
    const bad = malleate(honest.signature);
    expect(BigInt(`0x${bad.slice(66, 130)}`) > HALF_N).toBe(true);
    expect(
      await recoverTypedDataAddress({
        domain: claimDomain(dev.anvil.chainId, dev.network.channels),
        types: CLAIM_TYPES,
        primaryType: 'Claim',
        message: { channelId: p.channelId, cumulativeAmount: balance.owedByPeer },
        signature: bad,
      }),
    ).toBe(addr(2));
    // ...but the contract refuses it, so the node must not credit it.
    await expect(
      submitClaim(clients(1), { channels: dev.network.channels, claim: { ...honest, signature: bad } }),
    ).rejects.toMatchObject({ code: 'InvalidClaimSignature' });

    await expect(p.claim(malleate)).rejects.toThrow(/CLAIM_NON_CANONICAL_SIGNATURE.*high s/);
    await expect(p.claim(lowV)).rejects.toThrow(/CLAIM_NON_CANONICAL_SIGNATURE.*v is [01]/);
    expect(node.connector.balance(p.id)).toEqual(balance);
    const accepted = await p.claim();
    expect(node.connector.balance(p.id)).toMatchObject({ owedByPeer: 0n, paidByPeer: balance.owedByPeer });
    expect(await node.connector.redeem(p.id)).toBe(accepted.cumulativeAmount);
    await p.close();
  });
});

describe('items 2 and 3: closing channels', () => {
  let node: Node;
  const errors: unknown[] = [];
  const attempts: RedeemAttempt[] = [];
  beforeAll(async () => {
    node = await startNode({
      settlement: settlementFor({
        onError: (e) => errors.push(e),
        watcher: {
          pollingIntervalMs: 100,
          retry: { initialMs: 200, maxMs: 400 },
          onAttempt: (a) => attempts.push(a),
        },
      }),
    });
  });
  afterAll(async () => node?.close());

  it('refuses a claim once the channel started closing, and after it settled', async () => {
    const p = await hostilePayer(node, 3);
    await p.write();
    await p.claim();
    await p.write(); // served on credit before the close...
    await startClose(clients(3), { channels: dev.network.channels, channelId: p.channelId });
    await until(async () => (await claimedOnChain(p.channelId)) === p.cumulative, 'the watcher to redeem');
    // ...and the payer now tries to pay it with a claim the node would have to redeem after its first redemption.
    await expect(p.claim()).rejects.toThrow(/CLAIM_CHANNEL_CLOSING/);
    await travel(3601);
    await withdraw(clients(3), { channels: dev.network.channels, channelId: p.channelId });
    await expect(p.claim()).rejects.toThrow(/CLAIM_CHANNEL_CLOSING/);
    expect(node.connector.balance(p.id).paidByPeer).toBe(p.cumulative);
    await p.close();
  });

  it('keeps retrying a failed redemption (no gas for a moment) until it lands', async () => {
    const p = await hostilePayer(node, 4);
    await p.write();
    await p.claim();
    const gas = (await rpc('eth_getBalance', [addr(1), 'latest'])) as string;
    await rpc('anvil_setBalance', [addr(1), '0x0']);
    const failed = () => attempts.filter((a) => a.channelId === p.channelId && a.outcome === 'failed');
    try {
      await startClose(clients(4), { channels: dev.network.channels, channelId: p.channelId });
      await until(() => failed().length >= 1, 'a failed redemption attempt');
      // The ClosureStarted block sinks below the watcher's rescan depth (2 blocks): from now on only the retry loop
      // remembers the channel (a watcher that drops it after a failure never sees the close again).
      for (let i = 0; i < 5; i++) await rpc('evm_mine', []);
      const before = failed().length;
      await until(() => failed().length >= before + 2, 'two more failed attempts, the close block deep');
    } finally {
      await rpc('anvil_setBalance', [addr(1), gas]);
    }
    expect(await claimedOnChain(p.channelId)).toBe(0n);
    await until(async () => (await claimedOnChain(p.channelId)) === p.cumulative, 'the retried redemption');
    expect(node.connector.closureWatcher?.closing().map((c) => c.channelId)).toContain(p.channelId);
    // Each attempt is reported (the node logs it) with the channel, its number, the reason and the next delay.
    const first = failed()[0]!;
    expect(first).toMatchObject({ attempt: 1, closesAt: expect.any(BigInt), retryInMs: expect.any(Number) });
    expect(first.reason.length).toBeGreaterThan(0);
    expect(failed().map((a) => a.attempt)).toEqual(failed().map((_, i) => i + 1));
    expect(errors.length).toBeGreaterThanOrEqual(failed().length);
    const redeemed = () => attempts.find((a) => a.channelId === p.channelId && a.outcome === 'redeemed');
    await until(() => redeemed() !== undefined, 'the successful attempt to be reported');
    expect(redeemed()).toMatchObject({ attempt: failed().length + 1, paid: p.cumulative });
    await p.close();
  });
});

describe('item 2: the cache bound without a watcher', () => {
  it('re-reads a channel state older than maxStateAgeMs before crediting, so a close is seen', async () => {
    let clock = 0;
    const receiver = new ClaimReceiver({
      publicClient: clients(5).public,
      domain: claimDomain(dev.anvil.chainId, dev.network.channels),
      token: dev.network.token,
      receiver: addr(5),
      sender: addr(4),
      maxStateAgeMs: 5000,
      now: () => clock,
    });
    const { channelId } = await openChannel(clients(4), {
      channels: dev.network.channels,
      token: dev.network.token,
      receiver: addr(5),
      amount: M2M,
      challengeWindow: 3600n,
    });
    const unpaid = new UnpaidPackets();
    let cumulative = 0n;
    const pay = async (amount: bigint) => {
      const condition = hex(randomBytes(32));
      unpaid.add(condition, amount);
      const c = await signClaim({
        signer: dev.anvil.accounts[4]!.privateKey,
        domain: claimDomain(dev.anvil.chainId, dev.network.channels),
        claim: { channelId, cumulativeAmount: cumulative + amount },
      });
      await receiver.accept({ ...c, pays: [condition] }, unpaid);
      cumulative += amount;
    };
    await pay(10n); // binds the channel: state read at t = 0
    await startClose(clients(4), { channels: dev.network.channels, channelId });
    clock = 4000; // within the bound: the documented race, still redeemable (closing, not settled)
    await pay(20n);
    clock = 9001; // older than the bound: read again, closing, refused
    await expect(pay(30n)).rejects.toMatchObject({ code: 'CLAIM_CHANNEL_CLOSING' });
    expect(receiver.bestClaim(channelId)?.cumulativeAmount).toBe(30n);
    const redeemed = await submitClaim(clients(5), {
      channels: dev.network.channels,
      claim: receiver.bestClaim(channelId)!,
    });
    expect(redeemed.paid).toBe(receiver.paid);
  });
});

describe('a receiver without a Connector (provider Mayor): watchReceiver', () => {
  it('redeems the best claim on close and refuses claims on the channel from then on', async () => {
    const domain = claimDomain(dev.anvil.chainId, dev.network.channels);
    const receiver = new ClaimReceiver({
      publicClient: clients(3).public,
      domain,
      token: dev.network.token,
      receiver: addr(3),
      sender: addr(7),
    });
    const { channelId } = await openChannel(clients(7), {
      channels: dev.network.channels,
      token: dev.network.token,
      receiver: addr(3),
      amount: M2M,
      challengeWindow: 3600n,
    });
    const unpaid = new UnpaidPackets();
    let cumulative = 0n;
    const pay = async (amount: bigint) => {
      const condition = hex(randomBytes(32));
      unpaid.add(condition, amount);
      const c = await signClaim({
        signer: dev.anvil.accounts[7]!.privateKey,
        domain,
        claim: { channelId, cumulativeAmount: cumulative + amount },
      });
      await receiver.accept({ ...c, pays: [condition] }, unpaid);
      cumulative += amount;
    };
    await pay(25n);
    const watcher = watchReceiver(receiver, {
      clients: clients(3),
      channels: dev.network.channels,
      pollingIntervalMs: 50,
    });
    try {
      await watcher.ready;
      await startClose(clients(7), { channels: dev.network.channels, channelId });
      await until(async () => (await claimedOnChain(channelId)) === 25n, 'the redemption');
      // The watcher records the redemption once its receipt is read, a moment after the chain shows it.
      await until(async () => receiver.list()[0]?.state.claimed === 25n, "the receiver's record of it");
      await expect(pay(5n)).rejects.toMatchObject({ code: 'CLAIM_CHANNEL_CLOSING' });
      expect(receiver.list()[0]?.state.claimed).toBe(25n);
    } finally {
      watcher.stop();
    }
  });
});

describe('item 2 (second half) and item 4: the watcher itself', () => {
  it('redeems again a claim accepted after its first redemption of a closing channel', async () => {
    const { key, domain, channelId } = await channelFrom5To6();
    let best = await signClaim({ signer: key, domain, claim: { channelId, cumulativeAmount: 100n } });
    const watcher = watchClosures({
      clients: clients(6),
      channels: dev.network.channels,
      bestClaim: (id) => (id === channelId ? best : undefined),
      pollingIntervalMs: 50,
    });
    try {
      await watcher.ready;
      await startClose(clients(5), { channels: dev.network.channels, channelId });
      await until(async () => (await claimedOnChain(channelId)) === 100n, 'the first redemption');
      best = await signClaim({ signer: key, domain, claim: { channelId, cumulativeAmount: 250n } });
      await until(async () => (await claimedOnChain(channelId)) === 250n, 'the second redemption');
    } finally {
      watcher.stop();
    }
  });

  it('catches up from a saved block in small getLogs ranges and reports each scanned block', async () => {
    const { key, domain, channelId } = await channelFrom5To6();
    const saved = await clients(0).public.getBlockNumber();
    await startClose(clients(5), { channels: dev.network.channels, channelId });
    for (let i = 0; i < 12; i++) await rpc('evm_mine', []);
    const best = await signClaim({ signer: key, domain, claim: { channelId, cumulativeAmount: 40n } });
    const scanned: bigint[] = [];
    const watcher = watchClosures({
      clients: clients(6),
      channels: dev.network.channels,
      bestClaim: (id) => (id === channelId ? best : undefined),
      fromBlock: saved + 1n,
      maxBlockRange: 3n,
      onScanned: (b) => scanned.push(b),
    });
    try {
      await watcher.ready;
      expect(await claimedOnChain(channelId)).toBe(40n);
      const head = await clients(0).public.getBlockNumber();
      // Only blocks `confirmations` (2) deep count as scanned: a restart rescans the last two.
      expect(scanned.at(-1)).toBeGreaterThanOrEqual(head - 3n);
      expect(scanned.at(-1)).toBeLessThanOrEqual(head - 2n);
    } finally {
      watcher.stop();
    }
  });

  it('reads its known channels at start: a close older than any scan (no saved block) is still redeemed', async () => {
    const { key, domain, channelId } = await channelFrom5To6();
    await startClose(clients(5), { channels: dev.network.channels, channelId });
    for (let i = 0; i < 6; i++) await rpc('evm_mine', []); // the close is below the first scan's window
    const best = await signClaim({ signer: key, domain, claim: { channelId, cumulativeAmount: 55n } });
    const watcher = watchClosures({
      clients: clients(6),
      channels: dev.network.channels,
      bestClaim: (id) => (id === channelId ? best : undefined),
      knownChannels: () => [channelId],
      pollingIntervalMs: 50,
    });
    try {
      await watcher.ready;
      expect(await claimedOnChain(channelId)).toBe(55n);
    } finally {
      watcher.stop();
    }
  });

  it('a reorg that moves a ClosureStarted into an already scanned block does not hide it', async () => {
    const { key, domain, channelId } = await channelFrom5To6();
    const best = await signClaim({ signer: key, domain, claim: { channelId, cumulativeAmount: 70n } });
    await rpc('evm_mine', []);
    const watcher = watchClosures({
      clients: clients(6),
      channels: dev.network.channels,
      bestClaim: (id) => (id === channelId ? best : undefined),
      pollingIntervalMs: 50,
    });
    try {
      await watcher.ready;
      await watcher.idle(); // the head block has been scanned: nothing there yet
      // The close lands in a replacement of the head block (same height): a scan that only moves forward misses it.
      const w = clients(5).wallet;
      const request = await w.prepareTransactionRequest({
        to: dev.network.channels,
        data: encodeFunctionData({ abi: paymentChannelsAbi, functionName: 'startClose', args: [channelId] }),
        gas: 200_000n,
      });
      const raw = await w.signTransaction(request);
      await rpc('anvil_reorg', [1, [[raw, 0]]]);
      expect(
        (await readChannel(clients(0).public, { channels: dev.network.channels, channelId })).closing,
      ).toBe(true);
      await until(
        async () => (await claimedOnChain(channelId)) === 70n,
        'the watcher to see the reorged close',
      );
    } finally {
      watcher.stop();
    }
  });
});

describe('issue 14 item 5: one failing claim does not block the other channels', () => {
  it('redeem() still redeems B when A cannot be redeemed, and names A', async () => {
    const node = await startNode({ settlement: settlementFor({ watch: false }) });
    try {
      const a = await hostilePayer(node, 6);
      const b = await hostilePayer(node, 7);
      await a.write();
      await a.claim();
      await b.write();
      await b.claim();
      // A leaves with its money while the node does not watch: its claim can no longer be redeemed.
      await startClose(clients(6), { channels: dev.network.channels, channelId: a.channelId });
      await travel(3601);
      await withdraw(clients(6), { channels: dev.network.channels, channelId: a.channelId });
      const err = await node.connector.redeem().then(
        () => undefined,
        (e: unknown) => e as Error & { report?: { paid: bigint } },
      );
      expect(await claimedOnChain(b.channelId)).toBe(b.cumulative);
      expect(err?.message).toMatch(new RegExp(`REDEEM_INCOMPLETE|${a.channelId}`));
      expect(err?.message).toContain(a.channelId);
      expect(err?.report?.paid).toBe(b.cumulative);
      await a.close();
      await b.close();
    } finally {
      await node.close();
    }
  });
});
