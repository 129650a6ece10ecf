/** A growable byte buffer for encoder output (amortized doubling, one copy at the end at most). */
export class ByteSink {
  buf: Uint8Array;
  pos = 0;

  constructor(initial = 1 << 16) {
    this.buf = new Uint8Array(Math.max(16, initial));
  }

  ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** The written bytes (a view while the sink lives; copy if the sink is reused). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
