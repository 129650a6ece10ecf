/**
 * A Talos `kind: image` raw disk with sd-boot (talos-imager.md §9, §15): GPT with label-derived GUIDs,
 * a FAT32 ESP holding systemd-boot + the UKI + loader.conf, and META — written in one pass into a
 * RandomAccessSink in increasing offset order (so a compressing sink can take it), free space as
 * holes (a sparse file on disk). Nothing is staged in a temporary file and the ESP content is
 * streamed into its clusters.
 */
import { assembly } from '../../core/errors.js';
import type { ProgressSink } from '../../core/progress.js';
import type { ReproContext } from '../../core/repro.js';
import type { RandomAccessSink } from '../../core/sink.js';
import { writeFat, type FatWriteResult } from '../../formats/fat/index.js';
import { encodeGpt, partitionRange, type GptTable } from '../../formats/gpt/index.js';
import { encodeTalosAdv, writeMetaPartition, type AdvTag } from '../../formats/meta/index.js';
import { sdBootEspTree, type EspContentOptions } from './esp.js';
import { planTalosDisk, type DiskLayoutOptions } from './layout.js';

/** The volume ID `mkfs.vfat --invariant` gives the ESP (talos-imager.md §9.4, §13). */
export const TALOS_ESP_VOLUME_ID = 0x1234abcd;

export interface MetaValue {
  key: number;
  value: string | Uint8Array;
}

export interface DiskImageOptions extends DiskLayoutOptions, EspContentOptions {
  /** META values (`metaContents`); none → META stays all zeros. */
  metaValues?: MetaValue[];
  repro: ReproContext;
  progress?: ProgressSink;
}

export interface DiskImageResult {
  table: GptTable;
  esp: FatWriteResult;
  /** ESP paths written. */
  espFiles: string[];
  size: number;
}

export async function writeDiskImage(sink: RandomAccessSink, o: DiskImageOptions): Promise<DiskImageResult> {
  const table = planTalosDisk(o);
  const espTree = sdBootEspTree(o);
  const meta: AdvTag[] = (o.metaValues ?? []).map((m) => ({ tag: m.key, value: typeof m.value === 'string' ? Buffer.from(m.value, 'utf8') : m.value }));
  if (meta.length) encodeTalosAdv(meta); // check the values before anything is written
  const gpt = encodeGpt(table);
  const progress = o.progress;
  progress?.({ type: 'step-start', step: 'disk', detail: `${table.partitions.map((p) => p.name).join(', ')} on ${o.diskSize} bytes` });

  // In offset order: GPT head, partitions, GPT tail.
  await sink.write(0, gpt.head);
  let pos = gpt.head.length;
  let esp: FatWriteResult | undefined;
  for (const p of table.partitions) {
    const r = partitionRange(table, p);
    if (r.offset > pos) await sink.hole(pos, r.offset - pos);
    if (p.name === 'EFI') {
      esp = await writeFat(sink, r.offset, espTree, {
        size: r.size,
        sectorSize: table.sectorSize,
        fatType: 32,
        label: 'EFI',
        volumeId: TALOS_ESP_VOLUME_ID,
        repro: o.repro,
        progress,
        progressStep: 'esp',
      });
    } else if (p.name === 'META') {
      await writeMetaPartition(sink, r.offset, r.size, meta);
    } else {
      await sink.hole(r.offset, r.size); // STATE / EPHEMERAL: no filesystem in image mode
    }
    pos = r.offset + r.size;
  }
  if (gpt.tailOffset > pos) await sink.hole(pos, gpt.tailOffset - pos);
  await sink.write(gpt.tailOffset, gpt.tail);
  await sink.setSize(o.diskSize);
  progress?.({ type: 'step-done', step: 'disk' });
  if (!esp) throw assembly('E_DISK_LAYOUT', 'the disk layout has no EFI partition');
  return { table, esp, espFiles: espTree.map((e) => e.path).sort(), size: o.diskSize };
}
