import { BinXmlWalker, ChunkBytes } from './binxml.ts';
import {
  CHUNK_BYTES,
  CHUNK_HEADER_BYTES,
  type ChunkHeader,
  checkChunkData,
  FILE_HEADER_BYTES,
  isBlankChunk,
  isChunk,
  readChunkHeader,
  readFileHeader,
} from './header.ts';
import { numericId, RecordCollector } from './record.ts';
import type {
  EvtxParser,
  EvtxParserOptions,
  EvtxSkip,
  EvtxSkipReason,
  EvtxSummary,
} from './types.ts';

/** Record header: signature (4), size (4), record number (8), written time (8). */
const RECORD_HEADER_BYTES = 24;
/** The smallest record: its header and the size copy at its end. */
const MIN_RECORD_BYTES = RECORD_HEADER_BYTES + 4;

/**
 * The EVTX push parser: feed it the file's bytes in slices of any size; it keeps one 4 KiB header
 * block and one 64 KiB chunk at a time, reads each chunk when it is whole, and reports every valid
 * record and every skipped piece of damage. It does no I/O and never throws on bad input.
 */
export function createEvtxParser(options: EvtxParserOptions): EvtxParser {
  const reader = new EvtxReader(options);
  return { feed: (bytes) => reader.feed(bytes), end: () => reader.end() };
}

/** A skip without its reason. */
type SkipPlace = Omit<EvtxSkip, 'reason'>;
/** Where in the file a chunk is. */
type ChunkPlace = Pick<EvtxSkip, 'chunk' | 'offset'>;

/** A chunk whose records are being read. */
interface ChunkInRead {
  c: ChunkBytes;
  h: ChunkHeader;
  /** File offset of the chunk. */
  base: number;
  index: number;
  /** End of the record data present: the free-space offset, or the cut. */
  dataEnd: number;
  /** The input ended before the chunk's record data did. */
  cut: boolean;
}

class EvtxReader {
  private readonly header = Buffer.alloc(FILE_HEADER_BYTES);
  private readonly chunk = Buffer.alloc(CHUNK_BYTES);
  private headerFill = 0;
  private chunkFill = 0;
  private chunkIndex = 0;
  private readonly walker = new BinXmlWalker();
  private readonly probe = new RecordCollector(true);
  private readonly collector = new RecordCollector(false);
  private readonly summary: EvtxSummary = {
    bytes: 0,
    chunks: 0,
    headerChunkCount: undefined,
    chunksPastHeaderCount: 0,
    blankChunks: 0,
    dirty: false,
    records: 0,
    rendered: 0,
    filtered: 0,
    skipped: 0,
    skips: {},
  };

  constructor(private readonly options: EvtxParserOptions) {}

  feed(input: Uint8Array): void {
    this.summary.bytes += input.length;
    let i = 0;
    while (i < input.length && this.headerFill < FILE_HEADER_BYTES) {
      const n = Math.min(FILE_HEADER_BYTES - this.headerFill, input.length - i);
      this.header.set(input.subarray(i, i + n), this.headerFill);
      this.headerFill += n;
      i += n;
      if (this.headerFill === FILE_HEADER_BYTES) this.readHeader();
    }
    while (i < input.length) {
      const n = Math.min(CHUNK_BYTES - this.chunkFill, input.length - i);
      this.chunk.set(input.subarray(i, i + n), this.chunkFill);
      this.chunkFill += n;
      i += n;
      if (this.chunkFill === CHUNK_BYTES) this.nextChunk();
    }
  }

  end(): EvtxSummary {
    if (this.headerFill < FILE_HEADER_BYTES) {
      const message = `the input ends after ${this.headerFill} bytes, inside the 4 KiB file header`;
      this.skip('file-header', { message, chunk: 0, offset: 0 });
    } else if (this.chunkFill > 0) {
      this.nextChunk();
    }
    return { ...this.summary, skips: { ...this.summary.skips } };
  }

  private skip(reason: EvtxSkipReason, place: SkipPlace): void {
    this.summary.skipped++;
    this.summary.skips[reason] = (this.summary.skips[reason] ?? 0) + 1;
    this.options.onSkip({ reason, ...place });
  }

  private readHeader(): void {
    const h = readFileHeader(this.header);
    if ('problem' in h) {
      this.skip('file-header', {
        message: `${h.message}; chunks are read anyway`,
        chunk: 0,
        offset: 0,
      });
      return;
    }
    this.summary.headerChunkCount = h.chunkCount;
    this.summary.dirty = h.dirty;
  }

  /** Reads the chunk buffer (64 KiB, or less at the end of the input) and empties it. */
  private nextChunk(): void {
    const length = this.chunkFill;
    const base = FILE_HEADER_BYTES + this.chunkIndex * CHUNK_BYTES;
    const place = { chunk: this.chunkIndex, offset: base };
    this.chunkFill = 0;
    this.chunkIndex++;
    const b = this.chunk.subarray(0, length);
    if (!isChunk(b)) {
      this.notAChunk(b, place);
      return;
    }
    if (length < CHUNK_HEADER_BYTES) {
      const message = `the input ends ${length} bytes into a chunk header`;
      this.skip('record-truncated', { message, ...place });
      return;
    }
    const h = readChunkHeader(b);
    if ('problem' in h) {
      this.skip('chunk-header-checksum', {
        message: `${h.message}: chunk skipped`,
        ...place,
      });
      return;
    }
    const cut = length < h.freeSpaceOffset;
    const bad = cut ? undefined : checkChunkData(b, h);
    if (bad) {
      const message = `${bad.message}: ${recordSpan(h)} skipped`;
      this.skip('chunk-data-checksum', { message, ...place });
      return;
    }
    this.summary.chunks++;
    const count = this.summary.headerChunkCount;
    if (count !== undefined && place.chunk >= count) this.summary.chunksPastHeaderCount++;
    const c = new ChunkBytes(this.chunk, length);
    this.readRecords({
      c,
      h,
      base,
      index: place.chunk,
      dataEnd: cut ? length : h.freeSpaceOffset,
      cut,
    });
  }

