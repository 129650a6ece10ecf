/** PE/COFF codec: reader, section appender (UKI assembly), Authenticode digest and signing. */
export * from './constants.js';
export * from './byte-source.js';
export * from './dos-header.js';
export * from './coff-header.js';
export * from './optional-header.js';
export * from './section-table.js';
export * from './certificate-table.js';
export * from './pe-file.js';
export * from './pe-assembly.js';
export * from './append-sections.js';
export * from './authenticode-digest.js';
export * from './signer.js';
export * from './spc-indirect-data.js';
export * from './pkcs7-signed-data.js';
export * from './authenticode-sign.js';
