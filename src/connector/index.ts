// Public API of the ILP connector. The node wires it up roughly like this:
//
//   const connector = await Connector.start({ address: 'g.crosstown.node1', settlement: {...}, http: spspHttp });
//   connector.addLocalRoute('g.crosstown.node1.relay', (p) => relay.handlePrepare(p));
//   const respond = createSpspResponder({ secretKey, connector, secrets, basePricePerByte, settlement, btpUrl, creditLimit });
//   // on each kind 23194 event addressed to the node: publish(respond(event))
//
// Mayors use BtpClient (connect, auth, sendPrepare, sendClaim, onPrepare/onClaim) with ClaimSender to pay and
// ClaimReceiver to check the node's claims. See docs/connector.md.
export { PeerAccount } from './accounts.js';
export { BtpClient, type BtpClientOptions } from './btp-client.js';
export { BTP_CLOSE, BtpServer, type BtpServerOptions } from './btp-server.js';
export { BtpSession, type BtpSessionHandlers } from './btp-session.js';
export { toBtpUrl, toWebSocketUrl } from './btp-url.js';
export { ClaimBudgets, type ClaimLimits, DEFAULT_CLAIM_LIMITS } from './claim-limits.js';
export {
  CLAIM_PROTOCOL,
  type ClaimMessage,
  decodeClaimMessage,
  encodeClaimMessage,
} from './claim-message.js';
export { ClaimReceiver, type ClaimReceiverOptions } from './claim-receiver.js';
export {
  ClaimSender,
  type ClaimSenderOptions,
  type ResyncOptions,
  type ResyncResult,
} from './claim-sender.js';
export {
  Connector,
  type ConnectorOptions,
  type ConnectorSettlementOptions,
  type RedeemReport,
} from './connector.js';
export { ConnectorError, type ConnectorErrorCode } from './errors.js';
export {
  decodeOwed,
  decodeOwedRequest,
  encodeOwed,
  encodeOwedRequest,
  MAX_OWED_CONDITIONS,
  OWED_PROTOCOL,
  type OwedStatus,
  type OwedStatusRequest,
  owedAmong,
} from './owed-message.js';
export { compose, type Middleware, type Next, type PacketContext } from './pipeline.js';
export { type ReceiverWatchOptions, watchReceiver } from './receiver-watch.js';
export { RoutingTable } from './routing.js';
export { createSpspHttpHandler, SPSP_CONTENT_TYPE } from './spsp-http.js';
export { createSpspResponder, type SpspResponder, type SpspResponderOptions } from './spsp-nostr.js';
export {
  type ChannelStatus,
  type ChannelStatusRequest,
  decodeStatus,
  decodeStatusRequest,
  encodeStatus,
  encodeStatusRequest,
  STATUS_PROTOCOL,
} from './status-message.js';
export {
  type ConnectorStore,
  MemoryConnectorStore,
  type OutgoingChannel,
  type UnpaidDirection,
  type UnpaidPacket,
} from './store.js';
export { type ConnectorStoreOptions, openConnectorStore, SqliteConnectorStore } from './store-sqlite.js';
export type { LocalHandler, NextHop, PacketSender, PeerBalance, PeerConfig } from './types.js';
export { UnpaidPackets } from './unpaid.js';
