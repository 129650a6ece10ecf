/** A minimal DER walker for tests (tag, length, children), independent of the ASN.1 library. */
export interface Tlv {
  tag: number;
  /** Whole element (tag + length + value). */
  raw: Buffer;
  value: Buffer;
}

export function readTlv(buf: Buffer, at = 0): Tlv {
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = buf.readUIntBE(at + 2, n);
    head += n;
  }
  return { tag, raw: buf.subarray(at, at + head + len), value: buf.subarray(at + head, at + head + len) };
}

export function children(value: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < value.length; ) {
    const t = readTlv(value, at);
    out.push(t);
    at += t.raw.length;
  }
  return out;
}

/** The DER SET the signer signed: the SignerInfo's [0] IMPLICIT attributes re-tagged as SET (0x31). */
export function signedAttributesSet(signerInfoDer: Buffer): Buffer {
  const attrs = children(readTlv(signerInfoDer).value).find((c) => c.tag === 0xa0)!;
  const set = Buffer.from(attrs.raw);
  set[0] = 0x31;
  return set;
}
