/** FAT12/16/32: mkfs + populate writer and a checking reader (talos-imager.md §9.4). */
export * from './boot-sector.js';
export * from './dir-entry.js';
export * from './dos-time.js';
export * from './fat-table.js';
export * from './geometry.js';
export * from './label.js';
export * from './reader.js';
export * from './short-name.js';
export * from './writer.js';
