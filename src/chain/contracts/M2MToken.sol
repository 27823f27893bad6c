// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title M2M test token (devnet only)
/// @notice An 18-decimal ERC-20 with an owner-only mint, so a local chain can fund its accounts.
/// On Base Sepolia the real M2M token is used instead; this contract is never deployed there.
contract M2MToken is ERC20, Ownable {
    constructor(address initialOwner) ERC20("M2M", "M2M") Ownable(initialOwner) {}

    /// @notice Creates `amount` base units for `to`. Only the owner (the devnet deployer) may mint.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
