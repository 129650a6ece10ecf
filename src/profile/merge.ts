/**
 * Merging a user profile onto a base profile (talos-imager.md §1.3, upstream
 * `pkg/machinery/config/merge/merge.go`). Returns a new profile; neither input is modified.
 *
 *  - scalars (strings, numbers, enums): the right side wins unless it is Go's zero value;
 *  - booleans: always copied from the right, even `false` (so `forceInsecure: false` resets);
 *  - pointers (`secureboot`, `imageOptions`, `isoOptions`, `overlay`, `input.secureboot`): a nil
 *    right side is ignored, a nil left side takes the right, otherwise the pointees merge — and a
 *    `*bool` pointee is overwritten by the right value;
 *  - slices are concatenated, left then right;
 *  - maps merge key by key; structs field by field.
 */
import { invalidInput } from '../core/errors.js';
import { cloneGoValue, GoMap, type GoValue } from './go-value.js';
import type {
  ContainerAsset,
  Customization,
  FileAsset,
  ImageOptions,
  Input,
  ISOOptions,
  MetaValue,
  Output,
  OverlayOptions,
  Profile,
  SecureBootAssets,
  SigningKey,
  SigningKeyAndCertificate,
} from './schema.js';

const str = (l: string, r: string) => (r !== '' ? r : l);
const num = (l: number, r: number) => (r !== 0 ? r : l);
/** An enum keeps the left value when the right one is the type's zero value. */
function enumOf<T extends string>(zero: string, l: T, r: T): T {
  return r !== zero ? r : l;
}

function pointer<T>(l: T | null, r: T | null, mergeInto: (l: T, r: T) => T, clone: (v: T) => T): T | null {
  if (r === null) return l === null ? null : clone(l);
  if (l === null) return clone(r);
  return mergeInto(l, r);
}

const clone = <T>(v: T): T => structuredCloneProfilePart(v);

/** Deep copy of plain profile data (GoMap and bigint aware). */
function structuredCloneProfilePart<T>(v: T): T {
  if (v instanceof GoMap) return cloneGoValue(v) as T;
  if (Array.isArray(v)) return v.map(structuredCloneProfilePart) as T;
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = structuredCloneProfilePart(x);
    return out as T;
  }
  return v;
}

export const cloneProfile = (p: Profile): Profile => clone(p);

const fileAsset = (l: FileAsset, r: FileAsset): FileAsset => ({ path: str(l.path, r.path) });

const containerAsset = (l: ContainerAsset, r: ContainerAsset): ContainerAsset => ({
  imageRef: str(l.imageRef, r.imageRef),
  forceInsecure: r.forceInsecure,
  tarballPath: str(l.tarballPath, r.tarballPath),
  ociPath: str(l.ociPath, r.ociPath),
});

const signingKeyAndCertificate = (l: SigningKeyAndCertificate, r: SigningKeyAndCertificate): SigningKeyAndCertificate => ({
  keyPath: str(l.keyPath, r.keyPath),
  certPath: str(l.certPath, r.certPath),
  azureVaultURL: str(l.azureVaultURL, r.azureVaultURL),
  azureCertificateID: str(l.azureCertificateID, r.azureCertificateID),
  awsKMSKeyID: str(l.awsKMSKeyID, r.awsKMSKeyID),
  awsRegion: str(l.awsRegion, r.awsRegion),
  awsCertPath: str(l.awsCertPath, r.awsCertPath),
  awsCertARN: str(l.awsCertARN, r.awsCertARN),
  signerAddress: str(l.signerAddress, r.signerAddress),
});

const signingKey = (l: SigningKey, r: SigningKey): SigningKey => ({
  keyPath: str(l.keyPath, r.keyPath),
  azureVaultURL: str(l.azureVaultURL, r.azureVaultURL),
  azureKeyID: str(l.azureKeyID, r.azureKeyID),
  azureKeyVersion: str(l.azureKeyVersion, r.azureKeyVersion),
  awsKMSKeyID: str(l.awsKMSKeyID, r.awsKMSKeyID),
  awsRegion: str(l.awsRegion, r.awsRegion),
  signerAddress: str(l.signerAddress, r.signerAddress),
});

const secureBootAssets = (l: SecureBootAssets, r: SecureBootAssets): SecureBootAssets => ({
  secureBootSigner: signingKeyAndCertificate(l.secureBootSigner, r.secureBootSigner),
  pcrSigner: signingKey(l.pcrSigner, r.pcrSigner),
  platformKeyPath: str(l.platformKeyPath, r.platformKeyPath),
  keyExchangeKeyPath: str(l.keyExchangeKeyPath, r.keyExchangeKeyPath),
  signatureKeyPath: str(l.signatureKeyPath, r.signatureKeyPath),
  includeWellKnownCerts: r.includeWellKnownCerts,
});

