// Canonical OER (RFC 0030) reader and writer: just the shapes ILPv4, BTP and ILDCP use.
// The reader is strict: every length must be in its shortest form, nothing may run past the end,
// and `assertEnd()` rejects bytes left over.
import { IlpCodecError } from './codec-error.js';

const MAX_UINT64 = (1n << 64n) - 1n;

export class OerReader {
  private pos = 0;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(input: Uint8Array) {
    // A plain Uint8Array view even when given a Node Buffer: Buffer#slice shares memory, and decoded
    // fields must be independent copies of type Uint8Array.
    this.bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    this.view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.bytes.length - this.pos) {
      throw new IlpCodecError(
        'OER_TRUNCATED',
        `${what} needs ${n} bytes at offset ${this.pos} but only ${this.remaining} remain; the input is cut short`,
      );
    }
  }

  readUInt8(what = 'uint8'): number {
    this.need(1, what);
    return this.bytes[this.pos++] as number;
  }

  readUInt16(what = 'uint16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  readUInt32(what = 'uint32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  readUInt64(what = 'uint64'): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  /** `n` bytes as a copy, so callers may keep them after the input buffer is reused. */
  readOctets(n: number, what = 'octets'): Uint8Array {
    this.need(n, what);
    const out = new Uint8Array(n);
    out.set(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /**
   * A length determinant as a bigint, without checking it against the input (RFC 0030: short form
   * 0..127 in one byte; long form 0x80|n followed by n big-endian bytes, only for values >= 128 and
   * with no leading zero byte).
   */
  readLengthDeterminant(what = 'length'): bigint {
    const first = this.readUInt8(what);
    if (first < 0x80) return BigInt(first);
    const n = first & 0x7f;
    if (n === 0) {
      throw new IlpCodecError(
        'OER_NON_CANONICAL_LENGTH',
        `${what}: length-of-length 0 (0x80) is not allowed in OER`,
      );
    }
    this.need(n, what);
    if (this.bytes[this.pos] === 0) {
      throw new IlpCodecError(
        'OER_NON_CANONICAL_LENGTH',
        `${what}: long-form length has a leading zero byte`,
      );
    }
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.bytes[this.pos++] as number);
    if (v < 128n) {
      throw new IlpCodecError(
        'OER_NON_CANONICAL_LENGTH',
        `${what}: length ${v} must use the one-byte short form`,
      );
    }
    return v;
  }

  /** A length prefix that must fit in the remaining input. */
  readLengthPrefix(what = 'length'): number {
    // Fast path without bigint for the short form, which nearly every field uses.
    const first = this.bytes[this.pos];
    let len: number | bigint;
    if (first !== undefined && first < 0x80) {
      this.pos++;
      len = first;
    } else {
      len = this.readLengthDeterminant(what);
    }
    if (len > this.remaining) {
      throw new IlpCodecError(
        'OER_TRUNCATED',
        `${what} says ${len} bytes at offset ${this.pos} but only ${this.remaining} remain; the input is cut short`,
      );
    }
    return Number(len);
  }

  readVarOctetString(what = 'var-octet-string'): Uint8Array {
    return this.readOctets(this.readLengthPrefix(what), what);
  }

  /** Length-prefixed big-endian unsigned integer in its shortest form (at least one byte). */
  readVarUInt(what = 'var-uint'): bigint {
    const len = this.readLengthPrefix(what);
    if (len === 0)
      throw new IlpCodecError('OER_NON_CANONICAL_INT', `${what}: a var-uint needs at least one byte`);
    if (len > 1 && this.bytes[this.pos] === 0) {
      throw new IlpCodecError('OER_NON_CANONICAL_INT', `${what}: var-uint has a leading zero byte`);
    }
    let v = 0n;
    for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(this.bytes[this.pos++] as number);
    return v;
  }

  /** Throws unless every byte was consumed: OER has no room for trailing garbage. */
  assertEnd(what = 'input'): void {
    if (this.remaining !== 0) {
      throw new IlpCodecError(
        'OER_TRAILING_BYTES',
        `${what} has ${this.remaining} unexpected bytes after offset ${this.pos}; remove them`,
      );
    }
  }
}

export class OerWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.pos;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  writeUInt8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff)
      throw new IlpCodecError('OER_RANGE', `uint8 out of range: ${v}`);
    this.reserve(1);
    this.buf[this.pos++] = v;
    return this;
  }

  writeUInt16(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff)
      throw new IlpCodecError('OER_RANGE', `uint16 out of range: ${v}`);
    this.reserve(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
    return this;
  }

  writeUInt32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new IlpCodecError('OER_RANGE', `uint32 out of range: ${v}`);
    }
    this.reserve(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
    return this;
  }

  writeUInt64(v: bigint): this {
    if (typeof v !== 'bigint' || v < 0n || v > MAX_UINT64) {
      throw new IlpCodecError(
        'OER_RANGE',
        `uint64 out of range: ${String(v)} (must be a bigint in 0..2^64-1)`,
      );
    }
    this.reserve(8);
    this.view.setBigUint64(this.pos, v);
    this.pos += 8;
    return this;
  }

  writeOctets(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  writeLengthPrefix(len: number): this {
    if (!Number.isSafeInteger(len) || len < 0) throw new IlpCodecError('OER_RANGE', `bad length: ${len}`);
    if (len < 0x80) return this.writeUInt8(len);
    // Long form with number arithmetic (no bigint per frame: most BTP frames are longer than 127 bytes).
    let n = 0;
    for (let v = len; v > 0; v = Math.floor(v / 256)) n++;
    this.writeUInt8(0x80 | n);
    this.reserve(n);
    for (let i = n - 1, v = len; i >= 0; i--, v = Math.floor(v / 256)) this.buf[this.pos + i] = v % 256;
    this.pos += n;
    return this;
  }

  writeVarOctetString(bytes: Uint8Array): this {
    this.writeLengthPrefix(bytes.length);
    return this.writeOctets(bytes);
  }

  writeVarUInt(v: bigint): this {
    if (typeof v !== 'bigint' || v < 0n)
      throw new IlpCodecError('OER_RANGE', `var-uint must be a non-negative bigint`);
    return this.writeVarOctetString(v === 0n ? new Uint8Array(1) : bigToBytes(v));
  }

  /** The bytes written so far (a view; the writer should not be used afterwards). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/** Minimal big-endian bytes of a positive bigint. */
function bigToBytes(v: bigint): Uint8Array {
  const hex = v.toString(16);
  return Uint8Array.from(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex'));
}
