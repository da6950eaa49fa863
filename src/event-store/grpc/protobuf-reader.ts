// Protobuf's wire format, read forward: the few steps the hand-written Subscribe response
// reader needs (varints, length-delimited fields, skipping what it does not know).

/** Reads between `at` and `end`; throws on bytes that are not protobuf. */
export class ProtobufReader {
  constructor(
    private readonly buffer: Buffer,
    private at: number,
    private readonly end: number,
  ) {}

  more(): boolean {
    return this.at < this.end;
  }

  /** Up to 64 bits; past 2^53 the number is rounded, but never down to a safe integer. */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let groups = 0; groups < 10; groups++) {
      if (this.at >= this.end) throw new Error('a number is cut short');
      const byte = this.buffer[this.at++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    throw new Error('a number runs past 64 bits');
  }

  /** A uint32: the low 32 bits of the varint, as protobuf reads it, however long it is. */
  uint32(): number {
    let value = 0;
    for (let groups = 0; groups < 10; groups++) {
      if (this.at >= this.end) throw new Error('a number is cut short');
      const byte = this.buffer[this.at++]!;
      // Bits past the 32nd fall off the shift, as they should.
      if (groups < 5) value = (value | ((byte & 0x7f) << (7 * groups))) >>> 0;
      if (byte < 0x80) return value;
    }
    throw new Error('a number runs past 64 bits');
  }

  uint64(field: string): number {
    const value = this.varint();
    if (value > Number.MAX_SAFE_INTEGER) {
      throw new Error(`${field}: about ${value.toExponential(3)}, beyond ${Number.MAX_SAFE_INTEGER}, the largest supported value`);
    }
    return value;
  }

  /** A length-delimited field's bounds, the reader moved past it. */
  private span(): [number, number] {
    const length = this.varint();
    const start = this.at;
    if (start + length > this.end) throw new Error('a field is longer than its message');
    this.at = start + length;
    return [start, start + length];
  }

  text(): string {
    const [start, end] = this.span();
    return this.buffer.toString('utf8', start, end);
  }

  /** A view into the response, not a copy: the response is the event's alone. */
  bytes(): Uint8Array {
    const [start, end] = this.span();
    return this.buffer.subarray(start, end);
  }

  sub(): ProtobufReader {
    const [start, end] = this.span();
    return new ProtobufReader(this.buffer, start, end);
  }

  /** A field this reader does not know, or knows with another wire type: passed over. */
  skip(tag: number): void {
    switch (tag % 8) {
      case 0:
        this.varint();
        return;
      case 1:
        this.at += 8;
        break;
      case 2:
        this.span();
        return;
      case 5:
        this.at += 4;
        break;
      default:
        throw new Error(`wire type ${tag % 8} is not used by this protocol`);
    }
    if (this.at > this.end) throw new Error('a field is longer than its message');
  }
}
