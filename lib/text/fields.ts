import { isUtf8 } from 'node:buffer';

/**
 * Cheap field reads on raw record text for the pre-filter. They search `s` (the latin1 view of a
 * whole chunk) within `[start, end)` in place, allocating nothing but the value. Each returns the
 * exact value when the raw text makes it certain, `null` when it cannot be sure (escapes,
 * entities, odd layout: the caller must then parse the record), and `undefined` when the field
 * is absent.
 */

/** Index of `needle` in `s` within `[start, end)`, else -1. */
export function find(s: string, needle: string, start: number, end: number): number {
  const i = s.indexOf(needle, start);
  return i >= 0 && i + needle.length <= end ? i : -1;
}

/**
 * Where a member written compactly opens: `needle` is the member's text without its opening quote
 * (`key":`, `key":"value"`), which indexOf finds far faster than a needle starting with `"`, the
 * most common character in JSON. Returns the index of the opening quote, or -1.
 */
export function findMember(s: string, needle: string, start: number, end: number): number {
  let c = find(s, needle, start, end);
  while (c > start && (s.charCodeAt(c - 1) !== 34 || s.charCodeAt(c - 2) === 92))
    c = find(s, needle, c + 1, end); // `Said":"` or an escaped `\"aid":"` inside a value
  return c > start ? c - 1 : -1;
}

/** The compact needles of findMember per `"key"`: `key":"` for strings, `key":` for any value. */
const STRING_NEEDLES = new Map<string, string>();
const VALUE_NEEDLES = new Map<string, string>();

function compactNeedle(cache: Map<string, string>, quotedKey: string, tail: string): string {
  let needle = cache.get(quotedKey);
  if (needle === undefined) {
    needle = `${quotedKey.slice(1)}:${tail}`;
    cache.set(quotedKey, needle);
  }
  return needle;
}

/**
 * Where the value of the first member named `quotedKey` starts (past any space after its colon):
 * -1 when there is none, -2 when `quotedKey` stands where no member's name can. Compact writers
 * (FDR, LogScale, Winlogbeat) put no space around the colon: `compact` (see findMember) finds
 * them, and any other layout takes the long way.
 */
function memberValueAt(
  s: string,
  quotedKey: string,
  compact: string,
  start: number,
  end: number,
): number {
  const c = findMember(s, compact, start, end);
  if (c >= 0) return c + quotedKey.length + 1;
  let k = find(s, quotedKey, start, end);
  while (k > start && s.charCodeAt(k - 1) === 92) k = find(s, quotedKey, k + 1, end); // `\"key\"` is inside a value
  if (k < 0) return -1;
  let i = k + quotedKey.length;
  while (i < end && s.charCodeAt(i) <= 32) i++;
  if (s.charCodeAt(i) !== 58 /* : */) return -2;
  i++;
  while (i < end && s.charCodeAt(i) <= 32) i++;
  return i;
}

/** Start and end of the JSON string value of `quotedKey` (e.g. `'"DomainName"'`), still escaped. */
export function jsonValueSpan(
  s: string,
  quotedKey: string,
  start: number,
  end: number,
): [number, number] | null | undefined {
  // The needle takes in the value's opening quote: only string values are looked for.
  const compact = compactNeedle(STRING_NEEDLES, quotedKey, '"');
  const v = memberValueAt(s, quotedKey, compact, start, end);
  if (v === -1) return undefined;
  if (v < 0 || s.charCodeAt(v) !== 34 /* " */) return null;
  const from = v + 1;
  let q = find(s, '"', from, end);
  while (q > 0) {
    let b = 0;
    for (let j = q - 1; j >= from && s.charCodeAt(j) === 92; j--) b++;
    if (b % 2 === 0) return [from, q];
    q = find(s, '"', q + 1, end);
  }
  return null;
}

/** A JSON string value, still JSON-escaped. */
export function jsonRaw(
  s: string,
  quotedKey: string,
  start = 0,
  end = s.length,
): string | null | undefined {
  const span = jsonValueSpan(s, quotedKey, start, end);
  return span ? s.slice(span[0], span[1]) : span;
}

/**
 * A whole number written as a JSON number or a string of digits (`"EventID":22`,
 * `"event_id":"22"`); undefined when the key is absent or its value is anything else (the
 * caller then parses the record). At most five digits: Windows event ids fit in 16 bits.
 */
