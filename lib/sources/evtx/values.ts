import { EvtxValueError } from './errors.ts';

/**
 * Substitution and value types of Binary XML, rendered as text exactly as python-evtx's XML dump
 * writes them (Evtx/Nodes.py `*TypeNode.string()` then Views.py `escape_value`), because the
 * expected outputs of this project come from python-evtx dumps read back by the XML reader.
 */

export const VALUE_TYPE = {
  null: 0x00,
  wstring: 0x01,
  string: 0x02,
  int8: 0x03,
  uint8: 0x04,
  int16: 0x05,
  uint16: 0x06,
  int32: 0x07,
  uint32: 0x08,
  int64: 0x09,
  uint64: 0x0a,
  float: 0x0b,
  double: 0x0c,
  boolean: 0x0d,
  binary: 0x0e,
  guid: 0x0f,
  sizeT: 0x10,
  filetime: 0x11,
  systemtime: 0x12,
  sid: 0x13,
  hex32: 0x14,
  hex64: 0x15,
  binXml: 0x21,
  wstringArray: 0x81,
} as const;

/** Set on a value type for an array of that type. */
export const ARRAY_FLAG = 0x80;

/** Byte size of the fixed-size types (0 for the variable-size ones). */
const FIXED_SIZE: Readonly<Record<number, number>> = {
  [VALUE_TYPE.int8]: 1,
  [VALUE_TYPE.uint8]: 1,
  [VALUE_TYPE.int16]: 2,
  [VALUE_TYPE.uint16]: 2,
  [VALUE_TYPE.int32]: 4,
  [VALUE_TYPE.uint32]: 4,
  [VALUE_TYPE.int64]: 8,
  [VALUE_TYPE.uint64]: 8,
  [VALUE_TYPE.float]: 4,
  [VALUE_TYPE.double]: 8,
  [VALUE_TYPE.boolean]: 4,
  [VALUE_TYPE.guid]: 16,
  [VALUE_TYPE.sizeT]: 8,
  [VALUE_TYPE.filetime]: 8,
  [VALUE_TYPE.systemtime]: 16,
  [VALUE_TYPE.hex32]: 4,
  [VALUE_TYPE.hex64]: 8,
};

/**
 * Size of a value written inline after a Value token (no size descriptor): strings carry a
 * 16-bit length, binary a 32-bit one, a SID its sub-authority count.
 */
export function inlineValueSize(b: Buffer, at: number, type: number): number {
  switch (type) {
    case VALUE_TYPE.null:
      return 0;
    case VALUE_TYPE.wstring:
      return 2 + 2 * b.readUInt16LE(at);
    case VALUE_TYPE.string:
    case VALUE_TYPE.wstringArray:
      return 2 + b.readUInt16LE(at);
    case VALUE_TYPE.binary:
      return 4 + b.readUInt32LE(at);
    case VALUE_TYPE.sid:
      return 8 + 4 * b[at + 1]!;
    default: {
      const fixed = FIXED_SIZE[type];
      if (fixed === undefined)
        throw new EvtxValueError(`value type 0x${type.toString(16)} has no inline size`);
      return fixed;
    }
  }
}

/** Renders an inline value (after a Value token) whose size `inlineValueSize` gave. */
export function renderInlineValue(b: Buffer, at: number, size: number, type: number): string {
  switch (type) {
    case VALUE_TYPE.wstring:
    case VALUE_TYPE.string:
    case VALUE_TYPE.wstringArray:
      return renderValue(b, at + 2, size - 2, type);
    case VALUE_TYPE.binary:
      return renderValue(b, at + 4, size - 4, type);
    default:
      return renderValue(b, at, size, type);
  }
}

// python-evtx's escape_value drops these (after turning non-ASCII into character references,
// so only ASCII controls other than tab, LF and CR are lost): https://www.w3.org/TR/xml11/#charsets
const RESTRICTED = /[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]/g;
/** The restricted characters and CR: the only ones a dump does not give back as written. */
const NOT_AS_WRITTEN = /[\x01-\x08\x0b-\x1f\x7f]/;

/**
 * A string as the XML path reads it from a python-evtx dump: trailing NULs stripped (by
 * python-evtx), restricted controls removed (by its escaping), and CR LF or a lone CR read as LF
 * (by the XML parser: https://www.w3.org/TR/xml/#sec-line-ends).
 */
export function dumpedText(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0) end--;
  const t = end === s.length ? s : s.slice(0, end);
  return NOT_AS_WRITTEN.test(t) ? t.replace(RESTRICTED, '').replace(/\r\n?/g, '\n') : t;
}

