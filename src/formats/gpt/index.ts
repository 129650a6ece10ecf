/** node-gpt: GPT partition tables (talos-imager.md §9.3). */
export * from './byte-reader.js';
export * from './guid.js';
export * from './header.js';
export * from './partition-entry.js';
export * from './partition-types.js';
export * from './protective-mbr.js';
export * from './reader.js';
export * from './table.js';
export * from './writer.js';
