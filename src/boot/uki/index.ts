/** UKI assembly: systemd-stub + Talos sections (talos-imager.md §6). */
export * from './os-release.js';
export * from './kernel-version.js';
export * from './profiles.js';
export * from './build-uki.js';
export * from './file-source.js';
export * from './talos-splash.js';
