// Gas per channel operation on a real anvil, `channel open` time on the devnet (library and CLI), and off-chain
// claim signing/verification throughput.
import { createTestClient, hashTypedData, http } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  CLAIM_TYPES,
  claimDomain,
  createChainClients,
  deployPaymentChannels,
  deployToken,
  mintTokens,
  openChannel,
  type SignedClaim,
  signClaim,
  startAnvil,
  startClose,
  submitClaim,
  topUpChannel,
  verifyClaim,
  withdraw,
} from '../src/chain/index.js';
import { channelOpen } from './channel-open.js';
import { formatNs, timeIt } from './stats.js';

const M2M = 10n ** 18n;

async function gas(): Promise<void> {
  const anvil = await startAnvil({ accounts: 3 });
  try {
    const make = (i: number) =>
      createChainClients({
        rpcUrl: anvil.rpcUrl,
        chainId: anvil.chainId,
        privateKey: anvil.accounts[i]!.privateKey,
      });
    const [deployer, sender, receiver] = [make(0), make(1), make(2)];
    const rows: [string, bigint][] = [];
    const token = await deployToken(deployer);
    rows.push(['deploy M2MToken', token.receipt.gasUsed]);
    const channels = await deployPaymentChannels(deployer);
    rows.push(['deploy PaymentChannels', channels.receipt.gasUsed]);
    await mintTokens(deployer, {
      token: token.address,
      to: sender.wallet.account.address,
      amount: 1000n * M2M,
    });
    const base = { channels: channels.address, token: token.address };
    const domain = claimDomain(anvil.chainId, channels.address);

    const first = await openChannel(sender, {
      ...base,
      receiver: receiver.wallet.account.address,
      amount: 50n * M2M,
      challengeWindow: 3600n,
    });
    rows.push(['approve (ERC-20)', first.approveReceipt!.gasUsed]);
    rows.push(['open (first channel of sender)', first.receipt.gasUsed]);
    const second = await openChannel(sender, {
      ...base,
      receiver: receiver.wallet.account.address,
      amount: 50n * M2M,
      challengeWindow: 3600n,
    });
    rows.push(['open', second.receipt.gasUsed]);
    const top = await topUpChannel(sender, { ...base, channelId: second.channelId, amount: 10n * M2M });
    rows.push(['topUp', top.receipt.gasUsed]);
    const key = anvil.accounts[1]!.privateKey;
    const c1 = await submitClaim(receiver, {
      channels: channels.address,
      claim: await signClaim({
        signer: key,
        domain,
        claim: { channelId: second.channelId, cumulativeAmount: M2M },
      }),
    });
    rows.push(['claim (first)', c1.receipt.gasUsed]);
    const c2 = await submitClaim(receiver, {
      channels: channels.address,
      claim: await signClaim({
        signer: key,
        domain,
        claim: { channelId: second.channelId, cumulativeAmount: 2n * M2M },
      }),
    });
    rows.push(['claim (later)', c2.receipt.gasUsed]);
    const sc = await startClose(sender, { channels: channels.address, channelId: second.channelId });
    rows.push(['startClose', sc.receipt.gasUsed]);
    const test = createTestClient({ mode: 'anvil', transport: http(anvil.rpcUrl) });
    await test.increaseTime({ seconds: 3601 });
    await test.mine({ blocks: 1 });
    const w = await withdraw(sender, { channels: channels.address, channelId: second.channelId });
    rows.push(['withdraw', w.receipt.gasUsed]);
    const cc = await submitClaim(receiver, {
      channels: channels.address,
      claim: await signClaim({
        signer: key,
        domain,
        claim: { channelId: first.channelId, cumulativeAmount: 3n * M2M },
      }),
      close: true,
    });
    rows.push(['claim with close (cooperative settle)', cc.receipt.gasUsed]);

    console.log('gas per operation (anvil, solc 0.8.30, optimizer 200 runs):');
    for (const [name, used] of rows) console.log(`  ${name.padEnd(40)} ${used.toString().padStart(9)} gas`);
  } finally {
    await anvil.stop();
  }
}

async function perSecond(label: string, n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 50; i++) await fn(i); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const rate = n / seconds;
  console.log(
    `  ${label.padEnd(40)} ${rate.toFixed(0).padStart(9)} /s  (${formatNs((seconds * 1e9) / n)} each)`,
  );
  return rate;
}

async function offChain(): Promise<void> {
  const account = privateKeyToAccount('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
  const domain = claimDomain(84532, '0x39eaF99Cd4965A28DFe8B1455DD42aB49D0836B9');
  const channelId = `0x${'42'.repeat(32)}` as const;
  const n = 2000;
  const signed: SignedClaim[] = [];
  for (let i = 0; i < n; i++)
    signed.push(
      await signClaim({ signer: account, domain, claim: { channelId, cumulativeAmount: BigInt(i + 1) } }),
    );

  console.log('off-chain claims (one core):');
  // Baseline: the EIP-712 hashing alone, which both signing and verifying must do.
  const hash = timeIt(
    () =>
      hashTypedData({
        domain,
        types: CLAIM_TYPES,
        primaryType: 'Claim',
        message: { channelId, cumulativeAmount: 1n },
      }),
    { samples: 50, batch: 50, warmup: 200 },
  );
  const hashRate = 1e9 / hash.medianNs;
  console.log(
    `  ${'EIP-712 hash only (baseline)'.padEnd(40)} ${hashRate.toFixed(0).padStart(9)} /s  (${formatNs(hash.medianNs)} each)`,
  );
  const signRate = await perSecond('signClaim', n, (i) =>
    signClaim({ signer: account, domain, claim: { channelId, cumulativeAmount: BigInt(i + 1) } }),
  );
  const verifyRate = await perSecond('verifyClaim (recover + compare)', n, async (i) => {
    const c = signed[i]!;
    const r = await verifyClaim({
      claim: c,
      signature: c.signature,
      domain,
      expectedSigner: account.address,
    });
    if (!r.valid) throw new Error('bench: claim did not verify');
  });
  console.log(
    `  sign is ${(hashRate / signRate).toFixed(1)}x and verify ${(hashRate / verifyRate).toFixed(1)}x the cost of hashing alone`,
  );
}

export async function run(): Promise<void> {
  await gas();
  await channelOpen();
  await offChain();
}