  /** A block without the chunk signature: a blank slot, garbage, or bytes after the last chunk. */
  private notAChunk(b: Buffer, place: ChunkPlace): void {
    if (b.length === CHUNK_BYTES && isBlankChunk(b)) this.summary.blankChunks++;
    else if (b.length === CHUNK_BYTES) {
      this.skip('chunk-magic', {
        message: 'a 64 KiB block without the ElfChnk signature',
        ...place,
      });
    } else if (b.some((x) => x !== 0)) {
      const message = `${b.length} bytes after the last chunk are not a chunk`;
      this.skip('trailing-bytes', { message, ...place });
    }
  }

  private readRecords(k: ChunkInRead): void {
    const b = k.c.b;
    let pos = CHUNK_HEADER_BYTES;
    while (pos < k.dataEnd) {
      const place = { chunk: k.index, offset: k.base + pos };
      if (pos + RECORD_HEADER_BYTES > k.dataEnd) break;
      if (!isRecordMagic(b, pos)) {
        const next = resync(b, pos + 1, k.dataEnd);
        this.skip('record-magic', {
          message: `no record signature; ${next - pos} bytes skipped`,
          ...place,
        });
        pos = next;
        continue;
      }
      const size = b.readUInt32LE(pos + 4);
      const record = b.readUInt32LE(pos + 8) + b.readUInt32LE(pos + 12) * 2 ** 32;
      if (
        k.cut &&
        size >= MIN_RECORD_BYTES &&
        pos + size > k.dataEnd &&
        pos + size <= k.h.freeSpaceOffset
      ) {
        const message = `the input ends ${k.dataEnd - pos} bytes into a record of ${size}`;
        this.skip('record-truncated', { message, record, ...place });
        return;
      }
      if (
        size < MIN_RECORD_BYTES ||
        pos + size > k.dataEnd ||
        b.readUInt32LE(pos + size - 4) !== size
      ) {
        const next = resync(b, pos + 1, k.dataEnd);
        const message = `record size ${size} is impossible or differs from its copy; ${next - pos} bytes skipped`;
        this.skip('record-size', { message, record, ...place });
        pos = next;
        continue;
      }
      this.readRecord(k, pos, size, record);
      pos += size;
    }
    this.endOfRecords(k, pos);
  }

  /** What is left after the last record: a cut, or bytes no record starts in. */
  private endOfRecords(k: ChunkInRead, pos: number): void {
    if (k.cut) {
      const message = `the input ends ${k.h.freeSpaceOffset - k.dataEnd} bytes before the chunk's record data does`;
      this.skip('record-truncated', { message, chunk: k.index, offset: k.base + k.dataEnd });
    } else if (pos < k.dataEnd) {
      const message = `${k.dataEnd - pos} bytes left over after the last record`;
      this.skip('record-size', { message, chunk: k.index, offset: k.base + pos });
    }
  }

  private readRecord(k: ChunkInRead, pos: number, size: number, record: number): void {
    const place = { chunk: k.index, record, offset: k.base + pos };
    const start = pos + RECORD_HEADER_BYTES;
    const end = pos + size - 4;
    const { wantEvent, onRecord } = this.options;
    try {
      if (wantEvent) {
        this.probe.reset();
        this.walker.walk(k.c, start, end, this.probe);
        const id = numericId(this.probe.fields.eventId);
        if (id !== undefined && !wantEvent(id)) {
          this.summary.records++;
          this.summary.filtered++;
          return;
        }
      }
      this.collector.reset();
      this.walker.walk(k.c, start, end, this.collector);
    } catch (err) {
      this.skip('binxml', { message: `Binary XML: ${(err as Error).message}`, ...place });
      return;
    }
    const f = this.collector.fields;
    const eventId = numericId(f.eventId);
    if (eventId === undefined) {
      this.skip('no-event-id', {
        message: 'the record has no numeric System/EventID',
        ...place,
      });
      return;
    }
    this.summary.records++;
    this.summary.rendered++;
    onRecord({
      recordId: numericId(f.eventRecordId) ?? record,
      offset: k.base + pos,
      eventId,
      computer: f.computer,
      systemTime: f.systemTime,
      data: f.data,
      ...(f.channel === undefined ? {} : { channel: f.channel }),
    });
  }
}

const isRecordMagic = (b: Buffer, at: number): boolean =>
  b[at] === 0x2a && b[at + 1] === 0x2a && b[at + 2] === 0 && b[at + 3] === 0;

/** The next offset holding a record signature whose size and size copy agree, or `end`. */
function resync(b: Buffer, from: number, end: number): number {
  for (let p = from; p + MIN_RECORD_BYTES <= end; p++) {
    if (!isRecordMagic(b, p)) continue;
    const size = b.readUInt32LE(p + 4);
    if (size >= MIN_RECORD_BYTES && p + size <= end && b.readUInt32LE(p + size - 4) === size)
      return p;
  }
  return end;
}

const recordSpan = (h: ChunkHeader): string =>
  h.lastRecordNumber >= h.firstRecordNumber
    ? `records ${h.firstRecordNumber}-${h.lastRecordNumber} (${h.lastRecordNumber - h.firstRecordNumber + 1})`
    : 'its records';
