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

const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

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
  return raw.includes('\\') ? unescapeJson(raw) : raw;
}

/** A JSON string's content with its escapes decoded; null for an invalid escape. */
function unescapeJson(raw: string): string | null {
  let out = '';
  let last = 0;
  for (let i = raw.indexOf('\\'); i >= 0; i = raw.indexOf('\\', last)) {
    out += raw.slice(last, i);
    const e = raw.charAt(i + 1);
    if (e === 'u') {
      const hex = raw.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) return null;
      out += String.fromCharCode(Number.parseInt(hex, 16));
      last = i + 6;
    } else {
      const decoded = ESCAPES[e];
      if (decoded === undefined) return null;
      out += decoded;
      last = i + 2;
    }
  }
  return out + raw.slice(last);
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

const BYTE_ESCAPES: Record<number, number> = {
  34: 0x22, // \"
  92: 0x5c, // \\
  47: 0x2f, // \/
  98: 0x08, // \b
  102: 0x0c, // \f
  110: 0x0a, // \n
  114: 0x0d, // \r
  116: 0x09, // \t
};

const hexAt = (buf: Buffer, i: number): number => {
  const text = buf.toString('latin1', i, i + 4);
  return /^[0-9a-fA-F]{4}$/.test(text) ? Number.parseInt(text, 16) : -1;
};

/**
 * The bytes of the JSON string content `buf[from, to)` (between its quotes) with its escapes
 * decoded, as UTF-8: what `Buffer.from(JSON.parse(string), 'utf8')` gives, a lone surrogate as
 * U+FFFD. Null for an invalid escape. Runs between escapes are copied whole.
 */
export function jsonStringBytes(buf: Buffer, from: number, to: number): Buffer | null {
  const first = buf.indexOf(0x5c, from);
  if (first < 0 || first >= to) return buf.subarray(from, to);
  const out = Buffer.allocUnsafe(to - from);
  let n = buf.copy(out, 0, from, first);
  let i = first;
  while (i >= 0 && i < to) {
    const e = buf[i + 1];
    if (e === 0x75 /* u */) {
      let code = hexAt(buf, i + 2);
      if (code < 0 || i + 6 > to) return null;
      i += 6;
      if (code >= 0xd800 && code <= 0xdbff && buf[i] === 0x5c && buf[i + 1] === 0x75) {
        const low = hexAt(buf, i + 2);
        if (low >= 0xdc00 && low <= 0xdfff && i + 6 <= to) {
          code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          i += 6;
        }
      }
      n += out.write(
        code >= 0xd800 && code <= 0xdfff ? '\ufffd' : String.fromCodePoint(code),
        n,
        'utf8',
      );
    } else {
      const decoded = e === undefined ? undefined : BYTE_ESCAPES[e];
      if (decoded === undefined || i + 2 > to) return null;
      out[n++] = decoded;
      i += 2;
    }
    const next = buf.indexOf(0x5c, i);
    const stop = next < 0 || next > to ? to : next;
    n += buf.copy(out, n, i, stop);
    i = next < 0 || next >= to ? -1 : next;
  }
  return out.subarray(0, n);
}
