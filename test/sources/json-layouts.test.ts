import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanObject } from '../../lib/engine/index.ts';
import type { ScanResult } from '../../lib/engine/types.ts';
import { defaultRule } from '../../lib/rule/index.ts';
import { SOURCE_PLUGINS } from '../../lib/sources/index.ts';
import { sortGroups, summarize } from '../bench/compare.ts';
import { type BatchManifest, generateBatch } from '../bench/generate.ts';
import { SHAPE_SOURCE_NAMES, type SysmonShape } from '../bench/shapes.ts';

/**
 * The JSON shapes' pre-filter reads members off the raw text, written as the shippers write them
 * (compact, in their order, strings everywhere). Written any other valid way, the same events must
 * give the same result: the pre-filter reads what it can for certain and leaves the rest to the
 * parser. Each test rewrites a generated batch's records in other layouts, one layout a record,
 * and compares fast mode with full mode and with what the generator planted.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Layout {
  /** Spaces around `:` and `,`. */
  spaced?: boolean;
  /** Members in reverse order. */
  reversed?: boolean;
  /** Rewrites a string as JSON text (quotes included). */
  quote?: (s: string) => string;
  /** Rewrites an object before it is written (at every depth). */
  members?: (o: { [key: string]: Json }) => Array<[string, Json]>;
}

const plain = (s: string): string => JSON.stringify(s);

/** JSON text of `v` in `layout` (JSON.stringify cannot write duplicates or escapes it does not need). */
function write(v: Json, layout: Layout): string {
  if (v === null || typeof v !== 'object')
    return typeof v === 'string' ? (layout.quote ?? plain)(v) : JSON.stringify(v);
  const colon = layout.spaced ? ' : ' : ':';
  const comma = layout.spaced ? ' , ' : ',';
  if (Array.isArray(v)) return `[${v.map((x) => write(x, layout)).join(comma)}]`;
  let entries = layout.members ? layout.members(v) : Object.entries(v);
  if (layout.reversed) entries = [...entries].reverse();
  return `{${entries.map(([k, x]) => `${plain(k)}${colon}${write(x, layout)}`).join(comma)}}`;
}

const CHANNEL = 'Microsoft-Windows-Sysmon/Operational';
const NUMERIC = new Set(['ProcessId', 'DestinationPort', 'SourcePort', 'ParentProcessId']);

/**
 * The layouts, each keeping every value JSON.parse gives (so the same events and matches), but
 * for `extra` (a member the engine never reads) and `duplicate` (a first, different value that
 * JSON.parse replaces with the real one).
 */
const LAYOUTS: Record<string, Layout> = {
  compact: {},
  spaced: { spaced: true },
  reversed: { reversed: true },
  // Escapes a reader must decode: `\/`, every `k` as `\u006b`, anything past ASCII as `\uXXXX`.
  escaped: {
    quote: (s) =>
      s === CHANNEL
        ? plain(s) // escaped, the channel is the parser's to read (no shipper escapes it)
        : plain(s)
            .replaceAll('/', '\\/')
            .replaceAll('k', '\\u006b')
            .replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  },
  // Numbers and booleans where shippers write strings: the parse-everything path makes them text.
  typed: {
    members: (o) =>
      Object.entries(o).map(([k, x]): [string, Json] =>
        NUMERIC.has(k) && typeof x === 'string' && /^[1-9]\d*$/.test(x)
          ? [k, Number(x)]
          : k === 'Initiated' && (x === 'true' || x === 'false')
            ? [k, x === 'true']
            : [k, x],
      ),
  },
  extra: {
    members: (o) =>
      'ProcessGuid' in o ? [...Object.entries(o), ['Extra', { nested: ['x'] }]] : Object.entries(o),
  },
  duplicate: {
    members: (o) =>
      'Image' in o
        ? [['Image', 'C:\\decoy\\not-this.exe'], ...Object.entries(o)]
        : Object.entries(o),
  },
};

const LAYOUT_NAMES = Object.keys(LAYOUTS);

/**
 * Layouts the pre-filter reads without the parser: a file of these must still parse few records.
 * Winlogbeat's channel and event_data are looked for as Winlogbeat writes them, compactly.
 */
const READ_RAW: Record<'nxlog' | 'winlogbeat', string[]> = {
  nxlog: ['compact', 'spaced', 'reversed', 'escaped', 'typed'],
  winlogbeat: ['compact', 'reversed', 'escaped', 'typed'],
};

/** Envelopes of a CloudWatch Logs file: JSON objects one after another. */
function envelopes(text: string): Json[] {
  return text
    .split(/(?<=\})(?=\{"messageType")/)
    .filter((s) => s.trim() !== '')
    .map((s) => JSON.parse(s) as Json);
}

/** Rewrites each XML message as another writer might escape it, keeping its text. */
const MESSAGE_LAYOUTS: Record<string, (xml: string) => string> = {
  compact: plain,
  // Go's encoder: `<`, `>` and `&` as \u escapes.
  htmlSafe: (xml) =>
    plain(xml).replaceAll('<', '\\u003c').replaceAll('>', '\\u003e').replaceAll('&', '\\u0026'),
  escaped: (xml) => plain(xml).replaceAll('/', '\\/').replaceAll('k', '\\u006b'),
  // The event XML with double-quoted attributes: every `"` escaped in the message.
  doubleQuoted: (xml) => plain(xml.replace(/(Name|SystemTime|Guid)='([^']*)'/g, '$1="$2"')),
};

function scan(body: Buffer, source: string, mode: 'fast' | 'full'): Promise<ScanResult> {
  return scanObject(Readable.from([body]), {
    origin: `layouts.${source}`,
    sources: SOURCE_PLUGINS,
    source,
    rule: defaultRule(),
    mode,
  });
}

