/**
 * FAT12/16/32 reader for checking images and for `imagekit inspect`: parses and checks the boot
 * sector, follows cluster chains with bounds and loop checks, decodes VFAT long names (checksums and
 * ordinals verified), and streams file content. Every number read from the image is checked before it
 * is used; corrupt input gives a one-line `invalidInput` error, never a hang or a huge allocation.
 */
import { invalidInput } from '../../core/errors.js';
import { readExact, type ByteReader } from '../gpt/byte-reader.js';
import { decodeBootSector, decodeFsInfo, type ParsedBootSector, type ParsedFsInfo } from './boot-sector.js';
import {
  ATTR_DIRECTORY,
  ATTR_LONG_NAME,
  ATTR_VOLUME_ID,
  decodeLongPiece,
  decodeShortEntry,
  DELETED,
  DIR_ENTRY_SIZE,
  shortNameText,
  type RawLongPiece,
} from './dir-entry.js';
import { fromDosTime } from './dos-time.js';
import { BAD, EOC, readFatEntry } from './fat-table.js';
import type { FatType } from './geometry.js';
import { shortNameChecksum } from './short-name.js';

const MAX_DIR_BYTES = 65536 * DIR_ENTRY_SIZE;
const MAX_DEPTH = 64;
const MAX_NODES = 1_000_000;
const FAT_CHUNK = 64 * 1024;
const FAT_CACHE_CHUNKS = 256;

export interface FatVolumeInfo extends ParsedBootSector {
  clusterSize: number;
  /** Label from the root directory's volume-ID entry (what `mlabel`/`blkid` show), or null. */
  rootLabel: string | null;
  fsInfo: ParsedFsInfo | null;
}

export interface FatNode {
  /** Path from the root, `/`-separated, long names. */
  path: string;
  name: string;
  /** 8.3 name as displayed (case bits applied). */
  shortName: string;
  /** Whether VFAT long-name entries carry the name. */
  hasLongName: boolean;
  type: 'file' | 'dir';
  size: number;
  firstCluster: number;
  attributes: number;
  /** Modification time (UTC seconds), null if the stored date is invalid. */
  mtime: number | null;
}

export class FatReader {
  readonly warnings: string[] = [];
  private readonly fatCache = new Map<number, Buffer>();

  private constructor(
    private readonly reader: ByteReader,
    readonly info: FatVolumeInfo,
    private readonly name: string,
  ) {}

  static async open(reader: ByteReader, name = 'FAT filesystem'): Promise<FatReader> {
    const first = await readExact(reader, 0, Math.min(reader.size, 512), `${name} boot sector`);
    const ss = first.length >= 13 ? first.readUInt16LE(11) : 0;
    const sector = ss >= 512 && ss <= 4096 && reader.size >= ss ? await readExact(reader, 0, ss, `${name} boot sector`) : first;
    const bs = decodeBootSector(sector, name, reader.size);
    let fsInfo: ParsedFsInfo | null = null;
    if (bs.fatType === 32 && bs.fsInfoSector > 0 && bs.fsInfoSector < bs.reservedSectors) {
      fsInfo = decodeFsInfo(await readExact(reader, bs.fsInfoSector * bs.sectorSize, bs.sectorSize, `${name} FSInfo`));
    }
    const vol = new FatReader(reader, { ...bs, clusterSize: bs.sectorSize * bs.sectorsPerCluster, rootLabel: null, fsInfo }, name);
    if (bs.fatType === 32) {
      if (!fsInfo) vol.warnings.push('FAT32 FSInfo sector is missing or invalid');
      if (bs.backupBootSector > 0 && bs.backupBootSector < bs.reservedSectors) {
        const backup = await readExact(reader, bs.backupBootSector * bs.sectorSize, bs.sectorSize, `${name} backup boot sector`);
        if (!backup.equals(sector)) vol.warnings.push(`backup boot sector ${bs.backupBootSector} differs from the boot sector`);
      } else {
        vol.warnings.push('FAT32 without a backup boot sector');
      }
    }
    const rootEntries = await vol.readDirectoryEntries(null, '/');
    vol.info.rootLabel = rootEntries.label;
    return vol;
  }