export function jsonInteger(
  s: string,
  quotedKey: string,
  start = 0,
  end = s.length,
): number | undefined {
  let i = memberValueAt(s, quotedKey, compactNeedle(VALUE_NEEDLES, quotedKey, ''), start, end);
  if (i < 0) return undefined;
  const quoted = s.charCodeAt(i) === 34;
  if (quoted) i++;
  let n = 0;
  let digits = 0;
  for (let c = s.charCodeAt(i); c >= 48 && c <= 57; c = s.charCodeAt(++i)) {
    n = n * 10 + (c - 48);
    if (++digits > 5) return undefined;
  }
  if (digits === 0 || (digits > 1 && s.charCodeAt(i - digits) === 48)) return undefined;
  const next = s.charCodeAt(i);
  if (quoted) return next === 34 ? n : undefined;
  return next === 44 || next === 125 || next <= 32 ? n : undefined;
}

/** `Name='x'` and `Name="x"` for each `<Data>` name asked for, built once. */
const DATA_NEEDLES = new Map<string, [string, string]>();

/**
 * The text of `<Data Name='name'>…</Data>` (either quote style) when it has no entity; with
 * `raw`, the text as written, entity references and all (null only when the layout is odd).
 */
export function xmlData(
  s: string,
  name: string,
  start = 0,
  end = s.length,
  raw = false,
): string | null | undefined {
  let needles = DATA_NEEDLES.get(name);
  if (needles === undefined) {
    needles = [`Name='${name}'`, `Name="${name}"`];
    DATA_NEEDLES.set(name, needles);
  }
  let k = find(s, needles[0], start, end);
  if (k < 0) k = find(s, needles[1], start, end);
  if (k < 0) return undefined;
  let i = k + name.length + 7;
  while (i < end && s.charCodeAt(i) <= 32) i++;
  const c = s.charCodeAt(i);
  if (c === 47 /* / */) return '';
  if (c !== 62 /* > */) return null;
  const close = find(s, '<', i + 1, end);
  if (close < 0) return null;
  const value = s.slice(i + 1, close);
  return raw || !value.includes('&') ? value : null;
}

/** Text content of the first `<tag …>…</tag>` within the record, e.g. EventID. */
export function xmlElementText(
  s: string,
  tag: string,
  start = 0,
  end = s.length,
): string | undefined {
  const k = find(s, `<${tag}`, start, end);
  if (k < 0) return undefined;
  const gt = find(s, '>', k, end);
  if (gt < 0 || s.charCodeAt(gt - 1) === 47) return undefined;
  const close = find(s, '<', gt, end);
  return close < 0 ? undefined : s.slice(gt + 1, close).trim();
}

/** Last path segment for `\` or `/` separators. */
export function basename(path: string): string {
  const i = Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
  return i < 0 ? path : path.slice(i + 1);
}

/**
 * A JSON string value unescaped, when its only escapes are `\\` and `\/` (a path such as
 * `\\Device\\HarddiskVolume2\\…\\WMIC.exe` as JSON writes it); null for any other escape.
 */
export function jsonPlain(
  s: string,
  quotedKey: string,
  start = 0,
  end = s.length,
): string | null | undefined {
  const raw = jsonRaw(s, quotedKey, start, end);
  return raw == null ? raw : unescapePlain(raw);
}

/** JSON string content with its `\\` and `\/` escapes decoded; null for any other escape. */
export function unescapePlain(raw: string): string | null {
  if (!raw.includes('\\')) return raw;
  let out = '';
  let from = 0;
  for (let i = raw.indexOf('\\'); i >= 0; i = raw.indexOf('\\', from)) {
    const escaped = raw.charAt(i + 1);
    if (escaped !== '\\' && escaped !== '/') return null;
    out += raw.slice(from, i) + escaped;
    from = i + 2;
  }
  return out + raw.slice(from);
}

/**
 * A flat copy of `s`. Values read off a chunk's latin1 view are V8 sliced strings that keep the
 * whole chunk string (256 KiB) alive; anything held past the record (process keys, hostnames of
 * held connections) must be detached, or memory grows with the input.
 */
export function detach<T extends string | undefined>(s: T): T {
  // `' ' + s` is a cons string; slicing it flattens it into a new string of its own, and the
  // result is a slice of that copy, not of the chunk. Cheaper than a round trip through Buffer.
  return (s === undefined ? s : ` ${s}`.slice(1)) as T;
}

/**
 * A value read off the latin1 view, decoded as the UTF-8 it really is; undefined when the bytes
 * are not valid UTF-8 (a full parse would skip that record as invalid-encoding).
 */
export function utf8Of(latin1: string): string | undefined {
  const bytes = Buffer.from(latin1, 'latin1');
  return isUtf8(bytes) ? bytes.toString('utf8') : undefined;
}
