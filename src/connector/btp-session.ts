// One authenticated BTP 2.0 connection, from either end: request/response correlation by requestId,
// ILP PREPAREs in Messages (`ilp` protocol data) answered by Responses, and `payment-channel-claim` Messages.
// A bad frame is answered with a BTP Error and never throws out of the socket handler.
import type { Hex } from 'viem';
import type { WebSocket } from 'ws';
import {
  BtpContentType,
  type BtpPacket,
  BtpPacketType,
  type BtpProtocolData,
  deserializeBtpPacket,
  getProtocolData,
  serializeBtpPacket,
} from '../ilp/btp.js';
import { IlpErrorCode, rejectOf } from '../ilp/errors.js';
import { verifyFulfillment } from '../ilp/fulfillment.js';
import { deserializeIlpPacket, deserializeIlpReply, serializeIlpPacket } from '../ilp/packet.js';
import { IlpPacketType, type IlpPrepare, type IlpReply } from '../ilp/types.js';
import { type Corkable, TickCork } from '../transport/tick-cork.js';
import { mark, tracing } from '../transport/trace.js';
import {
  CLAIM_PROTOCOL,
  type ClaimMessage,
  decodeClaimMessage,
  encodeClaimMessage,
} from './claim-message.js';
import { ConnectorError } from './errors.js';
import {
  decodeOwed,
  decodeOwedRequest,
  encodeOwed,
  encodeOwedRequest,
  OWED_PROTOCOL,
  type OwedStatus,
} from './owed-message.js';
import {
  type ChannelStatus,
  decodeStatus,
  decodeStatusRequest,
  encodeStatus,
  encodeStatusRequest,
  STATUS_PROTOCOL,
} from './status-message.js';

export interface BtpSessionHandlers {
  /** Answers an incoming PREPARE; should not throw (a throw becomes T00). */
  onPrepare?: (prepare: IlpPrepare) => Promise<IlpReply>;
  /** Accepts an incoming claim; throw to answer a BTP Error carrying the message. */
  onClaim?: (msg: ClaimMessage) => Promise<void>;
  /** Answers a `payment-channel-status` request about one of the peer's channels; throw to refuse (BTP Error). */
  onStatus?: (channelId: Hex) => Promise<ChannelStatus>;
  /** Answers a `payment-owed-status` request: which of these packets of the peer we hold as owed; throw to refuse. */
  onOwed?: (conditions: string[]) => Promise<OwedStatus>;
}

interface Pending {
  resolve: (p: BtpPacket) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const utf8 = new TextEncoder();

export class BtpSession {
  private readonly pending = new Map<number, Pending>();
  private nextId = Math.floor(Math.random() * 2 ** 31);
  private closed = false;
  private readonly cork: TickCork;
  /** Frames being handled (a PREPARE, claim or status request we have not answered yet). */
  private answering = 0;
  private onAnswered: (() => void) | undefined;

  constructor(
    readonly ws: WebSocket,
    private readonly handlers: BtpSessionHandlers,
    /** Our ILP address, the triggeredBy of rejects we make up here. */
    private readonly address = '',
  ) {
    ws.on('close', () => this.failAll('the BTP connection closed'));
    // ws keeps its TCP (or TLS) socket in `_socket` once connected.
    this.cork = new TickCork(() => (ws as unknown as { _socket?: Corkable | null })._socket);
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === this.ws.OPEN;
  }

  /** Sends a PREPARE and resolves with the FULFILL or REJECT; rejects with ConnectorError on timeout/close. */
  async sendPrepare(prepare: IlpPrepare, timeoutMs: number): Promise<IlpReply> {
    if (tracing) mark(`btp ${this.address} send PREPARE ${prepare.amount} -> ${prepare.destination}`);
    const reply = await this.request(
      [{ protocolName: 'ilp', contentType: BtpContentType.OctetStream, data: serializeIlpPacket(prepare) }],
      timeoutMs,
    );
    const ilp = getProtocolData(reply, 'ilp');
    if (!ilp) throw new ConnectorError('BTP_BAD_FRAME', 'peer answered a PREPARE without an ilp packet');
    if (tracing) mark(`btp ${this.address} got reply`);
    const answer = deserializeIlpReply(ilp.data);
    // The sender checks too (every hop of ours does): a fulfillment that does not hash to the condition proves
    // nothing was delivered, and whoever took the FULFILL as proof would owe the amount for nothing.
    if (
      answer.type === IlpPacketType.Fulfill &&
      !verifyFulfillment(answer.fulfillment, prepare.executionCondition)
    )
      return rejectOf(
        IlpErrorCode.F05_WRONG_CONDITION,
        'the peer returned a fulfillment that does not hash to the execution condition; not counted as paid',
        this.address,
      );
    return answer;
  }

  /** Sends a claim; resolves when the peer accepted it, rejects with its reason otherwise. */
  async sendClaim(msg: ClaimMessage, timeoutMs = 30_000): Promise<void> {
    await this.request([encodeClaimMessage(msg)], timeoutMs);
  }

