// Issue 13 item 5, a hostile payer against the public interfaces only (Nostr SPSP request events, BTP over a
// real socket, the real channel contract on anvil): it lies about its settlement address, splits one channel's
// deposit across several SPSP identities, and asks for service with no channel at all. Invariant: what the node
// credits a payer never exceeds what it can redeem on-chain from that payer's channel.
import { randomBytes } from 'node:crypto';
import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimDomain,
  type DevChain,
  openChannel,
  signClaim,
  startDevChain,
  topUpChannel,
} from '../../src/chain/index.js';
import { BtpClient, createSpspResponder, type SpspResponder } from '../../src/connector/index.js';
import { IlpPacketType, type IlpReject } from '../../src/ilp/index.js';
import {
  buildSpspRequest,
  generateSecretKey,
  getPublicKey,
  parseSpspResponse,
} from '../../src/nostr/index.js';
import {
  anvilAccounts,
  makeEvent,
  type Node,
  PRICE,
  paidWrite,
  proveSettlement,
  startNode,
} from './helpers.js';

const M2M = 10n ** 18n;
const CREDIT_LIMIT = 10n ** 9n; // far above the deposits below: the channel is what must bound the credit
let dev: DevChain;
let node: Node;
let respond: SpspResponder;
const nodeSk = generateSecretKey();
const nodePk = getPublicKey(nodeSk);
const { clients, addr } = anvilAccounts(() => dev);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const links: BtpClient[] = [];

beforeAll(async () => {
  dev = await startDevChain({ accounts: 6 });
  node = await startNode({
    settlement: {
      clients: clients(1),
      token: dev.network.token,
      channels: dev.network.channels,
      channelDeposit: M2M,
      watch: false,
    },
  });
  respond = createSpspResponder({
    secretKey: nodeSk,
    connector: node.connector,
    secrets: node.secrets,
    basePricePerByte: PRICE,
    settlement: {
      chainId: dev.anvil.chainId,
      token: dev.network.token,
      channelContract: dev.network.channels,
      settlementAddress: addr(1),
    },
    btpUrl: node.connector.btpUrl,
    creditLimit: CREDIT_LIMIT,
  });
});

afterAll(async () => {
  for (const l of links) await l.close();
  await node?.close();
  await dev?.stop();
});

/** A fresh SPSP identity declaring `account`'s address, with the proof signed by `prover` (none: no proof). */
async function identity(account: number, prover: number | null = account) {
  const sk = generateSecretKey();
  const req = buildSpspRequest(sk, nodePk, {
    requestId: randomBytes(8).toString('hex'),
    settlementAddress: addr(account),
    ...(prover !== null && {
      settlementProof: await proveSettlement(dev.anvil.accounts[prover]!.privateKey, sk, nodePk),
    }),
  });
  const { response } = parseSpspResponse(respond(req), sk, req.id);
  const client = await BtpClient.connect({ url: response.btpUrl, authToken: response.btpToken });
  links.push(client);
  const secret = new Uint8Array(Buffer.from(response.sharedSecret, 'base64'));
  const owed: string[] = [];
  let owedAmount = 0n;
  return {
    peerId: response.ilpAddress.split('.').at(-1)!,
    client,
    /** Writes until the node refuses; returns what was fulfilled and the refusal. */
    async spend(max = 50): Promise<{ fulfilled: bigint; refusal?: IlpReject }> {
      let fulfilled = 0n;
      for (let i = 0; i < max; i++) {
        const w = paidWrite(makeEvent(), response.destinationAccount, secret);
        const reply = await client.sendPrepare(w.prepare);
        if (reply.type !== IlpPacketType.Fulfill) return { fulfilled, refusal: reply as IlpReject };
        owed.push(hex(w.prepare.executionCondition));
        owedAmount += w.price;
        fulfilled += w.price;
      }
      return { fulfilled };
    },
    /** Pays every owed packet with one claim on `channelId`, signed by `signer`, from `from` cumulative. */
    async claim(channelId: Hex, from: bigint, signer = account) {
      const c = await signClaim({
        signer: dev.anvil.accounts[signer]!.privateKey,
        domain: claimDomain(dev.anvil.chainId, dev.network.channels),
        claim: { channelId, cumulativeAmount: from + owedAmount },
      });
      // With nothing owed, the claim names a packet it never sent (a claim must list at least one).
      await client.sendClaim({ ...c, pays: owed.length ? [...owed] : ['00'.repeat(32)] });
      const paid = owedAmount;
      owed.length = 0;
      owedAmount = 0n;
      return paid;
    },
  };
}

const open = (account: number, amount: bigint) =>
  openChannel(clients(account), {
    channels: dev.network.channels,
    token: dev.network.token,
    receiver: addr(1),
    amount,
    challengeWindow: 3600n,
  });

