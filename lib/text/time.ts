/**
 * Exact time conversions: strings are split, never passed through floating point, so
 * `1603353124.335` seconds is 1603353124335 ms, not 1603353124334.9999.
 */

const ISO_LIKE =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(?:Z|[+-]00:?00)?$/;

/** Sysmon `UtcTime` (`2020-10-22 07:52:04.342`) or `SystemTime` (ISO, 7 decimals). */
export function parseUtcTime(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = ISO_LIKE.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(`${m[7] ?? ''}000`.slice(0, 3));
  const t = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, ms);
  return Number.isNaN(t) ? undefined : t;
}

const DECIMAL_SECONDS = /^(\d+)(?:\.(\d*))?$/;

/** Falcon `ContextTimeStamp`: seconds with a decimal fraction, as a string. */
export function parseEpochSeconds(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = DECIMAL_SECONDS.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * 1000 + Number(`${m[2] ?? ''}000`.slice(0, 3));
}

/** Falcon `timestamp` / LogScale `@timestamp`: milliseconds, as a string or number. */
export function parseEpochMillis(value: string | number | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? Math.trunc(n) : undefined;
}