describe('JSON shapes: any valid layout gives what the shippers’ layout gives', () => {
  let dir = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 't1102-layouts-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const batch = async (shape: SysmonShape): Promise<{ text: string; manifest: BatchManifest }> => {
    const { path, manifest } = await generateBatch({
      source: 'sysmon',
      shape,
      mb: 2,
      seed: 7,
      dir,
      attackRate: 0.005,
    });
    return { text: gunzipSync(readFileSync(path)).toString('utf8'), manifest };
  };

  async function expectSameAsPlanted(body: Buffer, shape: SysmonShape, manifest: BatchManifest) {
    const source = SHAPE_SOURCE_NAMES[shape];
    const fast = await scan(body, source, 'fast');
    const full = await scan(body, source, 'full');
    expect(fast.damage).toBeUndefined();
    expect(sortGroups(fast.groups)).toEqual(sortGroups(full.groups));
    expect(fast.stats.skipped).toEqual(full.stats.skipped);
    expect(summarize(fast.groups)).toEqual(summarize(manifest.groups));
    return fast;
  }

  it.each(['nxlog', 'winlogbeat'] as const)(
    '%s: records in seven layouts, one each in turn, give the planted matches in both modes',
    async (shape) => {
      // Prepare
      const { text, manifest } = await batch(shape);
      const lines = text.split('\n').filter((l) => l !== '');
      const rewritten = lines.map((line, i) =>
        write(JSON.parse(line) as Json, LAYOUTS[LAYOUT_NAMES[i % LAYOUT_NAMES.length]!]!),
      );

      // Act and assess
      await expectSameAsPlanted(gzipSync(`${rewritten.join('\n')}\n`), shape, manifest);
    },
  );

  it.each(['nxlog', 'winlogbeat'] as const)(
    '%s: layouts the pre-filter reads without the parser leave most records unparsed',
    async (shape) => {
      // Prepare
      const { text, manifest } = await batch(shape);
      const lines = text.split('\n').filter((l) => l !== '');
      const raw = READ_RAW[shape];
      const rewritten = lines.map((line, i) =>
        write(JSON.parse(line) as Json, LAYOUTS[raw[i % raw.length]!]!),
      );

      // Act
      const fast = await expectSameAsPlanted(
        gzipSync(`${rewritten.join('\n')}\n`),
        shape,
        manifest,
      );

      // Assess: only records that may match, and held connections a join reads, are parsed.
      expect(fast.stats.recordsParsed).toBeLessThan(lines.length * 0.05);
    },
  );

  it('cwl: envelopes and messages in other layouts give the planted matches in both modes', async () => {
    // Prepare: envelopes in turn compact, spaced, with a nested member in their log events
    // (CloudWatch Logs writes none); messages in turn in each MESSAGE_LAYOUTS escaping.
    const { text, manifest } = await batch('cwl');
    const messageLayouts = Object.values(MESSAGE_LAYOUTS);
    let n = 0;
    const quote = (s: string) =>
      s.startsWith('<') ? messageLayouts[n++ % messageLayouts.length]!(s) : plain(s);
    const rewritten = envelopes(text).map((envelope, i) =>
      write(
        envelope,
        i % 3 === 0
          ? { quote }
          : i % 3 === 1
            ? { quote, spaced: true }
            : {
                quote,
                members: (o) =>
                  'message' in o ? [...Object.entries(o), ['extra', { a: 1 }]] : Object.entries(o),
              },
      ),
    );

    // Act and assess
    const body = Buffer.concat(rewritten.map((e) => gzipSync(e)));
    await expectSameAsPlanted(body, 'cwl', manifest);
  });

  it('cwl: compact envelopes are read without parsing them, whatever their messages’ escapes', async () => {
    // Prepare
    const { text, manifest } = await batch('cwl');
    const messageLayouts = Object.values(MESSAGE_LAYOUTS);
    let n = 0;
    const quote = (s: string) =>
      s.startsWith('<') ? messageLayouts[n++ % messageLayouts.length]!(s) : plain(s);
    const rewritten = envelopes(text).map((envelope) => write(envelope, { quote }));

    // Act
    const fast = await expectSameAsPlanted(Buffer.from(rewritten.join('')), 'cwl', manifest);

    // Assess
    expect(fast.stats.recordsRead).toBe(rewritten.length);
    expect(fast.stats.recordsParsed).toBe(0);
  });

  it('cwl: a log event that is not valid JSON is skipped alone in fast mode, its envelope whole in full mode', async () => {
    // Prepare: a process end (EventID 5) whose ProcessGuid holds a raw control character, which
    // JSON.parse refuses. Fast mode reads the GUID off the escaped text, finds it does not read
    // the same unescaped, and parses that log event alone.
    const { text, manifest } = await batch('cwl');
    const all = envelopes(text).map((e) => write(e, {}));
    const index = all.findIndex((e) => e.includes('<EventID>5</EventID>'));
    const envelope = all[index]!;
    const guid = envelope.indexOf(
      "<Data Name='ProcessGuid'>",
      envelope.indexOf('<EventID>5</EventID>'),
    );
    const at = guid + "<Data Name='ProcessGuid'>".length;
    all[index] = `${envelope.slice(0, at)}\u0001${envelope.slice(at)}`;
    const body = Buffer.from(all.join(''));

    // Act
    const fast = await scan(body, 'cwl-firehose', 'fast');
    const full = await scan(body, 'cwl-firehose', 'full');

    // Assess: one skip each; fast mode lost nothing else of the envelope.
    expect(fast.stats.skipped).toEqual({ 'invalid-json': 1 });
    expect(full.stats.skipped).toEqual({ 'invalid-json': 1 });
    expect(summarize(fast.groups)).toEqual(summarize(manifest.groups));
  });
});
