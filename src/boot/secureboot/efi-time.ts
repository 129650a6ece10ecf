/**
 * EFI_TIME (UEFI specification §8.3): Year u16, Month, Day, Hour, Minute, Second, Pad1 (u8 each),
 * Nanosecond u32, TimeZone i16, Daylight u8, Pad2 u8. For authenticated variables only the date and
 * time are set (talos-imager.md §7.3); imagekit takes them from SOURCE_DATE_EPOCH in UTC instead of
 * the local clock.
 */
import { invalidInput } from '../../core/errors.js';

export const EFI_TIME_SIZE = 16;

export function efiTime(secondsSinceEpoch: number): Uint8Array {
  if (!Number.isSafeInteger(secondsSinceEpoch) || secondsSinceEpoch < 0) {
    throw invalidInput('E_EFI_TIME', `timestamp must be non-negative seconds since the epoch, got ${secondsSinceEpoch}`);
  }
  const d = new Date(secondsSinceEpoch * 1000);
  if (d.getUTCFullYear() > 9999) throw invalidInput('E_EFI_TIME', `timestamp ${secondsSinceEpoch} is past year 9999`);
  const out = Buffer.alloc(EFI_TIME_SIZE);
  out.writeUInt16LE(d.getUTCFullYear(), 0);
  out[2] = d.getUTCMonth() + 1;
  out[3] = d.getUTCDate();
  out[4] = d.getUTCHours();
  out[5] = d.getUTCMinutes();
  out[6] = d.getUTCSeconds();
  return new Uint8Array(out);
}
