import { describe, expect, it } from 'vitest';
import { pythonFloat, renderFiletime, renderValue } from '../../../lib/sources/evtx/values.ts';

const buf = (bytes: number[]): Buffer => Buffer.from(bytes);
const le = (n: bigint, width: number): number[] =>
  Array.from({ length: width }, (_, i) =>
    Number((BigInt.asUintN(width * 8, n) >> BigInt(8 * i)) & 0xffn),
  );
const utf16 = (s: string): number[] => [...Buffer.from(s, 'utf16le')];

// Expected strings are python-evtx's: Evtx/Nodes.py `string()` per type, checked with CPython's
// datetime and str(float) for the time and float cases.
describe('EVTX values: rendered as python-evtx writes them in its XML dump', () => {
  it.each([
    ['null', 0x00, [], ''],
    ['UTF-16 string, trailing NULs stripped', 0x01, utf16('mshta.exe\0\0'), 'mshta.exe'],
    ['UTF-16 string, restricted controls dropped, tab kept', 0x01, utf16('a\x01b\tc\x7f'), 'ab\tc'],
    [
      'UTF-16 string, CR LF and a lone CR read back as LF',
      0x01,
      utf16('a\r\nb\rc\r\x01\n'),
      'a\nb\nc\n',
    ],
    ['UTF-16 string with a byte-order mark', 0x01, [0xff, 0xfe, ...utf16('x')], 'x'],
    ['ANSI string', 0x02, [0x61, 0x62, 0x00], 'ab'],
    ['int8', 0x03, [0xff], '-1'],
    ['uint8', 0x04, [0xff], '255'],
    ['int16', 0x05, le(-2n, 2), '-2'],
    ['uint16', 0x06, le(65535n, 2), '65535'],
    ['int32', 0x07, le(-3n, 4), '-3'],
    ['uint32', 0x08, le(4294967295n, 4), '4294967295'],
    ['int64', 0x09, le(-5n, 8), '-5'],
    ['uint64 beyond 2^53', 0x0a, le(18446744073709551615n, 8), '18446744073709551615'],
    ['float', 0x0b, [...Buffer.from(new Float32Array([0.1]).buffer)], '0.10000000149011612'],
    ['double', 0x0c, [...Buffer.from(new Float64Array([100]).buffer)], '100.0'],
    ['boolean true', 0x0d, le(1n, 4), 'True'],
    ['boolean negative is False', 0x0d, le(-1n, 4), 'False'],
    ['binary as base64', 0x0e, [0, 1, 2, 0xff], 'AAEC/w=='],
    ['GUID', 0x0f, [...Array(16).keys()], '{03020100-0504-0706-0809-0a0b0c0d0e0f}'],
    ['size_t of 8 bytes', 0x10, le(4096n, 8), '4096'],
    ['size_t of 4 bytes', 0x10, le(4096n, 4), '4096'],
    ['FILETIME', 0x11, le(132050564241066098n, 8), '2019-06-15 07:13:44.106609'],
    ['FILETIME without microseconds', 0x11, le(132050528220000000n, 8), '2019-06-15 06:13:42'],
    ['FILETIME zero is datetime.min', 0x11, le(0n, 8), '0001-01-01 00:00:00'],
    [
      'FILETIME past year 9999 is datetime.min',
      0x11,
      le(2650467743999999999n, 8),
      '0001-01-01 00:00:00',
    ],
    [
      'SYSTEMTIME, milliseconds written as microseconds',
      0x12,
      [
        ...le(2019n, 2),
        ...le(3n, 2),
        ...le(2n, 2),
        ...le(19n, 2),
        ...le(23n, 2),
        ...le(38n, 2),
        ...le(52n, 2),
        ...le(123n, 2),
      ],
      '2019-03-19 23:38:52.000123',
    ],
    [
      'SID',
      0x13,
      [
        1,
        5,
        0,
        0,
        0,
        0,
        0,
        5,
        ...le(21n, 4),
        ...le(1n, 4),
        ...le(2n, 4),
        ...le(3n, 4),
        ...le(500n, 4),
      ],
      'S-1-5-21-1-2-3-500',
    ],
    ['hex32', 0x14, le(255n, 4), '0x000000ff'],
    ['hex64', 0x15, le(0x135a4n, 8), '0x00000000000135a4'],
    ['UTF-16 string array', 0x81, utf16('a\0bc\0'), '<string>a</string>\n<string>bc</string>\n'],
    ['uint16 array', 0x86, [...le(1n, 2), ...le(2n, 2)], '1,2'],
  ])('%s', (_name, type, bytes, expected) => {
    // Act
    const out = renderValue(buf(bytes as number[]), 0, (bytes as number[]).length, type as number);
    // Assess
    expect(out).toBe(expected);
  });

  it('rounds FILETIME through a float as python-evtx does, not to the exact tick', () => {
    // 116444736000000000 ticks is 1970-01-01 (0x019db1de_d53e8000); CPython writes +1 tick as
    // .000000 (0.1 µs lost) and +15 ticks as .000002 (1.5 µs, float error rounds up).
    expect(renderFiletime(0xd53e8000, 0x019db1de)).toBe('1970-01-01 00:00:00');
    expect(renderFiletime(0xd53e8001, 0x019db1de)).toBe('1970-01-01 00:00:00');
    expect(renderFiletime(0xd53e800f, 0x019db1de)).toBe('1970-01-01 00:00:00.000002');
  });

  it.each([
    [1e16, '1e+16'],
    [1.5, '1.5'],
    [1e-5, '1e-05'],
    [123456789012345.6, '123456789012345.6'],
    [-2.5e-7, '-2.5e-07'],
    [0.0001, '0.0001'],
    [0, '0.0'],
    [Number.NaN, 'nan'],
  ])('writes %d as Python str() does: %s', (x, expected) => {
    expect(pythonFloat(x)).toBe(expected);
  });
});
