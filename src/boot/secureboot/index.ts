/** SecureBoot pieces: PCR 11 prediction and `.pcrsig`, key-enrollment database (`.auth`), key loading. */
export * from './pcr-prediction.js';
export * from './tpm2-policy.js';
export * from './pcr-signature.js';
export * from './efi-guid.js';
export * from './efi-time.js';
export * from './efi-signature-list.js';
export * from './authenticated-variable.js';
export * from './well-known-certificates.js';
export * from './enrollment-database.js';
export * from './keys.js';
