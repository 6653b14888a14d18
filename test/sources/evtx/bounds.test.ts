import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  CHUNK_BYTES,
  createEvtxParser,
  type EvtxRecord,
  FILE_HEADER_BYTES,
  MAX_BINXML_DEPTH,
  parseEvtxStream,
} from '../../../lib/sources/evtx/index.ts';
import { parseEvtx } from './run.ts';
import {
  buildEvtx,
  type Content,
  sysmonRecord,
  sysmonTemplate,
  type Template,
  V,
} from './writer.ts';

const TEMPLATE = sysmonTemplate(1, ['Image']);
const file = buildEvtx({
  chunks: [
    [
      sysmonRecord(TEMPLATE, 1, 1, [V.wstring('a.exe')]),
      sysmonRecord(TEMPLATE, 2, 1, [V.wstring('b.exe')]),
    ],
    [sysmonRecord(TEMPLATE, 3, 1, [V.wstring('c.exe')])],
  ],
});

/** A template whose EventData holds `levels` nested elements. */
function nested(levels: number): Template {
  const t = sysmonTemplate(2, []);
  let inner: Content = { text: 'deep' };
  for (let i = 0; i < levels; i++) inner = { element: 'Nest', children: [inner] };
  (t.root as { children: Array<{ children?: Content[] }> }).children[1]!.children = [inner];
  return t;
}

describe('EVTX parser: bounds', () => {
  it('has the format sizes: a 4 KiB file header and 64 KiB chunks', () => {
    expect(FILE_HEADER_BYTES).toBe(4096);
    expect(CHUNK_BYTES).toBe(65536);
  });

  it('reports the records of a chunk as soon as the chunk is whole, holding no more than it', () => {
    // Prepare
    const seen: EvtxRecord[] = [];
    const parser = createEvtxParser({ onRecord: (r) => seen.push(r), onSkip: () => {} });
    const firstChunkEnd = FILE_HEADER_BYTES + CHUNK_BYTES;
    // Act
    parser.feed(file.subarray(0, firstChunkEnd - 1));
    const beforeLastByte = seen.length;
    parser.feed(file.subarray(firstChunkEnd - 1, firstChunkEnd));
    const afterFirstChunk = seen.length;
    parser.feed(file.subarray(firstChunkEnd));
    parser.end();
    // Assess
    expect([beforeLastByte, afterFirstChunk, seen.length]).toEqual([0, 2, 3]);
  });

  it(`reads elements nested ${MAX_BINXML_DEPTH - 4} deep`, () => {
    // Act
    const out = parseEvtx(
      buildEvtx({ chunks: [[sysmonRecord(nested(MAX_BINXML_DEPTH - 4), 1, 1, [])]] }),
    );
    // Assess
    expect(out.skips).toEqual([]);
    expect(out.records).toHaveLength(1);
  });

  it(`skips a record nested deeper than MAX_BINXML_DEPTH (${MAX_BINXML_DEPTH}) instead of overflowing the stack`, () => {
    // Prepare
    const deep = sysmonRecord(nested(MAX_BINXML_DEPTH + 1), 2, 1, []);
    const ok = sysmonRecord(TEMPLATE, 3, 1, [V.wstring('c.exe')]);
    // Act
    const out = parseEvtx(buildEvtx({ chunks: [[deep, ok]] }));
    // Assess
    expect(out.records.map((r) => r.recordId)).toEqual([1003]);
    expect(out.skips).toEqual([expect.objectContaining({ reason: 'binxml', record: 2 })]);
    expect(out.skips[0]?.message).toContain(`nesting deeper than ${MAX_BINXML_DEPTH}`);
  });

  it('reads one huge record that fills most of its chunk', () => {
    // Prepare: 30,000 UTF-16 characters, 60,000 bytes, near the 16-bit size of one value.
    const long = `${'x'.repeat(29_990)}ü/end`;
    // Act
    const out = parseEvtx(
      buildEvtx({ chunks: [[sysmonRecord(TEMPLATE, 1, 1, [V.wstring(long)])]] }),
      4096,
    );
    // Assess
    expect(out.skips).toEqual([]);
    expect(out.records[0]?.data.Image).toBe(long);
  });

  it('reads a stream through the adapter, whatever its pieces', async () => {
    // Prepare
    const pieces = [file.subarray(0, 5000), file.subarray(5000, 70000), file.subarray(70000)];
    const records: EvtxRecord[] = [];
    // Act
    const summary = await parseEvtxStream(Readable.from(pieces), {
      onRecord: (r) => records.push(r),
      onSkip: () => {},
    });
    // Assess
    expect(records.map((r) => r.data.Image)).toEqual(['a.exe', 'b.exe', 'c.exe']);
    expect(summary).toMatchObject({ bytes: file.length, chunks: 2, records: 3 });
  });
});