/** UTF-16 as Python's `utf16` codec reads it: a leading byte-order mark is honoured and dropped. */
function utf16(b: Buffer, at: number, size: number): string {
  const n = size & ~1;
  if (n >= 2 && b[at] === 0xff && b[at + 1] === 0xfe) return b.toString('utf16le', at + 2, at + n);
  if (n >= 2 && b[at] === 0xfe && b[at + 1] === 0xff) {
    return Buffer.from(b.subarray(at + 2, at + n))
      .swap16()
      .toString('utf16le');
  }
  return ucs2(b, at, at + n);
}

/**
 * Buffer's UTF-16LE decoder without `toString`'s argument handling, which costs as much as the
 * decoding for the short strings of event data.
 */
const ucs2: (b: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as { ucs2Slice?: unknown }).ucs2Slice === 'function'
    ? (b, start, end) =>
        (b as unknown as { ucs2Slice(s: number, e: number): string }).ucs2Slice(start, end)
    : (b, start, end) => b.toString('utf16le', start, end);

/**
 * Renders a substitution value of `size` bytes at `at`. Binary XML (0x21) is structure, not
 * text: the walker expands it, never this function.
 */
export function renderValue(b: Buffer, at: number, size: number, type: number): string {
  if (at + size > b.length) throw new EvtxValueError('value runs past the end of its chunk');
  if (type & ARRAY_FLAG && type !== VALUE_TYPE.wstringArray) return renderArray(b, at, size, type);
  switch (type) {
    case VALUE_TYPE.null:
      return '';
    case VALUE_TYPE.wstring:
      return dumpedText(utf16(b, at, size));
    case VALUE_TYPE.string:
      return dumpedText(b.toString('latin1', at, at + size));
    case VALUE_TYPE.wstringArray:
      return renderWstringArray(b, at, size);
    case VALUE_TYPE.binary:
      return b.toString('base64', at, at + size);
    case VALUE_TYPE.sizeT:
      return size === 4 ? String(b.readUInt32LE(at)) : b.readBigUInt64LE(at).toString();
    case VALUE_TYPE.sid:
      return renderSid(b, at, size);
    case VALUE_TYPE.binXml:
      throw new EvtxValueError('a Binary XML value where text was expected');
    default:
      return renderFixed(b, at, size, type);
  }
}

