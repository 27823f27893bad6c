// src/ilp/stream against ilp-protocol-stream 2.7.1 as the oracle: packets and frames cross both ways, receipts are
// byte-identical, and malformed plaintexts are refused with IlpCodecError, never anything else.
import { randomBytes } from 'node:crypto';
import { generatePskEncryptionKey } from 'ilp-protocol-stream/dist/src/crypto.js';
import {
  ConnectionAssetDetailsFrame,
  ConnectionCloseFrame,
  ConnectionNewAddressFrame,
  Packet,
  StreamCloseFrame,
  StreamDataFrame,
  StreamMaxMoneyFrame,
  StreamMoneyFrame,
  type StreamReceiptFrame,
} from 'ilp-protocol-stream/dist/src/packet.js';
import { createReceipt as oracleReceipt } from 'ilp-protocol-stream/dist/src/util/receipt.js';
import { describe, expect, it } from 'vitest';
import { IlpCodecError } from '../../src/ilp/codec-error.js';
import {
  createReceipt,
  decryptStreamPacket,
  deserializeStreamPacket,
  encryptStreamPacket,
  FrameType,
  streamKeysOf,
} from '../../src/ilp/stream/index.js';

const secret = randomBytes(32);
const keys = streamKeysOf(secret);

describe('STREAM packets against ilp-protocol-stream', () => {
  it('derives the same encryption key and reads the frames the library writes (unknown ones skipped)', async () => {
    expect(Buffer.from(keys.encryptionKey).equals(await generatePskEncryptionKey(secret))).toBe(true);
    const packet = new Packet(7, 12, '123456789012345678', [
      new ConnectionNewAddressFrame('g.someone'),
      new ConnectionAssetDetailsFrame('M2M', 18),
      new StreamMoneyFrame(1, 3),
      new StreamMaxMoneyFrame(1, 100, 5), // not read by a receiver: skipped
      new StreamDataFrame(1, 0, Buffer.from('hi')),
      new StreamCloseFrame(1, 1, 'done'),
      new ConnectionCloseFrame(1, 'bye'),
    ]);
    const ours = decryptStreamPacket(
      keys.encryptionKey,
      await packet.serializeAndEncrypt(await generatePskEncryptionKey(secret)),
    )!;
    expect(ours.sequence).toBe(7n);
    expect(ours.ilpPacketType).toBe(12);
    expect(ours.prepareAmount).toBe(123456789012345678n);
    expect(ours.frames.map((f) => f.type)).toEqual([
      FrameType.ConnectionNewAddress,
      FrameType.ConnectionAssetDetails,
      FrameType.StreamMoney,
      FrameType.StreamData,
      FrameType.StreamClose,
      FrameType.ConnectionClose,
    ]);
    expect(ours.frames[2]).toEqual({ type: FrameType.StreamMoney, streamId: 1n, shares: 3n });
  });

  it('writes packets the library reads, receipts included, and with padding the library adds', async () => {
    const receipt = createReceipt({ nonce: randomBytes(16), secret: randomBytes(32) }, 1n, 42n)!;
    const data = encryptStreamPacket(keys.encryptionKey, {
      sequence: 9n,
      ilpPacketType: 13,
      prepareAmount: 42n,
      frames: [
        { type: FrameType.ConnectionAssetDetails, assetCode: 'M2M', assetScale: 18 },
        { type: FrameType.StreamMaxMoney, streamId: 1n, receiveMax: (1n << 64n) - 1n, totalReceived: 42n },
        { type: FrameType.StreamReceipt, streamId: 1n, receipt },
        { type: FrameType.StreamClose, streamId: 1n, code: 1, message: '' },
      ],
    });
    const p = await Packet.decryptAndDeserialize(await generatePskEncryptionKey(secret), Buffer.from(data));
    expect(p.sequence.toString()).toBe('9');
    expect(p.prepareAmount.toString()).toBe('42');
    expect(p.frames.map((f) => f.name)).toEqual([
      'ConnectionAssetDetails',
      'StreamMaxMoney',
      'StreamReceipt',
      'StreamClose',
    ]);
    expect((p.frames[1] as StreamMaxMoneyFrame).receiveMax.toString()).toBe('18446744073709551615');
    expect(Buffer.from((p.frames[2] as StreamReceiptFrame).receipt).equals(Buffer.from(receipt))).toBe(true);
    // A padded packet (the library pads when asked) still reads: bytes after the frames are ignored.
    const padded = await new Packet(1, 12, 0, [new StreamMoneyFrame(1, 1)]).serializeAndEncrypt(
      await generatePskEncryptionKey(secret),
      1000,
    );
    expect(decryptStreamPacket(keys.encryptionKey, padded)!.frames).toHaveLength(1);
  });

  it('makes receipts byte-identical to the library', () => {
    const nonce = randomBytes(16);
    const rsecret = randomBytes(32);
    for (const total of [0n, 1n, 10n ** 16n, (1n << 64n) - 1n]) {
      const ours = createReceipt({ nonce, secret: rsecret }, 3n, total)!;
      expect(
        Buffer.from(ours).equals(
          oracleReceipt({ nonce, secret: rsecret, streamId: 3, totalReceived: total.toString() }),
        ),
      ).toBe(true);
    }
    expect(createReceipt({ nonce, secret: rsecret }, 256n, 1n)).toBeUndefined();
  });

  it('refuses malformed plaintexts with IlpCodecError and returns undefined for data not under this key', () => {
    // version, ILP type, sequence (var-uint 1), prepare amount (var-uint 0), frame count, frames
    const head = [1, 12, 0x01, 0x01, 0x01, 0x00];
    const bad = [
      Uint8Array.of(2, ...head.slice(1), 0x01, 0x00), // version 2
      Uint8Array.of(1, 15, ...head.slice(2), 0x01, 0x00), // not an ILP packet type
      Uint8Array.of(...head, 0x01, 0x02), // two frames announced, none there
      Uint8Array.of(...head, 0x02, 0x02, 0x00), // 512 frames announced
      Uint8Array.of(...head, 0x01, 0x01, 0x11, 0x02, 0x01), // a money frame cut short
      Uint8Array.of(...head, 0x01, 0x01, 0x11, 0x02, 0x01, 0x01), // its contents lack the shares
      Uint8Array.of(...head, 0x01, 0x01, 0x02, 0x02, 0x01, 0xff), // an address that is not UTF-8
    ];
    for (const b of bad) {
      expect(() => deserializeStreamPacket(b)).toThrow(IlpCodecError);
    }
    expect(decryptStreamPacket(keys.encryptionKey, randomBytes(100))).toBeUndefined();
    expect(decryptStreamPacket(keys.encryptionKey, randomBytes(10))).toBeUndefined();
  });
});
