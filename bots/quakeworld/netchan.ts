/**
 * The client side of QuakeWorld's netchan: sequenced packets over UDP, with one reliable
 * message in flight at a time (resent until the server acknowledges it by flipping a bit).
 * Pure bookkeeping: `transmit` builds the next packet, `process` checks an incoming one and
 * returns its payload, or undefined for a stale, duplicate or malformed packet.
 */
import { MsgWriter } from "./msg.js";

/** The most reliable bytes we keep waiting; more means the server is not reading us. */
const MAX_RELIABLE_BACKLOG = 8192;
const MAX_PACKET = 1400;

export class Netchan {
  private outgoingSequence = 1;
  private incomingSequence = 0;
  private incomingAcknowledged = 0;
  private incomingReliableAcknowledged = 0;
  private incomingReliableSequence = 0;
  private reliableSequence = 0;
  private lastReliableSequence = 0;
  /** The reliable message in flight, and what queues behind it. */
  private reliableBuf = Buffer.alloc(0);
  private pending: Buffer[] = [];

  constructor(readonly qport: number) {}

  /** Queues a reliable message (a client command). Returns false when the backlog is full. */
  queueReliable(data: Buffer): boolean {
    const backlog = this.pending.reduce((n, p) => n + p.length, this.reliableBuf.length);
    if (backlog + data.length > MAX_RELIABLE_BACKLOG) return false;
    this.pending.push(data);
    return true;
  }

  /** The next packet to send, with `unreliable` appended when it fits. */
  transmit(unreliable: Buffer = Buffer.alloc(0)): Buffer {
    let sendReliable = false;
    // The server has seen a packet newer than our last reliable one, but not flipped its bit: resend.
    if (
      this.incomingAcknowledged > this.lastReliableSequence &&
      this.incomingReliableAcknowledged !== this.reliableSequence
    ) {
      sendReliable = true;
    }
    if (this.reliableBuf.length === 0 && this.pending.length > 0) {
      const take: Buffer[] = [];
      let size = 0;
      while (this.pending.length > 0 && size + this.pending[0]!.length <= MAX_PACKET - 16) {
        size += this.pending[0]!.length;
        take.push(this.pending.shift()!);
      }
      if (take.length === 0) take.push(this.pending.shift()!.subarray(0, MAX_PACKET - 16));
      this.reliableBuf = Buffer.concat(take);
      this.reliableSequence ^= 1;
      sendReliable = true;
    }
    const w = new MsgWriter();
    w.ulong((this.outgoingSequence | (sendReliable ? 0x80000000 : 0)) >>> 0);
    w.ulong((this.incomingSequence | (this.incomingReliableSequence << 31)) >>> 0);
    w.ushort(this.qport);
    if (sendReliable) {
      w.raw(this.reliableBuf);
      this.lastReliableSequence = this.outgoingSequence;
    }
    if (w.length + unreliable.length <= MAX_PACKET) w.raw(unreliable);
    this.outgoingSequence++;
    return w.toBuffer();
  }

  /** The payload of a packet from the server, or undefined to drop it. */
  process(packet: Buffer): Buffer | undefined {
    if (packet.length < 8) return undefined;
    let sequence = packet.readUInt32LE(0);
    let sequenceAck = packet.readUInt32LE(4);
    const reliableMessage = sequence >>> 31;
    const reliableAck = sequenceAck >>> 31;
    sequence &= 0x7fffffff;
    sequenceAck &= 0x7fffffff;
    if (sequence <= this.incomingSequence) return undefined; // duplicate or out of order
    if (sequenceAck >= this.outgoingSequence) return undefined; // acknowledges something we never sent: forged
    if (reliableAck === this.reliableSequence) this.reliableBuf = Buffer.alloc(0);
    this.incomingSequence = sequence;
    this.incomingAcknowledged = sequenceAck;
    this.incomingReliableAcknowledged = reliableAck;
    if (reliableMessage) this.incomingReliableSequence ^= 1;
    return packet.subarray(8);
  }
}