  private get eoc(): number {
    return EOC[this.info.fatType];
  }

  private isEnd(v: number): boolean {
    const t: FatType = this.info.fatType;
    return v >= (EOC[t] & ~7);
  }

  /** FAT entry `cluster` from the first FAT. */
  async fatEntry(cluster: number): Promise<number> {
    const i = this.info;
    const byte = i.fatType === 12 ? cluster + (cluster >> 1) : (cluster * i.fatType) / 8;
    const chunk = Math.floor(byte / FAT_CHUNK);
    const fatBytes = i.fatSectors * i.sectorSize;
    let buf = this.fatCache.get(chunk);
    if (!buf) {
      const start = chunk * FAT_CHUNK;
      const len = Math.min(FAT_CHUNK + 2, fatBytes - start);
      buf = await readExact(this.reader, i.reservedSectors * i.sectorSize + start, len, `${this.name} FAT`);
      if (this.fatCache.size >= FAT_CACHE_CHUNKS) this.fatCache.clear(); // bounded memory on huge FATs
      this.fatCache.set(chunk, buf);
    }
    const local = byte - chunk * FAT_CHUNK;
    if (i.fatType === 12) {
      const v = buf.readUInt16LE(local);
      return cluster & 1 ? v >> 4 : v & 0x0fff;
    }
    return readFatEntry(i.fatType, buf.subarray(local), 0);
  }

  private checkCluster(c: number, what: string): void {
    if (c < 2 || c >= this.info.clusterCount + 2) {
      throw invalidInput('E_FAT_CHAIN', `${this.name}: ${what} points to cluster ${c}, outside 2..${this.info.clusterCount + 1}`);
    }
  }

  /** The clusters of a chain, checked: in range, no loop, at most `maxClusters`. */
  async chain(first: number, what: string, maxClusters = this.info.clusterCount): Promise<number[]> {
    const out: number[] = [];
    let c = first;
    for (;;) {
      this.checkCluster(c, what);
      out.push(c);
      if (out.length > maxClusters) throw invalidInput('E_FAT_CHAIN', `${this.name}: ${what} has a cluster chain longer than ${maxClusters} (loop?)`);
      const v = await this.fatEntry(c);
      if (this.isEnd(v)) return out;
      if (v === BAD[this.info.fatType]) throw invalidInput('E_FAT_CHAIN', `${this.name}: ${what} runs into a bad cluster at ${c}`);
      if (v === 0) throw invalidInput('E_FAT_CHAIN', `${this.name}: ${what} runs into a free cluster after ${c}`);
      c = v;
    }
  }

  private clusterByteOffset(c: number): number {
    return (this.info.dataStartSector + (c - 2) * this.info.sectorsPerCluster) * this.info.sectorSize;
  }

  /** Consecutive clusters merged into byte ranges. */
  private ranges(clusters: number[]): { offset: number; length: number }[] {
    const cs = this.info.clusterSize;
    const out: { offset: number; length: number }[] = [];
    for (const c of clusters) {
      const off = this.clusterByteOffset(c);
      const last = out[out.length - 1];
      if (last && last.offset + last.length === off) last.length += cs;
      else out.push({ offset: off, length: cs });
    }
    return out;
  }

  private async readDirectoryBytes(firstCluster: number | null, path: string): Promise<Buffer> {
    const i = this.info;
    if (firstCluster === null && i.fatType !== 32) {
      return readExact(this.reader, (i.reservedSectors + i.fatCount * i.fatSectors) * i.sectorSize, i.rootEntries * DIR_ENTRY_SIZE, `${this.name} root directory`);
    }
    const start = firstCluster ?? i.rootCluster;
    const clusters = await this.chain(start, `directory ${path}`, Math.ceil(MAX_DIR_BYTES / i.clusterSize));
    const parts: Buffer[] = [];
    for (const r of this.ranges(clusters)) parts.push(await readExact(this.reader, r.offset, r.length, `${this.name} directory ${path}`));
    return Buffer.concat(parts);
  }

