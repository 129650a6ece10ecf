/**
 * The imager profile (talos-imager.md §1.1): a zod schema for every field, and the TypeScript type
 * it produces.
 *
 * The schema decodes the way the imager's Go structs decode with go-yaml: a missing or null field
 * takes Go's zero value (`''`, `0`, `false`, the enum's first value, `[]`), a nil pointer is `null`,
 * unknown keys are dropped (the imager reads stdin without `KnownFields`), a string field keeps the
 * scalar's text (`version: 1.10` → `'1.10'`), a bool field also accepts YAML 1.1 words (`yes`), an
 * integer field rejects what does not fit its Go type, an enum accepts its exact text or the
 * lower-cased input. It accepts both the tree from `yaml/read.ts` and plain JavaScript values, so a
 * program can build profiles directly.
 */
import { z } from 'zod';
import { GoMap, toGoValue, goValueFromYaml } from './go-value.js';
import { goYamlOldBool } from './yaml/resolve.js';
import { YamlMapping, YamlScalar } from './yaml/read.js';

// --- enums (upstream `*_enumer.go`; the first value is Go's zero value) -------------------------

export const OUTPUT_KINDS = ['unknown', 'iso', 'image', 'installer', 'kernel', 'initramfs', 'uki', 'cmdline'] as const;
export const OUT_FORMATS = ['unknown', 'raw', '.tar.gz', '.xz', '.gz', '.zst'] as const;
export const DISK_FORMATS = ['unknown', 'raw', 'qcow2', 'vhd', 'ova'] as const;
export const SDBOOT_ENROLL_KEYS = ['if-safe', 'manual', 'force', 'off'] as const;
export const BOOTLOADER_KINDS = ['none', 'dual-boot', 'sd-boot', 'grub'] as const;

export type OutputKind = (typeof OUTPUT_KINDS)[number];
export type OutFormat = (typeof OUT_FORMATS)[number];
export type DiskFormat = (typeof DISK_FORMATS)[number];
export type SDBootEnrollKeys = (typeof SDBOOT_ENROLL_KEYS)[number];
export type BootloaderKind = (typeof BOOTLOADER_KINDS)[number];

/** Enumer's `XString(s)`: the exact text, else its lower-case form; null when neither matches. */
export function parseEnum<T extends readonly string[]>(values: T, text: string): T[number] | null {
  if ((values as readonly string[]).includes(text)) return text as T[number];
  const lower = text.toLowerCase();
  if ((values as readonly string[]).includes(lower)) return lower as T[number];
  return null;
}

// --- Go scalar kinds ------------------------------------------------------------------------------

type Ctx = z.core.$RefinementCtx<unknown>;

const isNullish = (v: unknown) => v === undefined || v === null || (v instanceof YamlScalar && v.tag === 'null');

function describe(v: unknown): string {
  if (v instanceof YamlScalar) return `!!${v.tag} \`${v.text}\``;
  if (v instanceof YamlMapping) return 'a mapping';
  if (Array.isArray(v)) return 'a sequence';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function issue(ctx: Ctx, input: unknown, message: string): never {
  ctx.issues.push({ code: 'custom', message, input });
  return z.NEVER as never;
}

/** Go `string`: any non-null scalar, as written. */
export const goString = z.unknown().optional().transform((v, ctx): string => {
  if (isNullish(v)) return '';
  if (typeof v === 'string') return v;
  if (v instanceof YamlScalar) return v.text;
  return issue(ctx, v, `cannot unmarshal ${describe(v)} into string`);
});

/** Go `bool`: `true`/`false` in any case go-yaml knows, and the YAML 1.1 words. */
export const goBool = z.unknown().optional().transform((v, ctx): boolean => {
  if (isNullish(v)) return false;
  if (typeof v === 'boolean') return v;
  if (v instanceof YamlScalar) {
    if (v.tag === 'bool') return v.resolved.value as boolean;
    if (v.tag === 'str') {
      const old = goYamlOldBool(v.text);
      if (old !== null) return old;
    }
  }
  return issue(ctx, v, `cannot unmarshal ${describe(v)} into bool`);
});

/** A Go integer type with its range; values beyond 2^53 are refused (no profile field needs them). */
export function goInt(goType: string, min: bigint, max: bigint) {
  return z.unknown().optional().transform((v, ctx): number => {
    if (isNullish(v)) return 0;
    let n: bigint | null = null;
    if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
    else if (typeof v === 'bigint') n = v;
    else if (v instanceof YamlScalar && v.tag === 'int') n = v.resolved.value as bigint;
    else if (v instanceof YamlScalar && v.tag === 'float') {
      const f = v.resolved.value as number;
      if (Number.isInteger(f)) n = BigInt(f);
    }
    if (n === null || n < min || n > max) return issue(ctx, v, `cannot unmarshal ${describe(v)} into ${goType}`);
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) return issue(ctx, v, `${describe(v)} is too large for imagekit (limit 2^53)`);
    return Number(n);
  });
}

