import { describe, expect, it } from 'vitest';
import { flatIs, flatMembers, flatText, jsonStringLatin1 } from '../../lib/text/json-flat.ts';

/**
 * The pre-filter of the JSON shapes reads members off the raw text; where it answers, it must
 * answer what JSON.parse would. Records are given as UTF-8 and read, like the engine reads them,
 * through their latin1 view.
 */
const latin1 = (json: string): string => Buffer.from(json, 'utf8').toString('latin1');

/** Each named member as the pre-filter reads it, or null when it leaves the record to the parser. */
function readRaw(json: string, names: string[]): Array<string | undefined | null> | null {
  const s = latin1(json);
  const m = flatMembers(s, 0, s.length, names);
  if (m === null) return null;
  return names.map((_, n) => flatText(s, m.from[n]!, m.to[n]!));
}

/** What a JSON shape's reader makes of the member: jsonText of JSON.parse. */
function readParsed(json: string, names: string[]): Array<string | undefined> {
  const o = JSON.parse(json) as Record<string, unknown>;
  return names.map((name) => {
    const v = o[name];
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
      ? String(v)
      : undefined;
  });
}

describe('flatMembers and flatText: members of a flat JSON object off the raw text', () => {
  it.each([
    ['plain strings', '{"Image":"C:\\\\Windows\\\\cmd.exe","User":"CORP\\\\ann"}'],
    ['spaces around colons and commas', '{ "Image" : "a.exe" ,\t"User":\r\n"b" }'],
    [
      'every JSON escape',
      '{"Image":"\\"q\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u0041\\u00e9\\ud83d\\ude00"}',
    ],
    ['UTF-8 text', '{"Image":"C:\\\\Users\\\\Zoë\\\\日本\\\\😀.exe","User":"x"}'],
    ['a quote right after an escaped backslash', '{"User":"a\\\\","Image":"b\\\\\\""}'],
    ['numbers and literals', '{"Image":0,"User":-12,"ProcessId":123456789012345,"Initiated":true}'],
    ['null reads as absent', '{"Image":null,"User":"u"}'],
    ['absent members', '{"Other":"x"}'],
    ['an empty object', '{}'],
    ['GUID braces inside strings', '{"ProcessGuid":"{a-b}","Image":"}{[]"}'],
  ])('reads what JSON.parse reads: %s', (_name, json) => {
    // Prepare
    const names = ['Image', 'User', 'ProcessId', 'Initiated', 'ProcessGuid'];

    // Act
    const raw = readRaw(json, names);

    // Assess
    expect(raw).toEqual(readParsed(json, names));
  });

  it.each([
    ['a nested object', '{"Image":"a","Extra":{"Image":"b"}}'],
    ['a nested array', '{"Image":"a","List":["x"]}'],
    ['a repeated name (JSON.parse keeps the last)', '{"Image":"a","Image":"b"}'],
    ['an escaped key that decodes to a name asked for', '{"\\u0049mage":"b"}'],
    ['a string cut short', '{"Image":"a'],
    ['a missing colon', '{"Image" "a"}'],
    ['a missing comma', '{"Image":"a" "User":"b"}'],
    ['not an object', '["Image","a"]'],
  ])('leaves the record to the parser: %s', (_name, json) => {
    expect(readRaw(json, ['Image', 'User'])).toBeNull();
  });

  it.each([
    ['a raw control character', '{"Image":"a\tb"}'],
    ['an unknown escape', '{"Image":"a\\qb"}'],
    ['a short \\u escape', '{"Image":"a\\u12"}'],
    ['invalid UTF-8', '{"Image":"\u00ff"}'],
    ['a number JSON.parse rewrites', '{"Image":1.0}'],
    ['a negative zero', '{"Image":-0}'],
    ['an exponent', '{"Image":1e3}'],
    ['a literal that is none', '{"Image":nul}'],
  ])('answers null for a value it cannot read for certain: %s', (_name, json) => {
    // Prepare: invalid UTF-8 is one 0xff byte, which is what the latin1 view of it holds.
    const s = json.includes('\u00ff') ? json : latin1(json);

    // Act
    const m = flatMembers(s, 0, s.length, ['Image']);

    // Assess
    expect(m).not.toBeNull();
    expect(flatText(s, m!.from[0]!, m!.to[0]!)).toBeNull();
  });

  it('reads a record in the middle of a chunk and reports where its object ends', () => {
    // Prepare
    const s = 'junk{"User":"u"} more';

    // Act
    const m = flatMembers(s, 4, s.length, ['User']);

    // Assess
    expect(m?.end).toBe(16);
    expect(flatText(s, m!.from[0]!, m!.to[0]!)).toBe('u');
  });

  it('flatIs compares a string written without escapes, and nothing else', () => {
    const s = '{"a":"Sysmon","b":"Sys\\u006don","c":7}';
    const m = flatMembers(s, 0, s.length, ['a', 'b', 'c'])!;
    expect(flatIs(s, m.from[0]!, m.to[0]!, 'Sysmon')).toBe(true);
    expect(flatIs(s, m.from[1]!, m.to[1]!, 'Sysmon')).toBe(false);
    expect(flatIs(s, m.from[2]!, m.to[2]!, '7')).toBe(false);
  });

  it.each([
    ['no escapes', 'C:/Windows plain'],
    ['backslashes and quotes', String.raw`C:\\Windows\\\"x\" \/`],
    ['control escapes', String.raw`a\r\nb\tc\bd\fe`],
    ['\\u escapes past ASCII', String.raw`Zo\u00eb \u65e5 \u0041`],
    ['a surrogate pair', String.raw`\ud83d\ude00!`],
    ['UTF-8 text between escapes', 'Zoë\\\\日本'],
  ])('jsonStringLatin1 gives the UTF-8 bytes of the decoded string: %s', (_name, content) => {
    // Prepare: the string inside other text, as a message sits inside its envelope.
    const buf = Buffer.from(`{"message":"${content}"}`, 'utf8');
    const from = buf.indexOf('"', 11) + 1;
    const to = buf.length - 2;
    const expected = Buffer.from(JSON.parse(`"${content}"`) as string, 'utf8');

    // Act
    const latin1 = jsonStringLatin1(buf, buf.toString('latin1'), from, to);

    // Assess
    expect(Buffer.from(latin1!, 'latin1')).toEqual(expected);
  });

  /** `content` quoted, and where its content is: the arguments of jsonStringLatin1. */
  const quoted = (content: string) => {
    const buf = Buffer.from(`"${content}"`, 'latin1');
    return [buf, buf.toString('latin1'), 1, buf.length - 1] as const;
  };

  it('jsonStringLatin1 writes a lone surrogate as U+FFFD, as Buffer.from does', () => {
    const latin1 = jsonStringLatin1(...quoted(String.raw`a\ud800b`));
    expect(Buffer.from(latin1!, 'latin1').toString('utf8')).toBe('a\ufffdb');
  });

  it.each([String.raw`a\qb`, String.raw`a\u12`, String.raw`a\u12zz`])(
    'jsonStringLatin1 answers null for an invalid escape: %s',
    (content) => {
      expect(jsonStringLatin1(...quoted(content))).toBeNull();
    },
  );
});