  private async readDirectoryEntries(firstCluster: number | null, path: string): Promise<{ nodes: FatNode[]; label: string | null }> {
    const buf = await this.readDirectoryBytes(firstCluster, path);
    const fat32 = this.info.fatType === 32;
    const nodes: FatNode[] = [];
    let label: string | null = null;
    let pieces: RawLongPiece[] = [];
    const prefix = path === '/' ? '' : `${path.replace(/^\//, '')}/`;
    const seen = new Set<string>();
    for (let at = 0; at + DIR_ENTRY_SIZE <= buf.length; at += DIR_ENTRY_SIZE) {
      const first = buf[at]!;
      if (first === 0) break;
      if (first === DELETED) {
        pieces = [];
        continue;
      }
      const attr = buf[at + 11]!;
      if ((attr & 0x3f) === ATTR_LONG_NAME) {
        pieces.push(decodeLongPiece(buf, at));
        continue;
      }
      const e = decodeShortEntry(buf, at, fat32);
      const longName = this.assembleLongName(pieces, e.raw, path);
      pieces = [];
      if (attr & ATTR_VOLUME_ID) {
        if (firstCluster === null && !(attr & ATTR_DIRECTORY)) label = e.raw.toString('latin1').trimEnd();
        continue;
      }
      const rawText = e.raw.toString('latin1');
      if (rawText === '.          ' || rawText === '..         ') continue;
      const shortName = shortNameText(e.raw, e.caseBits);
      const name = longName ?? shortName;
      const isDir = (attr & ATTR_DIRECTORY) !== 0;
      const nodePath = prefix + name;
      const key = name.toUpperCase();
      if (seen.has(key)) throw invalidInput('E_FAT_DIR', `${this.name}: directory ${path} holds ${JSON.stringify(name)} twice`);
      seen.add(key);
      if (isDir) {
        this.checkCluster(e.firstCluster, `directory ${nodePath}`);
      } else if (e.size > 0) {
        this.checkCluster(e.firstCluster, `file ${nodePath}`);
      }
      nodes.push({
        path: nodePath,
        name,
        shortName,
        hasLongName: longName !== null,
        type: isDir ? 'dir' : 'file',
        size: isDir ? 0 : e.size,
        firstCluster: e.firstCluster,
        attributes: attr,
        mtime: fromDosTime(e.modifiedDate, e.modifiedTime),
      });
    }
    return { nodes, label };
  }

  /** The long name the pieces spell for this short entry, or null (with a warning when they do not fit). */
  private assembleLongName(pieces: RawLongPiece[], raw: Buffer, path: string): string | null {
    if (pieces.length === 0) return null;
    const sum = shortNameChecksum(raw);
    const n = pieces.length;
    const ok = pieces[0]!.last && pieces.every((p, k) => p.ordinal === n - k && p.checksum === sum);
    if (!ok) {
      this.warnings.push(`orphaned or mismatched long-name entries before ${shortNameText(raw, 0)} in ${path}`);
      return null;
    }
    const units: number[] = [];
    for (let k = n - 1; k >= 0; k--) units.push(...pieces[k]!.units);
    let end = units.indexOf(0);
    if (end < 0) end = units.length;
    return String.fromCharCode(...units.slice(0, end).filter((u) => u !== 0xffff));
  }

  /** Entries of a directory (`''` or `/` = root). */
  async list(dirPath = ''): Promise<FatNode[]> {
    const clean = dirPath.replace(/^\/+|\/+$/g, '');
    if (clean === '') return (await this.readDirectoryEntries(null, '/')).nodes;
    const node = await this.lookup(clean);
    if (node.type !== 'dir') throw invalidInput('E_FAT_NOT_DIR', `${this.name}: ${clean} is not a directory`);
    return (await this.readDirectoryEntries(node.firstCluster, clean)).nodes;
  }

  /** Find a path, case-insensitively as FAT does. */
  async lookup(path: string): Promise<FatNode> {
    const parts = path.split('/').filter((p) => p !== '');
    if (parts.length === 0) throw invalidInput('E_FAT_NOT_FOUND', `${this.name}: empty path`);
    let cluster: number | null = null;
    let where = '/';
    let found: FatNode | undefined;
    for (const part of parts) {
      const { nodes } = await this.readDirectoryEntries(cluster, where);
      const up = part.toUpperCase();
      found = nodes.find((n) => n.name.toUpperCase() === up || n.shortName.toUpperCase() === up);
      if (!found) throw invalidInput('E_FAT_NOT_FOUND', `${this.name}: ${path} not found`);
      cluster = found.firstCluster;
      where = found.path;
    }
    return found!;
  }

