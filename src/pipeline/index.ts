/** One build: profile → output file (atomic), progress events. */
export * from './atomic-file.js';
export * from './build.js';