export const goInt64 = goInt('int64', -(2n ** 63n), 2n ** 63n - 1n);
export const goUint = goInt('uint', 0n, 2n ** 64n - 1n);
export const goUint8 = goInt('uint8', 0n, 255n);

/** An enumer type: text → value; null → the zero value. */
export function goEnum<T extends readonly [string, ...string[]]>(goType: string, values: T) {
  return z.unknown().optional().transform((v, ctx): T[number] => {
    if (isNullish(v)) return values[0];
    const text = typeof v === 'string' ? v : v instanceof YamlScalar ? v.text : undefined;
    if (text === undefined) return issue(ctx, v, `cannot unmarshal ${describe(v)} into ${goType}`);
    const parsed = parseEnum(values, text);
    if (parsed === null) return issue(ctx, v, `${text} does not belong to ${goType} values (${values.join(', ')})`);
    return parsed;
  });
}

/** A Go struct: null → all fields zero; a YAML mapping is matched by key text. */
function goStruct<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.preprocess((v, ctx) => {
    if (isNullish(v)) return {};
    if (v instanceof YamlMapping) return v.toRecord();
    if (v instanceof YamlScalar || Array.isArray(v) || typeof v !== 'object' || v instanceof GoMap) {
      return issue(ctx, v, `cannot unmarshal ${describe(v)} into a struct`);
    }
    return v;
  }, z.object(shape));
}

/** A Go slice: null → empty. */
function goSlice<T extends z.ZodType>(elem: T) {
  return z.preprocess((v, ctx) => {
    if (isNullish(v)) return [];
    if (!Array.isArray(v)) return issue(ctx, v, `cannot unmarshal ${describe(v)} into a slice`);
    return v;
  }, z.array(elem));
}

/** A Go pointer: null → nil (`null`). */
function goPointer<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (isNullish(v) ? null : v), schema.nullable());
}

/** `map[string]any` (overlay options). */
const goAnyMap = z.unknown().optional().transform((v, ctx): GoMap => {
  if (isNullish(v)) return new GoMap();
  if (v instanceof YamlMapping) return goValueFromYaml(v, true) as GoMap;
  if (v instanceof GoMap || (typeof v === 'object' && !Array.isArray(v) && !(v instanceof YamlScalar))) {
    const g = toGoValue(v);
    if (g instanceof GoMap && g.entries.every(([k]) => typeof k === 'string')) return g;
  }
  return issue(ctx, v, `cannot unmarshal ${describe(v)} into map[string]any`);
});

// --- structs (field order = the order upstream's encoder writes them) -----------------------------

export const FileAssetSchema = goStruct({ path: goString });

export const ContainerAssetSchema = goStruct({
  imageRef: goString,
  forceInsecure: goBool,
  tarballPath: goString,
  ociPath: goString,
});

export const SigningKeyAndCertificateSchema = goStruct({
  keyPath: goString,
  certPath: goString,
  azureVaultURL: goString,
  azureCertificateID: goString,
  awsKMSKeyID: goString,
  awsRegion: goString,
  awsCertPath: goString,
  awsCertARN: goString,
  signerAddress: goString,
});

export const SigningKeySchema = goStruct({
  keyPath: goString,
  azureVaultURL: goString,
  azureKeyID: goString,
  azureKeyVersion: goString,
  awsKMSKeyID: goString,
  awsRegion: goString,
  signerAddress: goString,
});