  /** Asks the peer what it accepted on our channel and what we owe it (`payment-channel-status`). */
  async requestStatus(channelId: Hex, timeoutMs = 30_000): Promise<ChannelStatus> {
    const reply = await this.request([encodeStatusRequest({ channelId })], timeoutMs);
    const status = getProtocolData(reply, STATUS_PROTOCOL);
    if (!status)
      throw new ConnectorError('STATUS_MALFORMED', 'peer answered a status request without status data');
    const s = decodeStatus(status.data);
    if (s.channelId.toLowerCase() !== channelId.toLowerCase())
      throw new ConnectorError(
        'STATUS_MALFORMED',
        `peer answered about channel ${s.channelId}, not ${channelId}`,
      );
    return s;
  }

  /** Asks the peer which of these packets (fulfilled by us) it holds as owed to us (`payment-owed-status`). */
  async requestOwed(conditions: string[], timeoutMs = 5_000): Promise<OwedStatus> {
    const reply = await this.request([encodeOwedRequest({ conditions })], timeoutMs);
    const owed = getProtocolData(reply, OWED_PROTOCOL);
    if (!owed)
      throw new ConnectorError('OWED_MALFORMED', 'peer answered an owed-status request without owed data');
    const answer = decodeOwed(owed.data);
    // An answer about packets we did not ask for is not an answer to our question.
    const asked = new Map<string, number>();
    for (const c of conditions) asked.set(c, (asked.get(c) ?? 0) + 1);
    for (const p of answer.owed) {
      const n = asked.get(p.condition) ?? 0;
      if (n === 0)
        throw new ConnectorError('OWED_MALFORMED', `peer answered about packet ${p.condition}, not asked`);
      asked.set(p.condition, n - 1);
    }
    return answer;
  }

