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

const isRecordMagic = (b: Buffer, at: number): boolean =>
  b[at] === 0x2a && b[at + 1] === 0x2a && b[at + 2] === 0 && b[at + 3] === 0;

/** Where the cursor in a chunk's records stands. */
interface ChunkCursor {
  c: ChunkBytes;
  /** File offset of the chunk. */
  base: number;
  index: number;
  /** End of the record data present: the free-space offset, or the cut. */
  dataEnd: number;
  /** The input ended before the chunk's record data did. */
  cut: boolean;
}

/**
 * The EVTX push parser: feed it the file's bytes in slices of any size; it keeps one 4 KiB header
 * block and one 64 KiB chunk at a time, reads each chunk when it is whole, and reports every valid
 * record and every skipped piece of damage. It does no I/O and never throws on bad input.
 */
export function createEvtxParser(options: EvtxParserOptions): EvtxParser {
  const { onRecord, onSkip, wantEvent } = options;
  const header = Buffer.alloc(FILE_HEADER_BYTES);
  const chunk = Buffer.alloc(CHUNK_BYTES);
  let headerFill = 0;
  let chunkFill = 0;
  let chunkIndex = 0;
  const walker = new BinXmlWalker();
  const probe = new RecordCollector(true);
  const collector = new RecordCollector(false);
  const summary: EvtxSummary = {
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

  const skip = (reason: EvtxSkipReason, s: Omit<EvtxSkip, 'reason'>): void => {
    summary.skipped++;
    summary.skips[reason] = (summary.skips[reason] ?? 0) + 1;
    onSkip({ reason, ...s });
  };

  const readHeader = (): void => {
    const h = readFileHeader(header);
    if ('problem' in h) {
      skip('file-header', { message: `${h.message}; chunks are read anyway`, chunk: 0, offset: 0 });
      return;
    }
    summary.headerChunkCount = h.chunkCount;
    summary.dirty = h.dirty;
  };

  /** Reads the chunk buffer's first `length` bytes (64 KiB, or less at the end of the input). */
  const readChunk = (length: number): void => {
    const base = FILE_HEADER_BYTES + chunkIndex * CHUNK_BYTES;
    const at = { chunk: chunkIndex, offset: base };
    const b = chunk.subarray(0, length);
    if (!isChunk(b)) {
      if (length === CHUNK_BYTES && isBlankChunk(b)) summary.blankChunks++;
      else if (length === CHUNK_BYTES)
        skip('chunk-magic', { message: 'a 64 KiB block without the ElfChnk signature', ...at });
      else if (b.some((x) => x !== 0))
        skip('trailing-bytes', {
          message: `${length} bytes after the last chunk are not a chunk`,
          ...at,
        });
      return;
    }
    if (length < CHUNK_HEADER_BYTES) {
      skip('record-truncated', {
        message: `the input ends ${length} bytes into a chunk header`,
        ...at,
      });
      return;
    }
    const h = readChunkHeader(b);
    if ('problem' in h) {
      skip('chunk-header-checksum', { message: `${h.message}: chunk skipped`, ...at });
      return;
    }
    const cut = length < h.freeSpaceOffset;
    const bad = cut ? undefined : checkChunkData(b, h);
    if (bad) {
      skip('chunk-data-checksum', { message: `${bad.message}: ${recordSpan(h)} skipped`, ...at });
      return;
    }
    summary.chunks++;
    const count = summary.headerChunkCount;
    if (count !== undefined && chunkIndex >= count) summary.chunksPastHeaderCount++;
    const c = new ChunkBytes(chunk, length);
    readRecords({ c, base, index: chunkIndex, dataEnd: cut ? length : h.freeSpaceOffset, cut }, h);
  };

  const readRecords = (cur: ChunkCursor, h: ChunkHeader): void => {
    const b = cur.c.b;
    let pos = CHUNK_HEADER_BYTES;
    let cutReported = false;
    while (pos < cur.dataEnd) {
      const at = { chunk: cur.index, offset: cur.base + pos };
      if (pos + RECORD_HEADER_BYTES > cur.dataEnd) {
        if (!cur.cut)
          skip('record-size', {
            message: `${cur.dataEnd - pos} bytes left over after the last record`,
            ...at,
          });
        break;
      }
      if (!isRecordMagic(b, pos)) {
        const next = resync(b, pos + 1, cur.dataEnd);
        skip('record-magic', {
          message: `no record signature; ${next - pos} bytes skipped`,
          ...at,
        });
        pos = next;
        continue;
      }
      const size = b.readUInt32LE(pos + 4);
      const record = b.readUInt32LE(pos + 8) + b.readUInt32LE(pos + 12) * 2 ** 32;
      if (
        cur.cut &&
        size >= MIN_RECORD_BYTES &&
        pos + size > cur.dataEnd &&
        pos + size <= h.freeSpaceOffset
      ) {
        skip('record-truncated', {
          message: `the input ends ${cur.dataEnd - pos} bytes into a record of ${size}`,
          record,
          ...at,
        });
        cutReported = true;
        break;
      }
      if (
        size < MIN_RECORD_BYTES ||
        pos + size > cur.dataEnd ||
        b.readUInt32LE(pos + size - 4) !== size
      ) {
        const next = resync(b, pos + 1, cur.dataEnd);
        skip('record-size', {
          message: `record size ${size} is impossible or differs from its copy; ${next - pos} bytes skipped`,
          record,
          ...at,
        });
        pos = next;
        continue;
      }
      readRecord(cur, pos, size, record);
      pos += size;
    }
    if (cur.cut && !cutReported) {
      const at = { chunk: cur.index, offset: cur.base + cur.dataEnd };
      skip('record-truncated', {
        message: `the input ends ${h.freeSpaceOffset - cur.dataEnd} bytes before the chunk's record data does`,
        ...at,
      });
    }
  };

  const readRecord = (cur: ChunkCursor, pos: number, size: number, record: number): void => {
    const at = { chunk: cur.index, record, offset: cur.base + pos };
    const start = pos + RECORD_HEADER_BYTES;
    const end = pos + size - 4;
    try {
      if (wantEvent) {
        probe.reset();
        walker.walk(cur.c, start, end, probe);
        const id = numericId(probe.fields.eventId);
        if (id === undefined) {
          skip('no-event-id', { message: 'the record has no numeric System/EventID', ...at });
          return;
        }
        if (!wantEvent(id)) {
          summary.records++;
          summary.filtered++;
          return;
        }
      }
      collector.reset();
      walker.walk(cur.c, start, end, collector);
    } catch (err) {
      skip('binxml', { message: `Binary XML: ${(err as Error).message}`, ...at });
      return;
    }
    const f = collector.fields;
    const eventId = numericId(f.eventId);
    if (eventId === undefined) {
      skip('no-event-id', { message: 'the record has no numeric System/EventID', ...at });
      return;
    }
    summary.records++;
    summary.rendered++;
    onRecord({
      recordId: numericId(f.eventRecordId) ?? record,
      offset: cur.base + pos,
      eventId,
      computer: f.computer,
      systemTime: f.systemTime,
      data: f.data,
      ...(f.channel === undefined ? {} : { channel: f.channel }),
    });
  };

  return {
    feed(input: Uint8Array): void {
      summary.bytes += input.length;
      let i = 0;
      while (i < input.length) {
        if (headerFill < FILE_HEADER_BYTES) {
          const n = Math.min(FILE_HEADER_BYTES - headerFill, input.length - i);
          header.set(input.subarray(i, i + n), headerFill);
          headerFill += n;
          i += n;
          if (headerFill === FILE_HEADER_BYTES) readHeader();
          continue;
        }
        const n = Math.min(CHUNK_BYTES - chunkFill, input.length - i);
        chunk.set(input.subarray(i, i + n), chunkFill);
        chunkFill += n;
        i += n;
        if (chunkFill === CHUNK_BYTES) {
          readChunk(CHUNK_BYTES);
          chunkFill = 0;
          chunkIndex++;
        }
      }
    },
    end(): EvtxSummary {
      if (headerFill < FILE_HEADER_BYTES) {
        skip('file-header', {
          message: `the input ends after ${headerFill} bytes, inside the 4 KiB file header`,
          chunk: 0,
          offset: 0,
        });
      } else if (chunkFill > 0) {
        readChunk(chunkFill);
        chunkFill = 0;
        chunkIndex++;
      }
      return { ...summary, skips: { ...summary.skips } };
    },
  };
}

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
