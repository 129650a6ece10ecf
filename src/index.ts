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
