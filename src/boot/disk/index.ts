/** Talos disk images (talos-imager.md §9): layouts, ESP content, the one-pass writer, inspection. */
export * from './disk-image.js';
export * from './esp.js';
export * from './inspect.js';
export * from './layout.js';
export * from './meta-keys.js';
