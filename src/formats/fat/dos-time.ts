/**
 * FAT timestamps: a 16-bit date (years since 1980, month, day) and a 16-bit time with 2-second
 * resolution, plus a 10 ms creation field (fatgen103 §6.2). We encode UTC (no locale, §13) and clamp
 * to the representable range 1980-01-01 … 2107-12-31 23:59:58, as mkfs.fat does for its label entry;
 * mtools instead wraps earlier years (SOURCE_DATE_EPOCH=0 gives 2098 there).
 */
export const FAT_EPOCH_MIN = 315532800; // 1980-01-01T00:00:00Z
export const FAT_EPOCH_MAX = 4354819198; // 2107-12-31T23:59:58Z

export interface DosTime {
  date: number;
  time: number;
  /** Creation time hundredths (0–199): the odd second. */
  centiseconds: number;
}

export function toDosTime(unixSeconds: number): DosTime {
  const t = Math.min(Math.max(Math.floor(unixSeconds), FAT_EPOCH_MIN), FAT_EPOCH_MAX);
  const d = new Date(t * 1000); // a fixed instant, not the clock
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  return { date, time, centiseconds: (d.getUTCSeconds() & 1) * 100 };
}

/** Seconds since the epoch (UTC) of a FAT date and time; null when the date is not valid. */
export function fromDosTime(date: number, time: number): number | null {
  const day = date & 31;
  const month = (date >> 5) & 15;
  const year = 1980 + (date >> 9);
  const sec = (time & 31) * 2;
  const min = (time >> 5) & 63;
  const hour = time >> 11;
  if (day < 1 || month < 1 || month > 12 || hour > 23 || min > 59 || sec > 59) return null;
  return Date.UTC(year, month - 1, day, hour, min, sec) / 1000;
}