export const SecureBootAssetsSchema = goStruct({
  secureBootSigner: SigningKeyAndCertificateSchema,
  pcrSigner: SigningKeySchema,
  platformKeyPath: goString,
  keyExchangeKeyPath: goString,
  signatureKeyPath: goString,
  includeWellKnownCerts: goBool,
});

export const InputSchema = goStruct({
  kernel: FileAssetSchema,
  initramfs: FileAssetSchema,
  sdStub: FileAssetSchema,
  sdBoot: FileAssetSchema,
  baseInstaller: ContainerAssetSchema,
  imageCache: ContainerAssetSchema,
  overlayInstaller: ContainerAssetSchema,
  secureboot: goPointer(SecureBootAssetsSchema),
  systemExtensions: goSlice(ContainerAssetSchema),
});

/** One META value: the YAML keys are the lower-cased Go field names (the struct has no tags). */
export const MetaValueSchema = goStruct({ key: goUint8, value: goString });

export const CustomizationSchema = goStruct({
  extraKernelArgs: goSlice(goString),
  metaContents: goSlice(MetaValueSchema),
  embeddedMachineConfiguration: goString,
});

export const OverlayOptionsSchema = goStruct({
  name: goString,
  image: ContainerAssetSchema,
  options: goAnyMap,
});

export const ImageOptionsSchema = goStruct({
  diskSize: goInt64,
  diskFormat: goEnum('DiskFormat', DISK_FORMATS),
  diskFormatOptions: goString,
  diskSectorSize: goUint,
  bootloader: goEnum('BootloaderKind', BOOTLOADER_KINDS),
  sdBootEnrollKeys: goEnum('SDBootEnrollKeys', SDBOOT_ENROLL_KEYS),
});

export const ISOOptionsSchema = goStruct({
  sdBootEnrollKeys: goEnum('SDBootEnrollKeys', SDBOOT_ENROLL_KEYS),
  bootloader: goEnum('BootloaderKind', BOOTLOADER_KINDS),
});

export const OutputSchema = goStruct({
  kind: goEnum('OutputKind', OUTPUT_KINDS),
  imageOptions: goPointer(ImageOptionsSchema),
  isoOptions: goPointer(ISOOptionsSchema),
  outFormat: goEnum('OutFormat', OUT_FORMATS),
});

export const ProfileSchema = goStruct({
  baseProfileName: goString,
  arch: goString,
  platform: goString,
  secureboot: goPointer(goBool),
  name: goString,
  version: goString,
  customization: CustomizationSchema,
  input: InputSchema,
  overlay: goPointer(OverlayOptionsSchema),
  output: OutputSchema,
});

export type FileAsset = z.output<typeof FileAssetSchema>;
export type ContainerAsset = z.output<typeof ContainerAssetSchema>;
export type SigningKeyAndCertificate = z.output<typeof SigningKeyAndCertificateSchema>;
export type SigningKey = z.output<typeof SigningKeySchema>;
export type SecureBootAssets = z.output<typeof SecureBootAssetsSchema>;
export type Input = z.output<typeof InputSchema>;
export type MetaValue = z.output<typeof MetaValueSchema>;
export type Customization = z.output<typeof CustomizationSchema>;
export type OverlayOptions = z.output<typeof OverlayOptionsSchema>;
export type ImageOptions = z.output<typeof ImageOptionsSchema>;
export type ISOOptions = z.output<typeof ISOOptionsSchema>;
export type Output = z.output<typeof OutputSchema>;
export type Profile = z.output<typeof ProfileSchema>;

/** Input accepted by `ProfileSchema` from a program: any subset, Go-typed values. */
export type ProfileInput = z.input<typeof ProfileSchema>;

/** The zero values, for building profiles in code. */
export const emptyProfile = (): Profile => ProfileSchema.parse({});
export const emptyContainerAsset = (): ContainerAsset => ContainerAssetSchema.parse({});
export const emptySecureBootAssets = (): SecureBootAssets => SecureBootAssetsSchema.parse({});
export const emptyImageOptions = (): ImageOptions => ImageOptionsSchema.parse({});
export const emptyISOOptions = (): ISOOptions => ISOOptionsSchema.parse({});
