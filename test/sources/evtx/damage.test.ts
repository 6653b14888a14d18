import { describe, expect, it } from 'vitest';
import { parseEvtx, parseSlices } from './run.ts';
import {
  buildEvtx,
  CHUNK_BYTES,
  chunkAt,
  chunkOf,
  FILE_HEADER_BYTES,
  fixChunkChecksums,
  type RecordSpec,
  recordOffsets,
  sysmonRecord,
  sysmonTemplate,
  V,
} from './writer.ts';

const PROCESS = sysmonTemplate(1, ['RuleName', 'Image', 'CommandLine']);
const NETWORK = sysmonTemplate(3, ['Image', 'DestinationIp']);

/** Records `first`..`first + 4`: event ids 1 and 3 alternating, each chunk defining its templates. */
function records(first: number): RecordSpec[] {
  return Array.from({ length: 5 }, (_, i) => {
    const n = first + i;
    return n % 2 === 1
      ? sysmonRecord(PROCESS, n, 1, [V.null(), V.wstring(`C:\\p${n}.exe`), V.wstring(`p${n} /c`)])
      : sysmonRecord(NETWORK, n, 3, [V.wstring(`C:\\p${n}.exe`), V.wstring(`10.0.0.${n}`)]);
  });
}

/** Three chunks of five records: numbers 1-15, EventRecordID 1001-1015. */
const threeChunks = (spec: { headerChunkCount?: number } = {}): Uint8Array =>
  buildEvtx({ chunks: [records(1), records(6), records(11)], ...spec });

const numbers = (p: { records: Array<{ recordId: number }> }): number[] =>
  p.records.map((r) => r.recordId - 1000);
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const without = (all: number[], ...gone: number[]): number[] =>
  all.filter((n) => !gone.includes(n));

describe('EVTX parser: hand-built files', () => {
  it('reads templates defined inline once and referenced by offset afterwards', () => {
    // Act
    const { records: recs, skips, summary } = parseEvtx(threeChunks());
    // Assess
    expect(skips).toEqual([]);
    expect(numbers({ records: recs })).toEqual(range(1, 15));
    expect(recs[0]).toEqual({
      recordId: 1001,
      offset: chunkAt(0) + 512,
      eventId: 1,
      computer: 'HOST',
      systemTime: '2019-06-15 07:13:44.106609',
      channel: 'Microsoft-Windows-Sysmon/Operational',
      data: { RuleName: '', Image: 'C:\\p1.exe', CommandLine: 'p1 /c' },
    });
    expect(recs[13]?.data).toEqual({ Image: 'C:\\p14.exe', DestinationIp: '10.0.0.14' });
    expect(summary).toMatchObject({ chunks: 3, records: 15, rendered: 15, skipped: 0 });
  });

  it('walks Binary XML nested in a substitution value (type 0x21)', () => {
    // Prepare
    const inner = sysmonTemplate(7, []);
    inner.root = {
      element: 'Data',
      attrs: [['Name', { text: 'Image' }]],
      children: [{ sub: 0, type: 0x01 }],
    };
    const outer = sysmonTemplate(8, ['RuleName']);
    const root = outer.root as { children: Array<{ children?: unknown[] }> };
    root.children[1]!.children!.push({ sub: 6, type: 0x21 });
    const file = buildEvtx({
      chunks: [
        [sysmonRecord(outer, 1, 1, [V.wstring('r'), V.binXml(inner, [V.wstring('C:\\x.exe')])])],
      ],
    });
    // Act
    const { records: recs, skips } = parseEvtx(file);
    // Assess
    expect(skips).toEqual([]);
    expect(recs[0]?.data).toEqual({ RuleName: 'r', Image: 'C:\\x.exe' });
  });

  it('gives the same output wherever the input is split in two', () => {
    // Prepare
    const file = buildEvtx({ chunks: [records(1)] });
    const whole = parseEvtx(file);
    const cuts = range(0, file.length).filter((n) => n <= FILE_HEADER_BYTES + 2048 || n % 61 === 0);
    // Act
    const differing = cuts.filter((cut) => {
      const split = parseSlices([file.subarray(0, cut), file.subarray(cut)]);
      return JSON.stringify(split) !== JSON.stringify(whole);
    });
    // Assess
    expect(whole.records).toHaveLength(5);
    expect(differing).toEqual([]);
  });
});

/** Writes `bytes` at `at` in a copy of the file. */
function patched(file: Uint8Array, at: number, bytes: number[]): Uint8Array {
  const copy = file.slice();
  copy.set(bytes, at);
  return copy;
}

const u32le = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];

