/** The initramfs with system extensions appended (talos-imager.md §4.6). */
export * from './append.js';
