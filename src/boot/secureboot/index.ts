/** SecureBoot pieces: PCR 11 prediction and `.pcrsig`, key-enrollment database (`.auth`), key loading. */
export * from './pcr-prediction.js';
export * from './tpm2-policy.js';
export * from './pcr-signature.js';