/** What the node credited a peer: covered by claims plus still owed. */
const credited = (peerId: string) => {
  const b = node.connector.balance(peerId);
  return b.paidByPeer + b.owedByPeer;
};

describe('hostile payer: identities and settlement addresses', () => {
  it('refuses a settlement address declared without proof, or with a proof signed by another key', async () => {
    await expect(identity(2, null)).rejects.toThrow(/settlementProof/);
    await expect(identity(2, 3)).rejects.toThrow(/settlementProof/);
  });

  it('an identity with no channel gets no credit (T04 saying to open one), however high its credit limit', async () => {
    const idle = await identity(4);
    const r = await idle.spend(1);
    expect(r.fulfilled).toBe(0n);
    expect(r.refusal?.code).toBe('T04');
    expect(r.refusal?.message).toMatch(/open one/);
    expect(credited(idle.peerId)).toBe(0n);
  });

  it('several identities proving one settlement address cannot spend one deposit twice', async () => {
    const deposit = 30_000n;
    const { channelId } = await open(2, deposit);
    const first = await identity(2);
    const second = await identity(2);
    const third = await identity(2);

    // The first identity spends the channel: the node stops it at the deposit, not at the credit limit.
    const spent = await first.spend();
    expect(spent.refusal?.code).toBe('T04');
    expect(spent.fulfilled).toBeGreaterThan(0n);
    expect(spent.fulfilled).toBeLessThanOrEqual(deposit);
    const paid = await first.claim(channelId, 0n);

    // The others claim the same channel as theirs: no credit, and their claims on it are refused.
    for (const other of [second, third]) {
      const r = await other.spend(3);
      expect(r.fulfilled).toBe(0n);
      expect(r.refusal?.code).toBe('T04');
      await expect(other.claim(channelId, paid)).rejects.toThrow(/CLAIM_WRONG_CHANNEL|bound to another peer/);
      await expect(other.client.requestStatus(channelId)).rejects.toThrow(/STATUS_REFUSED/);
    }

    // The second opens a small channel of its own (so it gets credit), is served on it, then pays with a claim on
    // the first's channel, signed from the on-chain claimed (0): what a receiver of its own would start from.
    const small = 8_000n;
    const { channelId: own } = await open(2, small);
    await second.client.requestStatus(own); // proves the channel is its own: bound to it
    const served = await second.spend();
    expect(served.fulfilled).toBeGreaterThan(0n);
    expect(served.fulfilled).toBeLessThanOrEqual(small);
    await expect(second.claim(channelId, 0n)).rejects.toThrow(/CLAIM_WRONG_CHANNEL|bound to another peer/);
    const paidSecond = await second.claim(own, 0n);
    expect(paidSecond).toBe(served.fulfilled);

    const total = credited(first.peerId) + credited(second.peerId) + credited(third.peerId);
    expect(total).toBe(paid + paidSecond);
    // What was credited is exactly what the node collects on-chain.
    expect(await node.connector.redeem()).toBe(paid + paidSecond);
    expect(paid).toBeLessThanOrEqual(deposit);
  });

  it("a status request about another payer's channel lends its deposit to nobody while the chain read runs", async () => {
    // The victim opened a channel and has not used it yet: bound to nobody.
    const { channelId } = await open(3, 8_000n);
    // A payer with no channel asks the status of the victim's and, in the same tick, spends: the node binds the
    // channel to the asker until the read says whose it is.
    const attacker = await identity(4);
    const status = attacker.client.requestStatus(channelId).then(
      () => 'answered',
      (err: Error) => err.message,
    );
    const r = await attacker.spend(3);
    expect(await status).toMatch(/status refused/);
    expect(r.fulfilled).toBe(0n);
    expect(r.refusal?.code).toBe('T04');
    expect(credited(attacker.peerId)).toBe(0n);
  });

  it('the credit line follows the unclaimed deposit: a top-up raises it, claims do not reset it', async () => {
    const { channelId } = await open(5, 8_000n);
    const payer = await identity(5);
    const a = await payer.spend();
    expect(a.refusal?.code).toBe('T04');
    expect(a.fulfilled).toBeLessThanOrEqual(8_000n);
    const paidA = await payer.claim(channelId, 0n);
    // Paid up, but the deposit is used up: still no more credit than what is left.
    const b = await payer.spend();
    expect(paidA + b.fulfilled).toBeLessThanOrEqual(8_000n);
    await topUpChannel(clients(5), {
      channels: dev.network.channels,
      token: dev.network.token,
      channelId,
      amount: 20_000n,
    });
    await new Promise((r) => setTimeout(r, 300)); // the node re-reads a channel at most every 250 ms on a shortfall
    const c = await payer.spend();
    expect(c.fulfilled).toBeGreaterThan(0n);
    expect(paidA + b.fulfilled + c.fulfilled).toBeLessThanOrEqual(28_000n);
    expect(credited(payer.peerId)).toBe(paidA + b.fulfilled + c.fulfilled);
  });
});