describe('EVTX parser: damaged files give every valid record and a counted reason', () => {
  it('reads valid chunks past a stale header chunk count', () => {
    // Act
    const { records: recs, skips, summary } = parseEvtx(threeChunks({ headerChunkCount: 1 }));
    // Assess
    expect(skips).toEqual([]);
    expect(numbers({ records: recs })).toEqual(range(1, 15));
    expect(summary).toMatchObject({ headerChunkCount: 1, chunks: 3, chunksPastHeaderCount: 2 });
  });

  it('skips a chunk whose header fails its checksum', () => {
    // Prepare
    const file = patched(threeChunks(), chunkAt(1) + 30, [0x7f]);
    // Act
    const { records: recs, skips, summary } = parseEvtx(file);
    // Assess
    expect(numbers({ records: recs })).toEqual([...range(1, 5), ...range(11, 15)]);
    expect(skips).toEqual([
      expect.objectContaining({ reason: 'chunk-header-checksum', chunk: 1, offset: chunkAt(1) }),
    ]);
    expect(summary.skips).toEqual({ 'chunk-header-checksum': 1 });
  });

  it('skips a chunk whose record data fails its checksum', () => {
    // Prepare
    const file = threeChunks();
    const file2 = patched(file, recordOffsets(file, 1)[1]! + 60, [0x7f]);
    // Act
    const { records: recs, skips } = parseEvtx(file2);
    // Assess
    expect(numbers({ records: recs })).toEqual([...range(1, 5), ...range(11, 15)]);
    expect(skips).toEqual([
      expect.objectContaining({ reason: 'chunk-data-checksum', chunk: 1, offset: chunkAt(1) }),
    ]);
    expect(skips[0]?.message).toContain('records 6-10 (5)');
  });

  it('reads the records before a cut inside a record and reports the cut one', () => {
    // Prepare
    const file = threeChunks();
    const third = recordOffsets(file, 2)[2]!;
    // Act
    const { records: recs, skips } = parseEvtx(file.subarray(0, third + 40));
    // Assess
    expect(numbers({ records: recs })).toEqual(range(1, 12));
    expect(skips).toEqual([
      expect.objectContaining({ reason: 'record-truncated', chunk: 2, record: 13, offset: third }),
    ]);
  });

  it('reports a cut between records as records missing from the chunk', () => {
    // Prepare
    const file = threeChunks();
    const fourth = recordOffsets(file, 2)[3]!;
    // Act
    const { records: recs, skips } = parseEvtx(file.subarray(0, fourth));
    // Assess
    expect(numbers({ records: recs })).toEqual(range(1, 13));
    expect(skips).toEqual([
      expect.objectContaining({ reason: 'record-truncated', chunk: 2, offset: fourth }),
    ]);
  });

  it('reports a cut inside a chunk header', () => {
    // Act
    const { records: recs, skips } = parseEvtx(threeChunks().subarray(0, chunkAt(2) + 100));
    // Assess
    expect(numbers({ records: recs })).toEqual(range(1, 10));
    expect(skips).toEqual([expect.objectContaining({ reason: 'record-truncated', chunk: 2 })]);
  });

  it.each([
    ['bytes that are not a chunk', 1000, 'trailing-bytes'],
    ['a 64 KiB block that is not a chunk', CHUNK_BYTES, 'chunk-magic'],
  ])('skips %s after the last chunk', (_name, length, reason) => {
    // Prepare
    const garbage = Uint8Array.from({ length }, (_, i) => (i * 131 + 7) & 0xff);
    const file = new Uint8Array([...threeChunks(), ...garbage]);
    // Act
    const { records: recs, skips } = parseEvtx(file);
    // Assess
    expect(numbers({ records: recs })).toEqual(range(1, 15));
    expect(skips).toEqual([expect.objectContaining({ reason, chunk: 3, offset: chunkAt(3) })]);
  });

  it('counts zero-filled chunk slots as blank, not as damage', () => {
    // Prepare
    const file = new Uint8Array([...threeChunks(), ...new Uint8Array(2 * CHUNK_BYTES)]);
    // Act
    const { records: recs, skips, summary } = parseEvtx(file);
    // Assess
    expect(recs).toHaveLength(15);
    expect(skips).toEqual([]);
    expect(summary.blankChunks).toBe(2);
  });

  it('skips a record without its signature and reads on from the next one', () => {
    // Prepare
    const file = threeChunks();
    const second = recordOffsets(file, 1)[1]!;
    const damaged = patched(file, second, [0x58, 0x58]);
    fixChunkChecksums(chunkOf(damaged, 1));
    // Act
    const { records: recs, skips } = parseEvtx(damaged);
    // Assess
    expect(numbers({ records: recs })).toEqual(without(range(1, 15), 7));
    expect(skips).toEqual([
      expect.objectContaining({ reason: 'record-magic', chunk: 1, offset: second }),
    ]);
  });

  it('skips a record whose size differs from its copy', () => {
    // Prepare
    const file = threeChunks();
    const [, second, third] = recordOffsets(file, 1);
    const damaged = patched(file, third! - 4, u32le(12345));
    fixChunkChecksums(chunkOf(damaged, 1));
    // Act
    const { records: recs, skips } = parseEvtx(damaged);
    // Assess
    expect(numbers({ records: recs })).toEqual(without(range(1, 15), 7));
    expect(skips).toEqual([
      expect.objectContaining({ reason: 'record-size', chunk: 1, record: 7, offset: second }),
    ]);
  });

  it('still renders records whose template was defined in a damaged record', () => {
    // Prepare: record 6 defines the process template that record 8 references by offset.
    const file = threeChunks();
    const [first, second] = recordOffsets(file, 1);
    const damaged = patched(file, second! - 4, u32le(1));
    fixChunkChecksums(chunkOf(damaged, 1));
    // Act
    const { records: recs, skips } = parseEvtx(damaged);
    // Assess
    expect(numbers({ records: recs })).toEqual(without(range(1, 15), 6));
    expect(recs.find((r) => r.recordId === 1008)?.data.Image).toBe('C:\\p8.exe');
    expect(skips).toEqual([
      expect.objectContaining({ reason: 'record-size', record: 6, offset: first }),
    ]);
  });

  it('skips a record whose template offset points outside the chunk', () => {
    // Prepare: record 8 references its template; the offset sits after the fragment header.
    const file = threeChunks();
    const third = recordOffsets(file, 1)[2]!;
    const damaged = patched(file, third + 24 + 4 + 6, u32le(0xfff0));
    fixChunkChecksums(chunkOf(damaged, 1));
    // Act
    const { records: recs, skips } = parseEvtx(damaged);
    // Assess
    expect(numbers({ records: recs })).toEqual(without(range(1, 15), 8));
    expect(skips).toEqual([
      expect.objectContaining({ reason: 'binxml', chunk: 1, record: 8, offset: third }),
    ]);
    expect(skips[0]?.message).toMatch(/template definition/);
  });

  it('reads the chunks of a file whose header is damaged, and says so', () => {
    // Act
    const { records: recs, skips, summary } = parseEvtx(patched(threeChunks(), 0, [0x00]));
    // Assess
    expect(recs).toHaveLength(15);
    expect(skips).toEqual([expect.objectContaining({ reason: 'file-header', offset: 0 })]);
    expect(summary.headerChunkCount).toBeUndefined();
  });

  it.each([
    ['empty input', 0],
    ['an input shorter than the file header', 100],
  ])('reports %s as a damaged file header', (_name, length) => {
    // Act
    const { records: recs, skips } = parseEvtx(threeChunks().subarray(0, length));
    // Assess
    expect(recs).toEqual([]);
    expect(skips).toEqual([expect.objectContaining({ reason: 'file-header' })]);
  });

  it('never throws nor hangs on randomly damaged bytes', () => {
    // Prepare: a seeded generator, half the damage hidden from the chunk checksums.
    let seed = 18;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const file = threeChunks();
    // Act + Assess
    for (let round = 0; round < 300; round++) {
      const damaged = file.slice();
      for (let k = 1 + random(8); k > 0; k--)
        damaged[FILE_HEADER_BYTES + random(3 * CHUNK_BYTES)] = random(256);
      if (round % 2 === 0) for (let c = 0; c < 3; c++) fixChunkChecksums(chunkOf(damaged, c));
      const { records: recs, summary } = parseEvtx(damaged, 1 + random(70000));
      expect(recs.length).toBeLessThanOrEqual(15);
      expect(summary.records).toBe(recs.length);
    }
  });
});

describe('EVTX parser: the prefilter', () => {
  it('counts refused records without rendering them', () => {
    // Prepare: record 3's CommandLine is a SID too short for its count; only rendering reads it.
    const bad = sysmonRecord(PROCESS, 3, 1, [
      V.null(),
      V.wstring('x'),
      V.raw(0x13, [1, 9, 0, 0, 0, 0, 0, 5]),
    ]);
    const recs = records(1);
    recs[2] = bad;
    const file = buildEvtx({ chunks: [recs] });
    let asked = 0;
    // Act
    const refused = parseEvtx(file, file.length, (id) => {
      asked++;
      return id === 3;
    });
    const rendered = parseEvtx(file);
    // Assess
    expect(asked).toBe(5);
    expect(numbers(refused)).toEqual([2, 4]);
    expect(refused.skips).toEqual([]);
    expect(refused.summary).toMatchObject({ records: 5, rendered: 2, filtered: 3 });
    expect(rendered.skips).toEqual([expect.objectContaining({ reason: 'binxml', record: 3 })]);
  });
});
