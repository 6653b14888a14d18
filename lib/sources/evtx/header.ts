import { crc32 } from 'node:zlib';

/**
 * The EVTX file header and chunk header (libyal/libevtx, "Windows XML Event Log (EVTX) format").
 * All integers are little-endian; every offset inside a chunk is relative to the chunk's start.
 */

/** The file header block: 128 bytes used, padded to 4 KiB; the first chunk follows it. */
export const FILE_HEADER_BYTES = 4096;
/** Every chunk is 64 KiB and self-contained (its own string and template tables). */
export const CHUNK_BYTES = 65536;
/** The chunk header: 128 bytes of fields, 64 common-string and 32 template offsets. */
export const CHUNK_HEADER_BYTES = 512;

const FILE_MAGIC = [0x45, 0x6c, 0x66, 0x46, 0x69, 0x6c, 0x65, 0x00]; // ElfFile\0
const CHUNK_MAGIC = [0x45, 0x6c, 0x66, 0x43, 0x68, 0x6e, 0x6b, 0x00]; // ElfChnk\0

/** File flags (header offset 120). */
const FILE_FLAG_DIRTY = 0x1;

export interface FileHeader {
  /** Chunks the header counts; stale when the log was copied while open. */
  chunkCount: number;
  /** The log was not closed cleanly: chunks past `chunkCount` may hold records. */
  dirty: boolean;
}

export interface ChunkHeader {
  firstRecordNumber: number;
  lastRecordNumber: number;
  /** End of the record data (chunk-relative): records lie in [512, freeSpaceOffset). */
  freeSpaceOffset: number;
  dataChecksum: number;
}

/** A structural problem: the stage's reason and a message for the skip. */
export interface HeaderProblem {
  problem: string;
  message: string;
}

const hasMagic = (b: Uint8Array, magic: readonly number[]): boolean =>
  magic.every((byte, i) => b[i] === byte);

const u32 = (b: Uint8Array, at: number): number =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

/** An unsigned 64-bit field as a number (record numbers stay far below 2^53). */
const u64 = (b: Uint8Array, at: number): number => u32(b, at) + u32(b, at + 4) * 2 ** 32;

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

/** Reads the 4 KiB file header; its checksum is the CRC32 of the first 120 bytes. */
export function readFileHeader(b: Uint8Array): FileHeader | HeaderProblem {
  if (!hasMagic(b, FILE_MAGIC)) {
    return { problem: 'magic', message: 'the file does not start with the EVTX signature ElfFile' };
  }
  const stored = u32(b, 124);
  const computed = crc32(b.subarray(0, 120));
  if (stored !== computed) {
    return {
      problem: 'checksum',
      message: `file header checksum ${hex(stored)} does not match its CRC32 ${hex(computed)}`,
    };
  }
  return { chunkCount: b[42]! | (b[43]! << 8), dirty: (u32(b, 120) & FILE_FLAG_DIRTY) !== 0 };
}

/** True for an unused, zero-filled chunk slot (files are preallocated in whole chunks). */
export const isBlankChunk = (b: Uint8Array): boolean => u32(b, 0) === 0 && u32(b, 4) === 0;

/** True when the block starts with the chunk signature ElfChnk. */
export const isChunk = (b: Uint8Array): boolean => hasMagic(b, CHUNK_MAGIC);

/**
 * Reads and checks a chunk header (at least 512 bytes): the signature, the header checksum
 * (CRC32 of bytes 0-120 and 128-512) and a free-space offset that lies inside the chunk.
 */
export function readChunkHeader(b: Uint8Array): ChunkHeader | HeaderProblem {
  if (!isChunk(b)) {
    return { problem: 'magic', message: 'the 64 KiB block does not start with ElfChnk' };
  }
  const stored = u32(b, 124);
  const computed = crc32(b.subarray(128, CHUNK_HEADER_BYTES), crc32(b.subarray(0, 120)));
  if (stored !== computed) {
    return {
      problem: 'header-checksum',
      message: `chunk header checksum ${hex(stored)} does not match its CRC32 ${hex(computed)}`,
    };
  }
  const freeSpaceOffset = u32(b, 48);
  if (freeSpaceOffset < CHUNK_HEADER_BYTES || freeSpaceOffset > CHUNK_BYTES) {
    return {
      problem: 'header-checksum',
      message: `chunk free-space offset ${freeSpaceOffset} lies outside the chunk`,
    };
  }
  return {
    firstRecordNumber: u64(b, 8),
    lastRecordNumber: u64(b, 16),
    freeSpaceOffset,
    dataChecksum: u32(b, 52),
  };
}

/** Checks the record data's CRC32 (bytes 512 to the free-space offset); the chunk must be whole. */
export function checkChunkData(b: Uint8Array, h: ChunkHeader): HeaderProblem | undefined {
  const computed = crc32(b.subarray(CHUNK_HEADER_BYTES, h.freeSpaceOffset));
  if (computed === h.dataChecksum) return undefined;
  return {
    problem: 'data-checksum',
    message: `record data checksum ${hex(h.dataChecksum)} does not match its CRC32 ${hex(computed)}`,
  };
}
