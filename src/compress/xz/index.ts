/** xz: pure-TypeScript LZMA2 encoder and decoder with the .xz container (see xz.ts). */
export {
  createXzEncoder,
  createXzDecoder,
  xzEncode,
  xzDecode,
  xzEncodeSingleBlock,
  xzEncodeSingleBlockAsync,
  xzPool,
  XZ_INITRAMFS,
  XZ_DISK_IMAGE,
  type XzEncodeOptions,
  type XzDecodeOptions,
  type XzSingleBlockOptions,
} from './xz.js';
export { xzEncodeSync } from './xz-sync.js';
export { xzDecodeSync, XzStreamDecoder } from './xz-decoder.js';
export { type XzCheck } from './check.js';
export { lzmaPreset, mtBlockSize, type LzmaOptions, type MatchFinderKind } from './presets.js';
