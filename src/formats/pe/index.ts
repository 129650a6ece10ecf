/** PE/COFF codec: reader, section appender (UKI assembly), Authenticode digest and signing. */
export { type ByteSource, type StreamSource, sourceSize, sourceBytes } from './byte-source.js';
export { type CoffHeader } from './coff-header.js';
export { type DataDirectory, type OptionalHeader } from './optional-header.js';
export { type SectionHeader } from './section-table.js';
export { type WinCertificate, parseCertificateTable, encodeWinCertificate } from './certificate-table.js';
export { type PeFile, type PeHeaders, parsePe, parsePeHeaders, sectionData, findSection, MAX_SECTIONS as PE_MAX_SECTIONS } from './pe-file.js';
export { type PeAssembly, type PeAssemblyPart, peAssemblyChunks, peAssemblySource, peAssemblyStream, peAssemblyBytes, writePeAssembly } from './pe-assembly.js';
export { type AppendedSection, type AppendSectionsOptions, appendSections, APPENDED_SECTION_CHARACTERISTICS } from './append-sections.js';
export { type DigestAlgorithm, type AuthenticodePlan, authenticodePlan, authenticodeDigest, authenticodeDigestOfStream } from './authenticode-digest.js';
export { type CertificateSigner, pemSigner, certificateFromPem, rsaPrivateKeyFromPem } from './signer.js';
export { encodeSpcIndirectDataContent, decodeSpcIndirectDataContent } from './spc-indirect-data.js';
export { type SignedDataInput, type SignedDataOutput, signPkcs7 } from './pkcs7-signed-data.js';
export { type SignPeOptions, signPe, signPeAssembly, authenticodeSignature } from './authenticode-sign.js';
