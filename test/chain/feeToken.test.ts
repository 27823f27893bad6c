// "Open with deposit (measure the balance change)": with a fee-on-transfer token the contract must credit
// what it received, not what was requested. The token is compiled here from inline source (test-only).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import solc from 'solc';
import type { Abi, Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openChannel,
  readChannel,
  startClose,
  tokenBalance,
  topUpChannel,
  withdraw,
} from '../../src/chain/index.js';
import { type Fixture, HOUR, M2M, startFixture, travel } from './setup.js';

const SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
/// Burns 1% of every transfer between two non-zero addresses.
contract FeeToken is ERC20 {
    constructor(address holder) ERC20("Fee", "FEE") { _mint(holder, 1000 ether); }
    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value / 100;
            super._update(from, address(0), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}`;

function compileFeeToken(): { abi: Abi; bytecode: Hex } {
  const require = createRequire(import.meta.url);
  const input = {
    language: 'Solidity',
    sources: { 'FeeToken.sol': { content: SOURCE } },
    settings: { evmVersion: 'cancun', outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
  };
  const out = JSON.parse(
    solc.compile(JSON.stringify(input), {
      import: (p: string) => ({ contents: readFileSync(require.resolve(p), 'utf8') }),
    }),
  );
  const c = out.contracts['FeeToken.sol'].FeeToken;
  return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
}

let f: Fixture;
let feeToken: `0x${string}`;
beforeAll(async () => {
  f = await startFixture();
  const { abi, bytecode } = compileFeeToken();
  const hash = await f.sender.wallet.deployContract({
    abi,
    bytecode,
    args: [f.sender.wallet.account.address],
  });
  const receipt = await f.sender.public.waitForTransactionReceipt({ hash });
  feeToken = receipt.contractAddress!;
});
afterAll(async () => {
  await f?.stop();
});

describe('fee-on-transfer token', () => {
  it('credits the measured balance change on open and top-up, and never pays out more than it holds', async () => {
    const { channelId, deposit } = await openChannel(f.sender, {
      channels: f.channels,
      token: feeToken,
      receiver: f.receiver.wallet.account.address,
      amount: 100n * M2M,
      challengeWindow: HOUR,
    });
    expect(deposit).toBe(99n * M2M);
    const top = await topUpChannel(f.sender, {
      channels: f.channels,
      token: feeToken,
      channelId,
      amount: 10n * M2M,
    });
    expect(top.added).toBe((99n * M2M) / 10n);
    const state = await readChannel(f.sender.public, { channels: f.channels, channelId });
    const held = await tokenBalance(f.sender.public, { token: feeToken, owner: f.channels });
    expect(state.deposit).toBe(held);

    await startClose(f.sender, { channels: f.channels, channelId });
    await travel(f, HOUR);
    const w = await withdraw(f.sender, { channels: f.channels, channelId });
    expect(w.refunded).toBe(held);
    expect(await tokenBalance(f.sender.public, { token: feeToken, owner: f.channels })).toBe(0n);
  });
});