  /** Sends a Message and awaits its Response (a BTP Error rejects with BTP_REMOTE_ERROR). */
  request(protocolData: BtpProtocolData[], timeoutMs: number): Promise<BtpPacket> {
    if (!this.isOpen)
      return Promise.reject(new ConnectorError('BTP_CLOSED', 'the BTP connection is not open'));
    const requestId = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    return new Promise<BtpPacket>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new ConnectorError('BTP_TIMEOUT', `no BTP response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      this.send({ type: BtpPacketType.Message, requestId, protocolData });
    });
  }

  /** Handles one binary frame from the socket. Never throws. */
  async handleFrame(bytes: Uint8Array): Promise<void> {
    let packet: BtpPacket;
    try {
      packet = deserializeBtpPacket(bytes);
    } catch (err) {
      // Echo the requestId when the header is readable, so the peer can match the error.
      const id = bytes.length >= 5 ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(1) : 0;
      this.sendError(id, 'F01', 'InvalidFieldsError', `malformed BTP frame: ${(err as Error).message}`);
      return;
    }
    this.answering++;
    try {
      await this.dispatch(packet);
    } catch (err) {
      this.sendError(
        packet.requestId,
        'T00',
        'UnreachableError',
        `internal error: ${(err as Error).message}`,
      );
    } finally {
      if (--this.answering === 0) this.onAnswered?.();
    }
  }

  /**
   * Resolves once every frame being handled has been answered, or after `maxMs`: a graceful close answers what it
   * already accepted (a claim recorded but never answered leaves the payer unsure until its next session).
   */
  answered(maxMs: number): Promise<void> {
    if (this.answering === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, maxMs);
      timer.unref();
      const previous = this.onAnswered;
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.onAnswered = () => {
        previous?.();
        done();
      };
    });
  }

  close(code = 1000, reason = 'closing'): void {
    this.closed = true;
    this.failAll('the BTP connection was closed');
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
  }

  private async dispatch(packet: BtpPacket): Promise<void> {
    switch (packet.type) {
      case BtpPacketType.Response:
      case BtpPacketType.Error: {
        const p = this.pending.get(packet.requestId);
        if (!p) return; // late answer after a timeout: nothing waits for it
        this.pending.delete(packet.requestId);
        clearTimeout(p.timer);
        if (packet.type === BtpPacketType.Response) p.resolve(packet);
        else
          p.reject(
            new ConnectorError(
              'BTP_REMOTE_ERROR',
              `peer answered BTP Error ${packet.code} ${packet.name}: ${new TextDecoder().decode(packet.data)}`,
            ),
          );
        return;
      }
      case BtpPacketType.Message:
        return this.onMessage(packet.requestId, packet.protocolData);
      default:
        this.sendError(
          packet.requestId,
          'F01',
          'InvalidFieldsError',
          `BTP type ${packet.type} is not supported here: send ILP packets in a Message (type 6) with 'ilp' protocol data`,
        );
    }
  }

  private async onMessage(requestId: number, protocolData: BtpProtocolData[]): Promise<void> {
    const ilp = protocolData.find((d) => d.protocolName === 'ilp');
    if (ilp) {
      if (tracing) mark(`btp ${this.address} recv PREPARE`);
      const reply = await this.answerIlp(ilp.data);
      if (tracing) mark(`btp ${this.address} send reply type ${reply.type}`);
      this.send({
        type: BtpPacketType.Response,
        requestId,
        protocolData: [
          { protocolName: 'ilp', contentType: BtpContentType.OctetStream, data: serializeIlpPacket(reply) },
        ],
      });
      return;
    }
    const claim = protocolData.find((d) => d.protocolName === CLAIM_PROTOCOL);
    if (claim) {
      if (!this.handlers.onClaim) {
        this.refuse(requestId, 'this endpoint does not accept payment-channel claims');
        return;
      }
      try {
        if (tracing) mark(`btp ${this.address} recv claim`);
        await this.handlers.onClaim(decodeClaimMessage(claim.data));
        if (tracing) mark(`btp ${this.address} claim accepted`);
      } catch (err) {
        this.refuseFor(requestId, 'claim', err);
        return;
      }
      this.send({ type: BtpPacketType.Response, requestId, protocolData: [] });
      return;
    }
    const status = protocolData.find((d) => d.protocolName === STATUS_PROTOCOL);
    if (status) return this.answerStatus(requestId, status.data);
    const owed = protocolData.find((d) => d.protocolName === OWED_PROTOCOL);
    if (owed) return this.answerOwed(requestId, owed.data);
    if (protocolData[0]?.protocolName === 'auth') {
      // A repeated auth on an authenticated connection is harmless: acknowledge it.
      this.send({ type: BtpPacketType.Response, requestId, protocolData: [] });
      return;
    }
    const names = protocolData.map((d) => d.protocolName).join(', ') || 'none';
    this.refuse(requestId, `no supported protocol data (got: ${names}); expected ilp`);
  }

  private async answerStatus(requestId: number, data: Uint8Array): Promise<void> {
    if (!this.handlers.onStatus) {
      this.refuse(requestId, 'this endpoint does not answer payment-channel-status');
      return;
    }
    let answer: ChannelStatus;
    try {
      answer = await this.handlers.onStatus(decodeStatusRequest(data).channelId);
    } catch (err) {
      this.refuseFor(requestId, 'status', err);
      return;
    }
    this.send({ type: BtpPacketType.Response, requestId, protocolData: [encodeStatus(answer)] });
  }

  private async answerOwed(requestId: number, data: Uint8Array): Promise<void> {
    if (!this.handlers.onOwed) {
      this.refuse(requestId, 'this endpoint does not answer payment-owed-status');
      return;
    }
    let answer: OwedStatus;
    try {
      answer = await this.handlers.onOwed(decodeOwedRequest(data).conditions);
    } catch (err) {
      this.refuseFor(requestId, 'owed status', err);
      return;
    }
    this.send({ type: BtpPacketType.Response, requestId, protocolData: [encodeOwed(answer)] });
  }

  private async answerIlp(data: Uint8Array): Promise<IlpReply> {
    let packet: ReturnType<typeof deserializeIlpPacket>;
    try {
      packet = deserializeIlpPacket(data);
    } catch (err) {
      return rejectOf(
        IlpErrorCode.F01_INVALID_PACKET,
        `invalid ILP packet: ${(err as Error).message}`,
        this.address,
      );
    }
    if (packet.type !== IlpPacketType.Prepare) {
      return rejectOf(
        IlpErrorCode.F01_INVALID_PACKET,
        'expected an ILP PREPARE in a BTP Message',
        this.address,
      );
    }
    if (!this.handlers.onPrepare) {
      return rejectOf(IlpErrorCode.F02_UNREACHABLE, 'this endpoint does not accept payments', this.address);
    }
    try {
      return await this.handlers.onPrepare(packet);
    } catch (err) {
      return rejectOf(
        IlpErrorCode.T00_INTERNAL_ERROR,
        `internal error: ${(err as Error).message}`,
        this.address,
      );
    }
  }

  /** A claim or status the handler threw for: T05 RateLimitedError when over budget (retry later), F00 otherwise. */
  private refuseFor(requestId: number, what: 'claim' | 'status' | 'owed status', err: unknown): void {
    const code = (err as { code?: string }).code ?? 'ERROR';
    if (code === 'RATE_LIMITED') this.sendError(requestId, 'T05', 'RateLimitedError', (err as Error).message);
    else this.refuse(requestId, `${what} refused (${code}): ${(err as Error).message}`);
  }

  /** A request this endpoint will not serve: BTP error F00 NotAcceptedError with the reason in words. */
  private refuse(requestId: number, message: string): void {
    this.sendError(requestId, 'F00', 'NotAcceptedError', message);
  }

  private sendError(requestId: number, code: string, name: string, message: string): void {
    const data = utf8.encode(message).subarray(0, 8192);
    this.send({
      type: BtpPacketType.Error,
      requestId,
      code,
      name,
      triggeredAt: new Date(),
      data,
      protocolData: [],
    });
  }

  private send(packet: BtpPacket): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const frame = serializeBtpPacket(packet);
    this.cork.hold();
    this.ws.send(frame);
  }

  private failAll(why: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ConnectorError('BTP_CLOSED', why));
      this.pending.delete(id);
    }
  }
}
