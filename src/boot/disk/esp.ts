/**
 * Content of the EFI system partition for sd-boot (talos-imager.md §9.4): systemd-boot as the
 * removable-media loader, the UKI as a Type #2 boot entry, `loader/loader.conf`, and the SecureBoot
 * enrollment keys when enrollment is on. No `loader/entries`: sd-boot discovers the UKI itself.
 */
import { Readable } from 'node:stream';
import { invalidInput } from '../../core/errors.js';
import { fileFromBytes, type FileEntry, type FileTree } from '../../core/file-tree.js';
import { sourceChunks, sourceSize, type ByteSource } from '../../formats/pe/byte-source.js';

export type DiskArch = 'amd64' | 'arm64';
export type SecureBootEnrollMode = 'if-safe' | 'manual' | 'force';

export interface SecureBootEnrollment {
  mode: SecureBootEnrollMode;
  /** `.auth` files (EFI_VARIABLE_AUTHENTICATION_2) for PK, KEK and db. */
  pk: ByteSource;
  kek: ByteSource;
  db: ByteSource;
}

export interface EspContentOptions {
  arch: DiskArch;
  /** Profile version text, e.g. `v1.14.0`: the UKI is `EFI/Linux/Talos-<version>.efi`. */
  version: string;
  uki: ByteSource;
  systemdBoot: ByteSource;
  secureBootEnrollment?: SecureBootEnrollment;
}

/** `efiutils.Name`: the removable-media loader name per architecture. */
export function efiBootFileName(arch: DiskArch): string {
  if (arch === 'amd64') return 'BOOTX64.efi';
  if (arch === 'arm64') return 'BOOTAA64.efi';
  throw invalidInput('E_ARCH', `unknown architecture ${JSON.stringify(arch)} (amd64 or arm64)`);
}

export function loaderConf(enrollMode?: SecureBootEnrollMode): string {
  const base = '# systemd-boot configuration\n\ntimeout 10\n';
  return enrollMode ? `${base}\nsecure-boot-enroll ${enrollMode}\n` : base;
}

export function ukiFileName(version: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]{0,200}$/.test(version)) {
    throw invalidInput('E_VERSION', `version ${JSON.stringify(version)} cannot name a UKI file (letters, digits, . _ + - only)`);
  }
  return `Talos-${version}.efi`;
}

function sourceEntry(path: string, src: ByteSource): FileEntry {
  if (src instanceof Uint8Array) return fileFromBytes(path, src);
  return fileFromBytes(path, new Uint8Array(), {
    size: sourceSize(src),
    open: () => Readable.from(sourceChunks(src, path), { objectMode: false }),
  });
}

/** The ESP as a FileTree (the FAT writer sorts it). */
export function sdBootEspTree(o: EspContentOptions): FileTree {
  const tree: FileTree = [
    sourceEntry(`EFI/boot/${efiBootFileName(o.arch)}`, o.systemdBoot),
    sourceEntry(`EFI/Linux/${ukiFileName(o.version)}`, o.uki),
    fileFromBytes('loader/loader.conf', loaderConf(o.secureBootEnrollment?.mode)),
  ];
  const e = o.secureBootEnrollment;
  if (e) {
    if (!['if-safe', 'manual', 'force'].includes(e.mode)) throw invalidInput('E_SECUREBOOT_ENROLL', `unknown secure-boot-enroll mode ${JSON.stringify(e.mode)}`);
    tree.push(sourceEntry('loader/keys/auto/PK.auth', e.pk), sourceEntry('loader/keys/auto/KEK.auth', e.kek), sourceEntry('loader/keys/auto/db.auth', e.db));
  }
  return tree;
}
