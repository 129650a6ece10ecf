/** uid/gid lookup table: inodes hold a u16 index into a list of u32 ids (first use first). */
import { invalidInput } from '../../core/errors.js';

export class IdTable {
  private readonly ids: number[] = [];
  private readonly index = new Map<number, number>();

  indexOf(id: number): number {
    let i = this.index.get(id);
    if (i === undefined) {
      if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw invalidInput('E_SQUASHFS_ID', `uid/gid ${id} out of range`);
      if (this.ids.length === 65536) throw invalidInput('E_SQUASHFS_LIMIT', 'more than 65536 distinct uids/gids');
      i = this.ids.length;
      this.ids.push(id);
      this.index.set(id, i);
    }
    return i;
  }

  get count(): number {
    return this.ids.length;
  }

  encodeRecords(): Buffer {
    const b = Buffer.alloc(4 * this.ids.length);
    this.ids.forEach((id, i) => b.writeUInt32LE(id, 4 * i));
    return b;
  }
}
