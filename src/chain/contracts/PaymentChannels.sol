// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title Unidirectional ERC-20 payment channels with cumulative EIP-712 claims
/// @notice A sender locks a deposit for one receiver. Off-chain the sender signs
/// `Claim(channelId, cumulativeAmount)` messages, each one replacing the previous.
/// The receiver may redeem its best claim at any time until the channel is settled;
/// a redemption pays `min(cumulativeAmount, deposit) - claimed` and never reverts on
/// over-promise. The sender exits by starting a close, waiting out the challenge window
/// (during which the receiver can still claim) and withdrawing what was not claimed.
/// Invariant: claimed <= deposit, and paid to receiver + refunded to sender = deposit.
contract PaymentChannels is EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Shortest challenge window a channel may choose: long enough for a watcher to react.
    uint64 public constant MIN_CHALLENGE_WINDOW = 1 hours;
    /// @notice Longest challenge window, so a typo cannot lock a deposit for years.
    uint64 public constant MAX_CHALLENGE_WINDOW = 30 days;

    bytes32 public constant CLAIM_TYPEHASH = keccak256("Claim(bytes32 channelId,uint256 cumulativeAmount)");

    struct Channel {
        address sender;
        uint64 closeRequestedAt; // 0 while open
        bool settled;
        address receiver;
        uint64 challengeWindow;
        IERC20 token;
        uint256 deposit;
        uint256 claimed;
    }

    mapping(bytes32 channelId => Channel) private _channels;
    /// @notice Number of channels each sender has opened; part of the channel id derivation.
    mapping(address sender => uint256) public channelCount;

    event ChannelOpened(
        bytes32 indexed channelId,
        address indexed sender,
        address indexed receiver,
        address token,
        uint256 deposit,
        uint64 challengeWindow,
        uint256 nonce
    );
    event ChannelToppedUp(bytes32 indexed channelId, address indexed sender, uint256 amount, uint256 deposit);
    event Claimed(
        bytes32 indexed channelId,
        address indexed receiver,
        uint256 cumulativeAmount,
        uint256 paid,
        uint256 totalClaimed
    );
    event ClosureStarted(
        bytes32 indexed channelId,
        address indexed sender,
        address indexed receiver,
        uint64 closeRequestedAt,
        uint64 closesAt
    );
    event Withdrawn(bytes32 indexed channelId, address indexed sender, uint256 refunded);
    event ChannelSettled(bytes32 indexed channelId, uint256 paidToReceiver, uint256 refundedToSender);

    error UnknownChannel(bytes32 channelId);
    error NotChannelSender(bytes32 channelId, address caller);
    error NotChannelReceiver(bytes32 channelId, address caller);
    error InvalidReceiver(address receiver);
    error ZeroAmount();
    error ChallengeWindowOutOfRange(uint64 given, uint64 min, uint64 max);
    error ChannelAlreadySettled(bytes32 channelId);
    error ChannelClosing(bytes32 channelId, uint64 closesAt);
    error CloseNotStarted(bytes32 channelId);
    error ChallengeWindowActive(bytes32 channelId, uint64 closesAt);
    error InvalidClaimSignature(bytes32 channelId, address recovered);

    constructor() EIP712("PaymentChannels", "1") {}

    /// @notice Opens a channel to `receiver` funded with `amount` of `token` (approve first).
    /// The deposit is the balance actually received, so fee-on-transfer tokens cannot over-credit.
    function open(address receiver, IERC20 token, uint256 amount, uint64 challengeWindow)
        external
        nonReentrant
        returns (bytes32 channelId)
    {
        if (receiver == address(0) || receiver == msg.sender) revert InvalidReceiver(receiver);
        if (challengeWindow < MIN_CHALLENGE_WINDOW || challengeWindow > MAX_CHALLENGE_WINDOW) {
            revert ChallengeWindowOutOfRange(challengeWindow, MIN_CHALLENGE_WINDOW, MAX_CHALLENGE_WINDOW);
        }
        uint256 nonce = channelCount[msg.sender]++;
        channelId = keccak256(abi.encode(block.chainid, address(this), msg.sender, receiver, nonce));

        uint256 received = _pull(token, amount);
        _channels[channelId] = Channel({
            sender: msg.sender,
            closeRequestedAt: 0,
            settled: false,
            receiver: receiver,
            challengeWindow: challengeWindow,
            token: token,
            deposit: received,
            claimed: 0
        });
        emit ChannelOpened(channelId, msg.sender, receiver, address(token), received, challengeWindow, nonce);
    }

    /// @notice Adds `amount` to the deposit. Sender only, and only while no close has started.
    function topUp(bytes32 channelId, uint256 amount) external nonReentrant {
        Channel storage ch = _existing(channelId);
        if (msg.sender != ch.sender) revert NotChannelSender(channelId, msg.sender);
        if (ch.settled) revert ChannelAlreadySettled(channelId);
        if (ch.closeRequestedAt != 0) revert ChannelClosing(channelId, ch.closeRequestedAt + ch.challengeWindow);
        uint256 received = _pull(ch.token, amount);
        ch.deposit += received;
        emit ChannelToppedUp(channelId, msg.sender, received, ch.deposit);
    }

    /// @notice Redeems the sender's signed cumulative claim. Receiver only, any time until settled.
    /// Pays `min(cumulativeAmount, deposit) - claimed` (zero for a replayed older claim).
    /// With `close`, the channel also settles now and the sender gets the rest back.
    function claim(bytes32 channelId, uint256 cumulativeAmount, bytes calldata signature, bool close)
        external
        nonReentrant
    {
        Channel storage ch = _existing(channelId);
        if (msg.sender != ch.receiver) revert NotChannelReceiver(channelId, msg.sender);
        if (ch.settled) revert ChannelAlreadySettled(channelId);

        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(CLAIM_TYPEHASH, channelId, cumulativeAmount)));
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        if (err != ECDSA.RecoverError.NoError || signer != ch.sender) {
            revert InvalidClaimSignature(channelId, signer);
        }

        // Cap at the deposit instead of reverting, so an over-promise still pays what is there.
        uint256 payable_ = cumulativeAmount < ch.deposit ? cumulativeAmount : ch.deposit;
        uint256 paid = payable_ > ch.claimed ? payable_ - ch.claimed : 0;
        ch.claimed += paid;
        emit Claimed(channelId, msg.sender, cumulativeAmount, paid, ch.claimed);

        uint256 refund = 0;
        if (close) {
            ch.settled = true;
            refund = ch.deposit - ch.claimed;
            emit ChannelSettled(channelId, ch.claimed, refund);
        }
        if (paid > 0) ch.token.safeTransfer(ch.receiver, paid);
        if (refund > 0) ch.token.safeTransfer(ch.sender, refund);
    }

    /// @notice Starts the challenge window. Sender only. The receiver can still claim until settled.
    function startClose(bytes32 channelId) external nonReentrant {
        Channel storage ch = _existing(channelId);
        if (msg.sender != ch.sender) revert NotChannelSender(channelId, msg.sender);
        if (ch.settled) revert ChannelAlreadySettled(channelId);
        if (ch.closeRequestedAt != 0) revert ChannelClosing(channelId, ch.closeRequestedAt + ch.challengeWindow);
        ch.closeRequestedAt = uint64(block.timestamp);
        emit ClosureStarted(channelId, ch.sender, ch.receiver, ch.closeRequestedAt, ch.closeRequestedAt + ch.challengeWindow);
    }

    /// @notice After the challenge window, returns the unclaimed deposit to the sender and settles.
    function withdraw(bytes32 channelId) external nonReentrant {
        Channel storage ch = _existing(channelId);
        if (msg.sender != ch.sender) revert NotChannelSender(channelId, msg.sender);
        if (ch.settled) revert ChannelAlreadySettled(channelId);
        if (ch.closeRequestedAt == 0) revert CloseNotStarted(channelId);
        uint64 closesAt = ch.closeRequestedAt + ch.challengeWindow;
        if (block.timestamp < closesAt) revert ChallengeWindowActive(channelId, closesAt);

        ch.settled = true;
        uint256 refund = ch.deposit - ch.claimed;
        emit Withdrawn(channelId, ch.sender, refund);
        emit ChannelSettled(channelId, ch.claimed, refund);
        if (refund > 0) ch.token.safeTransfer(ch.sender, refund);
    }

    /// @notice The full state of a channel (all zero for an unknown id).
    function getChannel(bytes32 channelId) external view returns (Channel memory) {
        return _channels[channelId];
    }

    /// @notice The id the next channel from `sender` to `receiver` will get.
    function nextChannelId(address sender, address receiver) external view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), sender, receiver, channelCount[sender]));
    }

    /// @notice The EIP-712 digest the contract checks for a claim; lets clients self-test their signing.
    function claimDigest(bytes32 channelId, uint256 cumulativeAmount) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(CLAIM_TYPEHASH, channelId, cumulativeAmount)));
    }

    function _existing(bytes32 channelId) private view returns (Channel storage ch) {
        ch = _channels[channelId];
        if (ch.sender == address(0)) revert UnknownChannel(channelId);
    }

    function _pull(IERC20 token, uint256 amount) private returns (uint256 received) {
        if (amount == 0) revert ZeroAmount();
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        received = token.balanceOf(address(this)) - before;
        if (received == 0) revert ZeroAmount();
    }
}
