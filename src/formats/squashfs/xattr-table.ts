/**
 * Extended attributes (squashfs-tools-ng doc/format.adoc "Extended Attribute Table").
 *
 * Each distinct attribute set is written once to a key/value metadata stream: per attribute a key
 * {prefix id u16, name length u16, name without prefix} and a value {size u32, bytes}. A lookup table
 * of {kv ref u64, count u32, size u32} gives the set of each xattr id. The superblock points at a
 * header {kv start u64, id count u32, unused u32} followed by the u64 locations of the lookup pieces.
 * Identical sets share one id; values are stored inline.
 */
import { invalidInput, unsupported } from '../../core/errors.js';
import type { SquashfsBlockCompressor } from './compressor.js';
import { XATTR_PREFIXES } from './constants.js';
import { MetadataWriter, packLookupTable } from './metadata-block.js';

export type XattrSet = Record<string, Uint8Array>;

function splitKey(key: string): { prefix: number; rest: Buffer } {
  const prefix = XATTR_PREFIXES.findIndex((p) => key.startsWith(p));
  if (prefix < 0) throw unsupported('E_SQUASHFS_XATTR', `xattr ${JSON.stringify(key)}: squashfs only stores user., trusted. and security. attributes`);
  const rest = Buffer.from(key.slice(XATTR_PREFIXES[prefix]!.length), 'utf8');
  if (rest.byteLength === 0 || rest.byteLength > 255) throw invalidInput('E_SQUASHFS_XATTR', `xattr name ${JSON.stringify(key)} has an invalid length`);
  return { prefix, rest };
}

/** Serialise one set (sorted by key for a canonical form). */
function encodeSet(set: XattrSet): { bytes: Buffer; count: number } {
  const keys = Object.keys(set).sort();
  const parts: Buffer[] = [];
  for (const key of keys) {
    const { prefix, rest } = splitKey(key);
    const value = set[key]!;
    if (value.byteLength > 65536) throw invalidInput('E_SQUASHFS_XATTR', `xattr ${key} value is larger than 64 KiB`);
    const k = Buffer.alloc(4);
    k.writeUInt16LE(prefix, 0);
    k.writeUInt16LE(rest.byteLength, 2);
    const v = Buffer.alloc(4);
    v.writeUInt32LE(value.byteLength, 0);
    parts.push(k, rest, v, Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
  return { bytes: Buffer.concat(parts), count: keys.length };
}

export class XattrTable {
  private readonly sets: Array<{ bytes: Buffer; count: number }> = [];
  private readonly ids = new Map<string, number>();

  /** The xattr id of a set (shared by identical sets); call in a deterministic order. */
  idOf(set: XattrSet): number {
    const enc = encodeSet(set);
    const key = enc.bytes.toString('latin1');
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.sets.length;
      this.sets.push(enc);
      this.ids.set(key, id);
    }
    return id;
  }

  get count(): number {
    return this.sets.length;
  }

  /**
   * The whole xattr area to be written at absolute `offset`, and the absolute position of its header
   * (the superblock's xattr table field).
   */
  async pack(offset: number, compressor: SquashfsBlockCompressor): Promise<{ bytes: Buffer; headerOffset: number }> {
    const kv = new MetadataWriter(compressor);
    const records = Buffer.alloc(16 * this.sets.length);
    for (let i = 0; i < this.sets.length; i++) {
      const { block, offset: off } = kv.ref;
      records.writeBigUInt64LE((BigInt(block) << 16n) | BigInt(off), 16 * i);
      records.writeUInt32LE(this.sets[i]!.count, 16 * i + 8);
      records.writeUInt32LE(this.sets[i]!.bytes.byteLength, 16 * i + 12);
      await kv.append(this.sets[i]!.bytes);
    }
    const kvBytes = Buffer.concat(await kv.finish());
    const lookup = await packLookupTable(records, offset + kvBytes.byteLength, compressor);
    // packLookupTable appends the location list right after the pieces; the header goes between.
    const piecesLen = lookup.listOffset - (offset + kvBytes.byteLength);
    const pieces = lookup.bytes.subarray(0, piecesLen);
    const list = lookup.bytes.subarray(piecesLen);
    const header = Buffer.alloc(16);
    header.writeBigUInt64LE(BigInt(offset), 0);
    header.writeUInt32LE(this.sets.length, 8);
    const headerOffset = offset + kvBytes.byteLength + pieces.byteLength;
    return { bytes: Buffer.concat([kvBytes, pieces, header, list]), headerOffset };
  }
}
