/**
 * `Profile.Dump` (talos-imager.md §0 step 5, §1.1): the profile as the imager prints it, byte for
 * byte — go-yaml v4 encoder, two-space indent, struct field order, `omitempty` as Go evaluates it
 * (zero strings, numbers, false, nil pointers, empty slices and maps, structs whose fields are all
 * zero), enums as their text, a nil `secureboot` as `null`.
 */
import { goValueToYaml } from './go-value.js';
import type {
  ContainerAsset,
  Customization,
  FileAsset,
  ImageOptions,
  Input,
  ISOOptions,
  Output,
  OverlayOptions,
  Profile,
  SecureBootAssets,
} from './schema.js';
import { emitYaml, yamlBool, yamlInt, yamlNull, yamlSeq, yamlStr, type YamlNode } from './yaml/emit.js';

type Field = readonly [string, YamlNode];

/** Builds a struct's fields in order, skipping `omitempty` fields that hold their zero value. */
class Fields {
  readonly list: Field[] = [];
  always(key: string, node: YamlNode): this {
    this.list.push([key, node]);
    return this;
  }
  omitEmpty(key: string, empty: boolean, node: () => YamlNode): this {
    if (!empty) this.list.push([key, node()]);
    return this;
  }
  node(): YamlNode {
    return { kind: 'map', pairs: this.list.map(([k, v]) => [yamlStr(k), v] as const) };
  }
}

const allEmpty = (r: object) => Object.values(r).every((v) => v === '' || v === false || v === 0);

const fileAsset = (f: FileAsset) => new Fields().always('path', yamlStr(f.path)).node();

export const isZeroContainerAsset = (c: ContainerAsset) => allEmpty(c);

const containerAsset = (c: ContainerAsset) =>
  new Fields()
    .always('imageRef', yamlStr(c.imageRef))
    .omitEmpty('forceInsecure', !c.forceInsecure, () => yamlBool(true))
    .omitEmpty('tarballPath', c.tarballPath === '', () => yamlStr(c.tarballPath))
    .omitEmpty('ociPath', c.ociPath === '', () => yamlStr(c.ociPath))
    .node();

const SIGNER_KEYS = ['keyPath', 'certPath', 'azureVaultURL', 'azureCertificateID', 'awsKMSKeyID', 'awsRegion', 'awsCertPath', 'awsCertARN', 'signerAddress'] as const;
const PCR_SIGNER_KEYS = ['keyPath', 'azureVaultURL', 'azureKeyID', 'azureKeyVersion', 'awsKMSKeyID', 'awsRegion', 'signerAddress'] as const;

/** A struct of omitempty strings, in field order. */
function stringFields<T extends Record<K, string>, K extends string>(record: T, keys: readonly K[]): YamlNode {
  const f = new Fields();
  for (const k of keys) f.omitEmpty(k, record[k] === '', () => yamlStr(record[k]));
  return f.node();
}

const secureBootAssets = (s: SecureBootAssets) =>
  new Fields()
    .always('secureBootSigner', stringFields(s.secureBootSigner, SIGNER_KEYS))
    .always('pcrSigner', stringFields(s.pcrSigner, PCR_SIGNER_KEYS))
    .omitEmpty('platformKeyPath', s.platformKeyPath === '', () => yamlStr(s.platformKeyPath))
    .omitEmpty('keyExchangeKeyPath', s.keyExchangeKeyPath === '', () => yamlStr(s.keyExchangeKeyPath))
    .omitEmpty('signatureKeyPath', s.signatureKeyPath === '', () => yamlStr(s.signatureKeyPath))
    .omitEmpty('includeWellKnownCerts', !s.includeWellKnownCerts, () => yamlBool(true))
    .node();

