/**
 * Virtual extensions, built as flattened trees ready for the pipeline:
 * - the embedded machine configuration (talos-imager.md §4.7; upstream `pkg/imager/embed.go`);
 * - the Image Factory schematic extension (image-factory.md §4.3; `internal/artifacts/schematic.go`).
 * The trees hold what upstream's tarballs hold once extracted by the imager (talos-imager.md §2.2):
 * directories get their mode OR 0700, files keep theirs, and the SELinux label of the machine
 * configuration travels as an xattr.
 */
import { createHash } from 'node:crypto';
import { invalidInput } from '../../core/errors.js';
import { dirEntry, fileFromBytes, type FileTree } from '../../core/file-tree.js';
import { quirksFor } from '../../profile/quirks.js';
import { encodeExtensionManifest, MANIFEST_VERSION } from './manifest.js';

export const EMBEDDED_CONFIG_DIR = 'usr/local/etc/talos';
export const EMBEDDED_CONFIG_FILE = 'config.yaml';
/** `constants.StateSelinuxLabel`. */
export const STATE_SELINUX_LABEL = 'system_u:object_r:system_state_t:s0';
export const SCHEMATIC_EXTENSION_NAME = 'schematic';
export const IMAGE_FACTORY_NAME = 'Image Factory';

function dirs(paths: string[]): FileTree {
  return paths.map((p) => dirEntry(p, { mode: 0o755 }));
}

/** The embedded-config extension: the config at `/usr/local/etc/talos/config.yaml`, mode 0400. */
export function embeddedConfigExtension(machineConfig: Uint8Array | string): FileTree {
  const config = typeof machineConfig === 'string' ? Buffer.from(machineConfig) : Buffer.from(machineConfig);
  const manifest = encodeExtensionManifest({
    version: MANIFEST_VERSION,
    metadata: {
      name: 'embedded-config',
      version: createHash('sha256').update(config).digest('hex'),
      author: 'Imager',
      description: 'Virtual extension which embeds the machine configuration.',
      compatibility: { talos: { version: '>= 1.0.0' } },
    },
  });
  const parts = EMBEDDED_CONFIG_DIR.split('/');
  return [
    fileFromBytes('manifest.yaml', manifest, { mode: 0o644 }),
    ...dirs(['rootfs', ...parts.map((_, i) => `rootfs/${parts.slice(0, i + 1).join('/')}`)]),
    fileFromBytes(`rootfs/${EMBEDDED_CONFIG_DIR}/${EMBEDDED_CONFIG_FILE}`, config, {
      mode: 0o400,
      xattrs: { 'security.selinux': Buffer.from(STATE_SELINUX_LABEL) },
    }),
  ];
}

export interface SchematicExtensionOptions {
  /** The schematic ID (64 hex characters). */
  schematicId: string;
  /** The factory's external URL, as configured (`http.externalURL`). */
  externalUrl: string;
  /** Target Talos version: from 1.7 the canonical schematic YAML goes into `extraInfo`. */
  talosVersion: string;
  /** The canonical schematic YAML (the bytes the ID is computed from, image-factory.md §1.5). */
  canonicalSchematic?: string;
}

/** The schematic extension: an empty file named after the ID under `/usr/local/share/schematic/`. */
export function schematicExtension(opts: SchematicExtensionOptions): FileTree {
  if (!/^[0-9a-f]{64}$/.test(opts.schematicId)) {
    throw invalidInput('E_SCHEMATIC_ID', `schematic ID must be 64 lowercase hex characters, got ${JSON.stringify(opts.schematicId)}`);
  }
  const withInfo = quirksFor(opts.talosVersion).supportsOverlay && opts.canonicalSchematic;
  const manifest = encodeExtensionManifest({
    version: MANIFEST_VERSION,
    metadata: {
      name: SCHEMATIC_EXTENSION_NAME,
      version: opts.schematicId,
      author: `${IMAGE_FACTORY_NAME} (${opts.externalUrl})`,
      description: `Virtual extension which specifies the schematic of the image built with ${SCHEMATIC_EXTENSION_NAME}.`,
      compatibility: { talos: { version: '>= 1.0.0' } },
      ...(withInfo ? { extraInfo: opts.canonicalSchematic } : {}),
    },
  });
  return [
    fileFromBytes('manifest.yaml', manifest, { mode: 0o644 }),
    ...dirs(['rootfs', 'rootfs/usr', 'rootfs/usr/local', 'rootfs/usr/local/share', 'rootfs/usr/local/share/schematic']),
    fileFromBytes(`rootfs/usr/local/share/schematic/${opts.schematicId}`, '', { mode: 0o644 }),
  ];
}
