/** One build: profile → output (file or stream), post-processed, atomic; progress events. */
export * from './atomic-file.js';
export * from './build.js';
export * from './output.js';
export * from './sources.js';
export * from './boot-assets.js';
export * from './extensions.js';
export * from './installer.js';
export { gnuFileHeader, tarMemberStream, TAR_MEMBER_NAME } from './tar-member.js';
export { writeDirectoryTarGz } from './output-archive.js';
export * from './secureboot.js';