const input = (l: Input, r: Input): Input => ({
  kernel: fileAsset(l.kernel, r.kernel),
  initramfs: fileAsset(l.initramfs, r.initramfs),
  sdStub: fileAsset(l.sdStub, r.sdStub),
  sdBoot: fileAsset(l.sdBoot, r.sdBoot),
  baseInstaller: containerAsset(l.baseInstaller, r.baseInstaller),
  imageCache: containerAsset(l.imageCache, r.imageCache),
  overlayInstaller: containerAsset(l.overlayInstaller, r.overlayInstaller),
  secureboot: pointer(l.secureboot, r.secureboot, secureBootAssets, clone),
  systemExtensions: [...l.systemExtensions, ...r.systemExtensions].map(clone),
});

const customization = (l: Customization, r: Customization): Customization => ({
  extraKernelArgs: [...l.extraKernelArgs, ...r.extraKernelArgs],
  metaContents: [...l.metaContents, ...r.metaContents].map((m: MetaValue) => ({ ...m })),
  embeddedMachineConfiguration: str(l.embeddedMachineConfiguration, r.embeddedMachineConfiguration),
});

/** Go type of an `any` value, as the map merge compares them. */
function goTypeOf(v: GoValue): string {
  if (v === null) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return v > 2n ** 63n - 1n ? 'uint64' : 'int';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return '[]interface {}';
  return v.entries.every(([k]) => typeof k === 'string') ? 'map[string]interface {}' : 'map[interface {}]interface {}';
}

function mergeGoValue(l: GoValue, r: GoValue, path: string): GoValue {
  if (typeof l === 'string' && typeof r === 'string') return str(l, r);
  if (typeof l === 'bigint' && typeof r === 'bigint') return r !== 0n ? r : l;
  if (typeof l === 'number' && typeof r === 'number') return r !== 0 ? r : l;
  if (typeof l === 'boolean' && typeof r === 'boolean') return r;
  if (Array.isArray(l) && Array.isArray(r)) return [...l, ...r].map(cloneGoValue);
  if (l instanceof GoMap && r instanceof GoMap) return mergeGoMap(l, r, path);
  throw invalidInput('E_PROFILE_MERGE', `merge type mismatch at ${path}: ${goTypeOf(l)} and ${goTypeOf(r)}`);
}

/** Go map merge: keys absent (or nil) on the left take the right value; others merge by type. */
export function mergeGoMap(l: GoMap, r: GoMap, path = 'overlay.options'): GoMap {
  const out = cloneGoValue(l) as GoMap;
  for (const [k, rv] of r.entries) {
    const lv = out.get(k);
    const at = `${path}[${String(k)}]`;
    if (lv === undefined || lv === null) {
      out.set(k, cloneGoValue(rv));
      continue;
    }
    if (rv === null || goTypeOf(lv) !== goTypeOf(rv)) {
      throw invalidInput('E_PROFILE_MERGE', `merge type mismatch at ${at}: ${goTypeOf(lv)} and ${goTypeOf(rv)}`);
    }
    out.set(k, mergeGoValue(lv, rv, at));
  }
  return out;
}

const overlay = (l: OverlayOptions, r: OverlayOptions): OverlayOptions => ({
  name: str(l.name, r.name),
  image: containerAsset(l.image, r.image),
  options: r.options.size === 0 ? (cloneGoValue(l.options) as GoMap) : mergeGoMap(l.options, r.options),
});

const imageOptions = (l: ImageOptions, r: ImageOptions): ImageOptions => ({
  diskSize: num(l.diskSize, r.diskSize),
  diskFormat: enumOf('unknown', l.diskFormat, r.diskFormat),
  diskFormatOptions: str(l.diskFormatOptions, r.diskFormatOptions),
  diskSectorSize: num(l.diskSectorSize, r.diskSectorSize),
  bootloader: enumOf('none', l.bootloader, r.bootloader),
  sdBootEnrollKeys: enumOf('if-safe', l.sdBootEnrollKeys, r.sdBootEnrollKeys),
});

const isoOptions = (l: ISOOptions, r: ISOOptions): ISOOptions => ({
  sdBootEnrollKeys: enumOf('if-safe', l.sdBootEnrollKeys, r.sdBootEnrollKeys),
  bootloader: enumOf('none', l.bootloader, r.bootloader),
});

const output = (l: Output, r: Output): Output => ({
  kind: enumOf('unknown', l.kind, r.kind),
  imageOptions: pointer(l.imageOptions, r.imageOptions, imageOptions, clone),
  isoOptions: pointer(l.isoOptions, r.isoOptions, isoOptions, clone),
  outFormat: enumOf('unknown', l.outFormat, r.outFormat),
});

/** `base` with `user` merged on top (talos-imager.md §1.3). */
export function mergeProfile(base: Profile, user: Profile): Profile {
  return {
    baseProfileName: str(base.baseProfileName, user.baseProfileName),
    arch: str(base.arch, user.arch),
    platform: str(base.platform, user.platform),
    // *bool: a set right side overwrites, even with false.
    secureboot: user.secureboot === null ? base.secureboot : user.secureboot,
    name: str(base.name, user.name),
    version: str(base.version, user.version),
    customization: customization(base.customization, user.customization),
    input: input(base.input, user.input),
    overlay: pointer(base.overlay, user.overlay, overlay, clone),
    output: output(base.output, user.output),
  };
}
