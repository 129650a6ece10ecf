/** Kernel command line (talos-imager.md §5). */
export * from './cmdline.js';
export * from './platforms.js';
export * from './default-args.js';
export * from './meta-env.js';
export * from './build.js';
