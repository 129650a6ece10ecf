/** Compression engines: worker pool, zstd, gzip, encoder factory, block compressor, compressing sink. */
export { WorkerPool, mapInOrder, defaultPoolSize, type WorkerPoolOptions } from './pool.js';
export { serveWorker, withTransfer, type TaskRequest, type TaskReply, type TaskError } from './worker-protocol.js';
export {
  createZstdEncoder,
  createZstdDecoder,
  zstdCompress,
  zstdDecompress,
  ZSTD_DEFAULT_SEGMENT,
  type ZstdEncodeOptions,
  type ZstdDecodeOptions,
} from './zstd.js';
export {
  createGzipEncoder,
  createGzipDecoder,
  gzipCompress,
  gzipDecompress,
  gzipHeader,
  type GzipEncodeOptions,
  type GzipDecodeOptions,
} from './gzip.js';
export { createBlockCompressor, type BlockCompressor, type BlockCompressorOptions, type BlockCodec } from './block-compressor.js';
export { CompressingSink, type CompressingSinkOptions } from './compressing-sink.js';
export {
  createEncoder,
  createDecoder,
  detectFormat,
  type CompressionFormat,
  type EncoderOptions,
  type DecoderOptions,
} from './encoder.js';
export * from './xz/index.js';
