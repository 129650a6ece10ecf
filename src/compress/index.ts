/** Compression engines: worker pool, zstd, gzip, encoder factory, block compressor, compressing sink. */
export { WorkerPool, mapInOrder, defaultPoolSize, type WorkerPoolOptions } from './pool.js';
export { serveWorker, withTransfer, type TaskRequest, type TaskReply, type TaskError } from './worker-protocol.js';
