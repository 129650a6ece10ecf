/** META partition: the Talos ADV (talos-imager.md §9.6). */
export * from './meta-partition.js';
export * from './talos-adv.js';