/** The fixed-size types; python-evtx reads them at their own size whatever the descriptor says. */
function renderFixed(b: Buffer, at: number, size: number, type: number): string {
  const need = FIXED_SIZE[type];
  if (need === undefined) return b.toString('base64', at, at + size);
  if (at + need > b.length) throw new EvtxValueError('value runs past the end of its chunk');
  switch (type) {
    case VALUE_TYPE.int8:
      return String(b.readInt8(at));
    case VALUE_TYPE.uint8:
      return String(b[at]);
    case VALUE_TYPE.int16:
      return String(b.readInt16LE(at));
    case VALUE_TYPE.uint16:
      return String(b.readUInt16LE(at));
    case VALUE_TYPE.int32:
      return String(b.readInt32LE(at));
    case VALUE_TYPE.uint32:
      return String(b.readUInt32LE(at));
    case VALUE_TYPE.int64:
      return b.readBigInt64LE(at).toString();
    case VALUE_TYPE.uint64:
      return b.readBigUInt64LE(at).toString();
    case VALUE_TYPE.float:
      return pythonFloat(b.readFloatLE(at));
    case VALUE_TYPE.double:
      return pythonFloat(b.readDoubleLE(at));
    case VALUE_TYPE.boolean:
      return b.readInt32LE(at) > 0 ? 'True' : 'False';
    case VALUE_TYPE.guid:
      return renderGuid(b, at);
    case VALUE_TYPE.filetime:
      return renderFiletime(b.readUInt32LE(at), b.readUInt32LE(at + 4));
    case VALUE_TYPE.systemtime:
      return renderSystemtime(b, at);
    case VALUE_TYPE.hex32:
      return `0x${b.readUInt32LE(at).toString(16).padStart(8, '0')}`;
    default:
      return `0x${b.readBigUInt64LE(at).toString(16).padStart(16, '0')}`;
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** `{33221100-5544-7766-8899-aabbccddeeff}`: lower case, the first three groups little-endian. */
export function renderGuid(b: Uint8Array, at: number): string {
  return (
    `{${HEX[b[at + 3]!]}${HEX[b[at + 2]!]}${HEX[b[at + 1]!]}${HEX[b[at]!]}` +
    `-${HEX[b[at + 5]!]}${HEX[b[at + 4]!]}-${HEX[b[at + 7]!]}${HEX[b[at + 6]!]}` +
    `-${HEX[b[at + 8]!]}${HEX[b[at + 9]!]}-${HEX[b[at + 10]!]}${HEX[b[at + 11]!]}` +
    `${HEX[b[at + 12]!]}${HEX[b[at + 13]!]}${HEX[b[at + 14]!]}${HEX[b[at + 15]!]}}`
  );
}

/** `S-1-5-21-…`: a 48-bit big-endian authority, then little-endian 32-bit sub-authorities. */
function renderSid(b: Buffer, at: number, size: number): string {
  const count = b[at + 1]!;
  if (size < 8 + 4 * count || at + 8 + 4 * count > b.length) {
    throw new EvtxValueError(`SID of ${count} sub-authorities does not fit its ${size} bytes`);
  }
  let s = `S-${b[at]}-${b.readUInt32BE(at + 2) * 65536 + b.readUInt16BE(at + 6)}`;
  for (let i = 0; i < count; i++) s += `-${b.readUInt32LE(at + 8 + 4 * i)}`;
  return s;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Python `datetime.isoformat(' ')`: the fraction only when there are microseconds. */
function isoformat(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  us: number,
): string {
  const date = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)} ${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}`;
  return us === 0 ? date : `${date}.${pad(us, 6)}`;
}

/** python-evtx renders every unreadable or zero time as `datetime.min`. */
const DATETIME_MIN = '0001-01-01 00:00:00';

/** Python's `round()` of a float: to the nearest, ties to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * FILETIME (100 ns ticks since 1601) the way python-evtx computes it, float rounding included:
 * `datetime.utcfromtimestamp(float(qword) * 1e-7 - 11644473600)`, microseconds rounded half to
 * even, so the fraction can differ from the exact ticks by a microsecond, as in its dumps.
 */
export function renderFiletime(low: number, high: number): string {
  if (low === 0 && high === 0) return DATETIME_MIN;
  const t = (high * 2 ** 32 + low) * 1e-7 - 11644473600;
  let seconds = Math.trunc(t);
  let us = roundHalfEven((t - seconds) * 1e6);
  if (us >= 1e6) {
    us -= 1e6;
    seconds += 1;
  } else if (us < 0) {
    us += 1e6;
    seconds -= 1;
  }
  const d = new Date(seconds * 1000);
  const year = d.getUTCFullYear();
  if (Number.isNaN(year) || year < 1 || year > 9999) return DATETIME_MIN;
  return isoformat(
    year,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    us,
  );
}

/**
 * SYSTEMTIME (eight 16-bit fields). python-evtx passes the milliseconds field to `datetime` as
 * microseconds, so 123 ms is written `.000123`; this keeps that to match its dumps.
 */
function renderSystemtime(b: Buffer, at: number): string {
  const [y, mo, d, h, mi, s, ms] = [0, 1, 3, 4, 5, 6, 7].map((i) => b.readUInt16LE(at + 2 * i)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const daysInMonth =
    new Date(Date.UTC(2000, mo, 0)).getUTCDate() + (mo === 2 && !leap(y) ? -1 : 0);
  const valid = y >= 1 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth;
  if (!valid || h > 23 || mi > 59 || s > 59) return DATETIME_MIN;
  return isoformat(y, mo, d, h, mi, s, ms);
}

const leap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Python's `str(float)`: shortest round-trip digits, fixed notation for exponents -4..15. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa = '', expText = '0'] = x.toExponential().split('e');
  const exp = Number(expText);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${pad(Math.abs(exp), 2)}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const fraction = digits.slice(exp + 1);
  return `${sign}${whole}.${fraction === '' ? '0' : fraction}`;
}

/**
 * An array of UTF-16 strings (0x81) as python-evtx writes it: each string as
 * `<string>…</string>\n` (escaped in its dump, so read back as that very text).
 */
function renderWstringArray(b: Buffer, at: number, size: number): string {
  if (size < 2) return '';
  const parts = utf16(b, at, size).split('\0');
  // A trailing terminator ends the last string rather than starting an empty one.
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.map((p) => `<string>${dumpedText(p)}</string>\n`).join('');
}

/**
 * Arrays of fixed-size values (python-evtx cannot read them): the elements rendered one by one
 * and joined with commas.
 */
function renderArray(b: Buffer, at: number, size: number, type: number): string {
  const element = type & ~ARRAY_FLAG;
  const width = element === VALUE_TYPE.sizeT ? 8 : FIXED_SIZE[element];
  if (width === undefined) return b.toString('base64', at, at + size);
  const out: string[] = [];
  for (let p = at; p + width <= at + size; p += width) out.push(renderFixed(b, p, width, element));
  return out.join(',');
}
