import { isUtf8 } from 'node:buffer';
import { utf8Of } from './fields.ts';

/**
 * Reading named members of a flat JSON object (one whose values are all scalars: an NXLog record,
 * Winlogbeat's `winlog.event_data`) on a chunk's latin1 view, without parsing the rest. Exact
 * where it answers: a value is what `JSON.parse` then `String()` would give; anything it cannot be
 * sure of (a nested value, a repeated name, a broken string) makes it answer null, and the caller
 * parses the record.
 */

/** Index just past the closing quote of the string whose opening quote is at `open`; -1 if none. */
function stringEnd(s: string, open: number, end: number): number {
  let q = s.indexOf('"', open + 1);
  while (q >= 0 && q < end) {
    let backslashes = 0;
    for (let j = q - 1; s.charCodeAt(j) === 92; j--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    q = s.indexOf('"', q + 1);
  }
  return -1;
}

/** The index of the first character at or after `i` that is not whitespace (at most `end`). */
export const skipSpace = (s: string, i: number, end: number): number => {
  while (i < end && s.charCodeAt(i) <= 32) i++;
  return i;
};

/** The named members' raw values (`[from, to)`, strings with their quotes), and where it ends. */
export interface FlatMembers {
  /** Index just past the object's closing brace. */
  end: number;
  /** Per name asked for: the span of its value as written, or -1 when absent. */
  from: Int32Array;
  to: Int32Array;
}

/** Room for the spans of `count` members, to pass to flatMembers again and again. */
export const flatMembersFor = (count: number): FlatMembers => ({
  end: 0,
  from: new Int32Array(count),
  to: new Int32Array(count),
});

/**
 * The spans of the members named `names` of the object opening at `open` (a `{`), or null when the
 * object is not flat (a nested object or array), names a member twice, or is cut short. Written
 * into `into` when given (what it held is overwritten), else into new room.
 */
export function flatMembers(
  s: string,
  open: number,
  end: number,
  names: readonly string[],
  into: FlatMembers = flatMembersFor(names.length),
): FlatMembers | null {
  if (s.charCodeAt(open) !== 123 /* { */) return null;
  const { from, to } = into;
  from.fill(-1);
  let i = skipSpace(s, open + 1, end);
  if (s.charCodeAt(i) === 125 /* } */) {
    into.end = i + 1;
    return into;
  }
  for (;;) {
    if (s.charCodeAt(i) !== 34) return null;
    const keyEnd = stringEnd(s, i, end);
    if (keyEnd < 0) return null;
    for (let k = i + 1; k < keyEnd - 1; k++) if (s.charCodeAt(k) === 92) return null; // `\u0049mage` is Image
    const which = nameAt(s, i + 1, keyEnd - 1, names);
    i = skipSpace(s, keyEnd, end);
    if (s.charCodeAt(i) !== 58 /* : */) return null;
    const valueStart = skipSpace(s, i + 1, end);
    const valueEnd = scalarEnd(s, valueStart, end);
    if (valueEnd < 0) return null;
    if (which >= 0) {
      if (from[which] !== -1) return null; // JSON.parse keeps the last of repeated names
      from[which] = valueStart;
      to[which] = valueEnd;
    }
    i = skipSpace(s, valueEnd, end);
    const c = s.charCodeAt(i);
    if (c === 125 /* } */) {
      into.end = i + 1;
      return into;
    }
    if (c !== 44 /* , */) return null;
    i = skipSpace(s, i + 1, end);
  }
}

/** Which of `names` the key text `[from, to)` is (keys with escapes are never asked for); -1 if none. */
function nameAt(s: string, from: number, to: number, names: readonly string[]): number {
  const length = to - from;
  for (let n = 0; n < names.length; n++) {
    const name = names[n]!;
    if (name.length === length && s.startsWith(name, from)) return n;
  }
  return -1;
}

/** Index just past the scalar value at `i` (string, number, literal); -1 for an object or array. */
function scalarEnd(s: string, i: number, end: number): number {
  const c = s.charCodeAt(i);
  if (c === 34) return stringEnd(s, i, end);
  if (c === 123 || c === 91 || i >= end) return -1;
  while (i < end) {
    const d = s.charCodeAt(i);
    if (d === 44 || d === 125 || d <= 32) break;
    i++;
  }
  return i;
}

/**
 * The value written at `[from, to)` as the text a JSON shape's reader makes of it (`jsonText`):
 * a string decoded from its UTF-8 bytes and JSON escapes, a plain integer or `true`/`false` as
 * written; undefined for `null` and for an absent member (`from` -1); null for anything else (an
 * invalid string, a number JSON.parse would rewrite such as `1.0` or `1e3`).
 */
export function flatText(s: string, from: number, to: number): string | undefined | null {
  if (from < 0) return undefined;
  const c = s.charCodeAt(from);
  if (c !== 34) {
    const literal = s.slice(from, to);
    if (literal === 'null') return undefined;
    if (literal === 'true' || literal === 'false') return literal;
    return /^(?:0|-?[1-9]\d{0,14})$/.test(literal) ? literal : null;
  }
  let raw = s.slice(from + 1, to - 1);
  let ascii = true;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code < 32) return null; // JSON.parse refuses a raw control character
    if (code > 127) ascii = false;
  }
  if (!ascii) {
    const text = utf8Of(raw);
    if (text === undefined) return null;
    raw = text;
  }
  return raw.includes('\\') ? parseJsonString(`"${raw}"`) : raw;
}

/** A JSON string literal (quotes included) decoded by JSON.parse; null when it is invalid. */
function parseJsonString(literal: string): string | null {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return null;
  }
}

/** True when the value at `[from, to)` is the JSON string `text` written without escapes. */
export function flatIs(s: string, from: number, to: number, text: string): boolean {
  return (
    from >= 0 &&
    to - from === text.length + 2 &&
    s.charCodeAt(from) === 34 &&
    s.startsWith(text, from + 1)
  );
}

/**
 * The JSON string content `[from, to)` of `s` (quoted at `from - 1` and `to`; `buf` holds the same
 * bytes, `s` is their latin1 view) unescaped, as the latin1 view of its UTF-8 bytes: what
 * `Buffer.from(JSON.parse(string), 'utf8')` gives, a lone surrogate as U+FFFD. Null when it is not
 * a valid JSON string, or has `\u` escapes and is not valid UTF-8 (otherwise its bytes pass as
 * they are, for the reader to check).
 *
 * Without `\u` escapes, JSON.parse of the latin1 view gives exactly that, natively, bytes past
 * ASCII untouched; with them (or what looks like them: `\\update` in a path) the text is decoded
 * as UTF-8 first, so that an escape and the bytes of a character mean the same.
 */
export function jsonStringLatin1(buf: Buffer, s: string, from: number, to: number): string | null {
  const quoted = s.slice(from - 1, to + 1);
  if (!quoted.includes('\\u')) return parseJsonString(quoted);
  const bytes = buf.subarray(from - 1, to + 1);
  if (!isUtf8(bytes)) return null;
  const text = parseJsonString(bytes.toString('utf8'));
  return text === null ? null : Buffer.from(text, 'utf8').toString('latin1');
}
