/** Library entry: the public API that the CLI and the service use. */
export * from './core/errors.js';
export * from './core/file-tree.js';
export * from './core/sink.js';
export * from './core/progress.js';
export * from './core/repro.js';
export * from './profile/index.js';
export * from './boot/cmdline/index.js';
export * as oci from './oci/index.js';
export * from './formats/pe/index.js';
export * from './boot/uki/index.js';
export * from './boot/secureboot/index.js';
export * from './schematic/index.js';
export { planGpt, encodeGpt, writeGpt, readGpt, guidFromLabel, PartitionType, PartitionAttribute, partitionRange, findPartition, bufferReader, sliceReader, type ByteReader, type GptTable, type GptPartition, type GptPartitionRequest, type GptPlanOptions, type GptReadResult } from './formats/gpt/index.js';
export { writeFat, planFatGeometry, FatReader, type FatWriteOptions, type FatWriteResult, type FatGeometry, type FatGeometryOptions, type FatType, type FatNode, type FatVolumeInfo } from './formats/fat/index.js';
export { encodeTalosAdv, decodeTalosAdv, writeMetaPartition, decodeMetaPartition, type AdvTag, type MetaContents } from './formats/meta/index.js';
export { writeDiskImage, planTalosDisk, talosPartitions, sdBootEspTree, inspectDisk, formatDiskReport, checkBootloader, TALOS_DISK_GUID, TALOS_ESP_VOLUME_ID, MetaKey, metaKeyName, type DiskImageOptions, type DiskImageResult, type DiskLayoutOptions, type DiskBootloader, type DiskArch, type MetaValue, type SecureBootEnrollment, type DiskReport, type PartitionReport, type FilesystemReport } from './boot/disk/index.js';
export * as compress from './compress/index.js';