  /**
   * The whole tree, depth first (directories before their content), each cluster checked to belong
   * to one chain only, each file's chain checked against its size.
   */
  async walk(): Promise<FatNode[]> {
    const out: FatNode[] = [];
    const owner = new Uint8Array(this.info.clusterCount + 2);
    const claim = async (first: number, what: string, expect: number | null) => {
      const clusters = await this.chain(first, what);
      if (expect !== null && clusters.length !== expect) {
        throw invalidInput('E_FAT_CHAIN', `${this.name}: ${what} has ${clusters.length} clusters for a size that needs ${expect}`);
      }
      for (const c of clusters) {
        if (owner[c]) throw invalidInput('E_FAT_CHAIN', `${this.name}: cluster ${c} of ${what} is shared with another chain`);
        owner[c] = 1;
      }
    };
    if (this.info.fatType === 32) await claim(this.info.rootCluster, 'root directory', null);
    const visit = async (cluster: number | null, path: string, depth: number) => {
      if (depth > MAX_DEPTH) throw invalidInput('E_FAT_DIR', `${this.name}: directories nest deeper than ${MAX_DEPTH}`);
      const { nodes } = await this.readDirectoryEntries(cluster, path);
      for (const n of nodes) {
        if (out.length >= MAX_NODES) throw invalidInput('E_FAT_DIR', `${this.name}: more than ${MAX_NODES} entries`);
        out.push(n);
        if (n.type === 'dir') {
          await claim(n.firstCluster, `directory ${n.path}`, null);
          await visit(n.firstCluster, n.path, depth + 1);
        } else if (n.size > 0) {
          await claim(n.firstCluster, `file ${n.path}`, Math.ceil(n.size / this.info.clusterSize));
        }
      }
    };
    await visit(null, '/', 0);
    return out;
  }

  /** Stream a file's content in pieces of at most 1 MiB. */
  async *stream(path: string): AsyncGenerator<Buffer> {
    const node = await this.lookup(path);
    if (node.type !== 'file') throw invalidInput('E_FAT_NOT_FILE', `${this.name}: ${path} is a directory`);
    if (node.size === 0) return;
    const need = Math.ceil(node.size / this.info.clusterSize);
    const clusters = await this.chain(node.firstCluster, `file ${path}`, need);
    if (clusters.length !== need) throw invalidInput('E_FAT_CHAIN', `${this.name}: file ${path} has ${clusters.length} clusters for ${node.size} bytes`);
    let left = node.size;
    for (const r of this.ranges(clusters)) {
      for (let o = 0; o < r.length && left > 0; o += 1 << 20) {
        const n = Math.min(1 << 20, r.length - o, left);
        yield await readExact(this.reader, r.offset + o, n, `${this.name} file ${path}`);
        left -= n;
      }
    }
  }

  async readFile(path: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const b of this.stream(path)) parts.push(b);
    return Buffer.concat(parts);
  }

  /** Count free clusters by scanning the FAT (to check FSInfo). */
  async countFreeClusters(): Promise<number> {
    const i = this.info;
    let free = 0;
    if (i.fatType === 12) {
      for (let c = 2; c < i.clusterCount + 2; c++) if ((await this.fatEntry(c)) === 0) free++;
      return free;
    }
    // FAT16/32: scan the table in chunks rather than entry by entry.
    const width = i.fatType / 8;
    const base = i.reservedSectors * i.sectorSize;
    const end = (i.clusterCount + 2) * width;
    for (let off = 2 * width; off < end; off += FAT_CHUNK) {
      const len = Math.min(FAT_CHUNK, end - off);
      const b = await readExact(this.reader, base + off, len, `${this.name} FAT`);
      for (let k = 0; k < len; k += width) if ((width === 4 ? b.readUInt32LE(k) & 0x0fffffff : b.readUInt16LE(k)) === 0) free++;
    }
    return free;
  }

  /** End-of-chain marker value for this FAT type. */
  get endOfChain(): number {
    return this.eoc;
  }
}
