/**
 * Reading and writing QuakeWorld message fields (little-endian): bytes, shorts, longs, floats,
 * null-terminated strings (kept as raw bytes: they are Quake charset), coords and angles.
 * Reading past the end throws ShortMessage, so a truncated or hostile packet stops its parser.
 */

export class ShortMessage extends Error {
  constructor() {
    super("message ended early");
    this.name = "ShortMessage";
  }
}

export class MsgReader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): number {
    if (this.pos + n > this.buf.length) throw new ShortMessage();
    const at = this.pos;
    this.pos += n;
    return at;
  }

  byte(): number {
    return this.buf.readUInt8(this.need(1));
  }
  char(): number {
    return this.buf.readInt8(this.need(1));
  }
  short(): number {
    return this.buf.readInt16LE(this.need(2));
  }
  ushort(): number {
    return this.buf.readUInt16LE(this.need(2));
  }
  long(): number {
    return this.buf.readInt32LE(this.need(4));
  }
  ulong(): number {
    return this.buf.readUInt32LE(this.need(4));
  }
  float(): number {
    return this.buf.readFloatLE(this.need(4));
  }
  coord(): number {
    return this.short() / 8;
  }
  angle(): number {
    return this.char() * (360 / 256);
  }
  angle16(): number {
    return this.short() * (360 / 65536);
  }
  skip(n: number): void {
    this.need(n);
  }

  /** A null-terminated string's raw bytes (the terminator consumed, not returned). */
  bytes0(): Buffer {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new ShortMessage();
    const out = this.buf.subarray(this.pos, end);
    this.pos = end + 1;
    return out;
  }

  /** A null-terminated string as one character per byte. */
  string(): string {
    return this.bytes0().toString("latin1");
  }
}

export class MsgWriter {
  private parts: Buffer[] = [];

  byte(v: number): this {
    return this.put(1, (b) => b.writeUInt8(v & 0xff));
  }
  short(v: number): this {
    return this.put(2, (b) => b.writeInt16LE(v));
  }
  ushort(v: number): this {
    return this.put(2, (b) => b.writeUInt16LE(v & 0xffff));
  }
  long(v: number): this {
    return this.put(4, (b) => b.writeInt32LE(v | 0));
  }
  ulong(v: number): this {
    return this.put(4, (b) => b.writeUInt32LE(v >>> 0));
  }
  string(s: string): this {
    this.parts.push(Buffer.from(s, "latin1"), Buffer.from([0]));
    return this;
  }
  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }

  private put(n: number, write: (b: Buffer) => void): this {
    const b = Buffer.alloc(n);
    write(b);
    this.parts.push(b);
    return this;
  }

  get length(): number {
    return this.parts.reduce((n, p) => n + p.length, 0);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** A connectionless ("out of band") packet: four 0xff bytes, then the text. */
export function oob(text: string | Buffer): Buffer {
  return Buffer.concat([
    Buffer.from([0xff, 0xff, 0xff, 0xff]),
    typeof text === "string" ? Buffer.from(text, "latin1") : text,
  ]);
}

/** True when a packet is connectionless (starts with four 0xff bytes). */
export const isOob = (b: Buffer): boolean => b.length >= 5 && b.readUInt32LE(0) === 0xffffffff;
