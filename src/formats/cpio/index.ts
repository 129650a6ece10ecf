/** newc cpio: writer and reader (talos-imager.md §4.6). */
export * from './newc-header.js';
export * from './newc-writer.js';
export * from './newc-reader.js';
