/**
 * The schematic: a Talos customization without a version (image-factory.md §1.1, §1.2).
 *
 * Field order here is the canonical serialization order. Zero values (empty strings, empty lists,
 * `false`, 0, bootloader `none`) are left out of this model: `decodeSchematic` never sets them and
 * the serializer omits them exactly as upstream's `omitempty` does.
 */

/** `customization.bootloader`; upstream's zero value `none` ("automatic") is represented by absence. */
export type SchematicBootloader = 'dual-boot' | 'sd-boot' | 'grub';

export const SCHEMATIC_BOOTLOADERS: readonly SchematicBootloader[] = ['dual-boot', 'sd-boot', 'grub'];

/** One initial META entry: key is a uint8. */
export interface SchematicMetaValue {
  key: number;
  value: string;
}

/**
 * A timestamp inside `overlay.options` (go-yaml reads unquoted `2001-12-14` as a time and writes it
 * back as RFC 3339). `text` is that re-emitted form; `utc` says the zone is UTC.
 */
export class YamlTimestamp {
  constructor(
    readonly text: string,
    readonly utc = text.endsWith('Z'),
  ) {}
  toString(): string {
    return this.text;
  }
}

/** A key of a nested options mapping that has non-string keys (go-yaml `map[interface{}]interface{}`). */
export type OverlayOptionKey = string | bigint | number | boolean | null | YamlTimestamp;

/**
 * A value inside `overlay.options`, as go-yaml decodes it generically: integers are bigint (int64 or
 * uint64), floats are number, strings, booleans, null, timestamps, lists, string-keyed mappings as
 * plain objects, and mappings with any non-string key as `Map`.
 */
export type OverlayOptionValue =
  | null
  | boolean
  | bigint
  | number
  | string
  | YamlTimestamp
  | OverlayOptionValue[]
  | SchematicOverlayOptions
  | Map<OverlayOptionKey, OverlayOptionValue>;

/** A string-keyed options mapping (created without a prototype so any key is an own property). */
export interface SchematicOverlayOptions {
  [key: string]: OverlayOptionValue;
}

export interface SchematicOverlay {
  /** SchematicOverlay image repository path, e.g. `siderolabs/sbc-raspberrypi`. */
  image: string;
  /** SchematicOverlay name, e.g. `rpi_generic`. */
  name: string;
  /** Free-form options passed to the overlay installer (omitted when empty). */
  options?: SchematicOverlayOptions;
}

export interface SchematicSecureBoot {
  /** `off`/`manual`/`if-safe`/`force`, not validated at decode time (§1.2 row 3.6). */
  enrollKeys?: string;
  includeWellKnownCertificates?: boolean;
}

export interface SchematicCustomization {
  embeddedMachineConfiguration?: string;
  extraKernelArgs?: string[];
  meta?: SchematicMetaValue[];
  systemExtensions?: { officialExtensions?: string[] };
  bootloader?: SchematicBootloader;
  secureboot?: SchematicSecureBoot;
  /** Sector size (uint64): a number, or a bigint beyond 2^53. */
  diskImage?: { sectorSize?: number | bigint };
}

export interface Schematic {
  /** Enterprise only; community edition rejects a non-empty owner. */
  owner?: string;
  overlay?: SchematicOverlay;
  customization: SchematicCustomization;
}

/** A new options mapping without a prototype (so `__proto__` is an ordinary key). */
export function newOverlayOptions(): SchematicOverlayOptions {
  return Object.create(null) as SchematicOverlayOptions;
}