const input = (i: Input) =>
  new Fields()
    .always('kernel', fileAsset(i.kernel))
    .always('initramfs', fileAsset(i.initramfs))
    .omitEmpty('sdStub', i.sdStub.path === '', () => fileAsset(i.sdStub))
    .omitEmpty('sdBoot', i.sdBoot.path === '', () => fileAsset(i.sdBoot))
    .omitEmpty('baseInstaller', isZeroContainerAsset(i.baseInstaller), () => containerAsset(i.baseInstaller))
    .omitEmpty('imageCache', isZeroContainerAsset(i.imageCache), () => containerAsset(i.imageCache))
    .omitEmpty('overlayInstaller', isZeroContainerAsset(i.overlayInstaller), () => containerAsset(i.overlayInstaller))
    .omitEmpty('secureboot', i.secureboot === null, () => secureBootAssets(i.secureboot!))
    .omitEmpty('systemExtensions', i.systemExtensions.length === 0, () => yamlSeq(i.systemExtensions.map(containerAsset)))
    .node();

const isZeroCustomization = (c: Customization) =>
  c.extraKernelArgs.length === 0 && c.metaContents.length === 0 && c.embeddedMachineConfiguration === '';

const customization = (c: Customization) =>
  new Fields()
    .omitEmpty('extraKernelArgs', c.extraKernelArgs.length === 0, () => yamlSeq(c.extraKernelArgs.map(yamlStr)))
    .omitEmpty('metaContents', c.metaContents.length === 0, () =>
      yamlSeq(c.metaContents.map((m) => new Fields().always('key', yamlInt(m.key)).always('value', yamlStr(m.value)).node())),
    )
    .omitEmpty('embeddedMachineConfiguration', c.embeddedMachineConfiguration === '', () => yamlStr(c.embeddedMachineConfiguration))
    .node();

const overlay = (o: OverlayOptions) =>
  new Fields()
    .always('name', yamlStr(o.name))
    .always('image', containerAsset(o.image))
    .omitEmpty('options', o.options.size === 0, () => goValueToYaml(o.options))
    .node();

const imageOptions = (o: ImageOptions) =>
  new Fields()
    .always('diskSize', yamlInt(o.diskSize))
    .omitEmpty('diskFormat', o.diskFormat === 'unknown', () => yamlStr(o.diskFormat))
    .omitEmpty('diskFormatOptions', o.diskFormatOptions === '', () => yamlStr(o.diskFormatOptions))
    .omitEmpty('diskSectorSize', o.diskSectorSize === 0, () => yamlInt(o.diskSectorSize))
    .omitEmpty('bootloader', o.bootloader === 'none', () => yamlStr(o.bootloader))
    .omitEmpty('sdBootEnrollKeys', o.sdBootEnrollKeys === 'if-safe', () => yamlStr(o.sdBootEnrollKeys))
    .node();

const isoOptions = (o: ISOOptions) =>
  new Fields()
    .always('sdBootEnrollKeys', yamlStr(o.sdBootEnrollKeys))
    .omitEmpty('bootloader', o.bootloader === 'none', () => yamlStr(o.bootloader))
    .node();

const output = (o: Output) =>
  new Fields()
    .always('kind', yamlStr(o.kind))
    .omitEmpty('imageOptions', o.imageOptions === null, () => imageOptions(o.imageOptions!))
    .omitEmpty('isoOptions', o.isoOptions === null, () => isoOptions(o.isoOptions!))
    .always('outFormat', yamlStr(o.outFormat))
    .node();

/** The YAML node tree of a profile (exported for tests and other dumps). */
export function profileToYamlNode(p: Profile): YamlNode {
  return new Fields()
    .omitEmpty('baseProfileName', p.baseProfileName === '', () => yamlStr(p.baseProfileName))
    .always('arch', yamlStr(p.arch))
    .always('platform', yamlStr(p.platform))
    .always('secureboot', p.secureboot === null ? yamlNull() : yamlBool(p.secureboot))
    .omitEmpty('name', p.name === '', () => yamlStr(p.name))
    .always('version', yamlStr(p.version))
    .omitEmpty('customization', isZeroCustomization(p.customization), () => customization(p.customization))
    .always('input', input(p.input))
    .omitEmpty('overlay', p.overlay === null, () => overlay(p.overlay!))
    .always('output', output(p.output))
    .node();
}

/** `Profile.Dump`: the YAML text, ending with a newline. */
export function dumpProfile(p: Profile): string {
  return emitYaml(profileToYamlNode(p));
}
