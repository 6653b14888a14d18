/** One event record, in the shape the Sysmon XML reader's `parseSysmonEvent` gives. */
export interface EvtxRecord {
  /** `System/EventRecordID` as written (the record header's number when it is absent). */
  recordId: number;
  /** Byte offset of the record in the file. */
  offset: number;
  eventId: number;
  computer: string | undefined;
  /** `System/TimeCreated/@SystemTime` as python-evtx writes it: `2019-06-15 07:13:42.294109`. */
  systemTime: string | undefined;
  /** `EventData/Data[@Name]` values rendered as text. */
  data: Record<string, string>;
  channel?: string;
}

export type EvtxSkipReason =
  /** The file header is missing, cut, or fails its signature or checksum (chunks are still read). */
  | 'file-header'
  /** A 64 KiB block that is neither a chunk nor blank. */
  | 'chunk-magic'
  /** A chunk header that fails its CRC32 or holds impossible offsets: the chunk is skipped. */
  | 'chunk-header-checksum'
  /** A whole chunk whose record data fails its CRC32: the chunk is skipped. */
  | 'chunk-data-checksum'
  /** No record signature `**\0\0` where a record should start: skipped to the next record found. */
  | 'record-magic'
  /** A record size that is impossible or differs from its copy at the record's end. */
  | 'record-size'
  /** The input ends inside a chunk's record data: the records before the cut are read. */
  | 'record-truncated'
  /** The record's Binary XML cannot be read (bad token, offset or value). */
  | 'binxml'
  /** The record renders without a numeric `System/EventID`. */
  | 'no-event-id'
  /** Bytes after the last whole chunk that are not a chunk. */
  | 'trailing-bytes';

export interface EvtxSkip {
  reason: EvtxSkipReason;
  message: string;
  /** Index of the 64 KiB chunk in the file (0 for the first chunk after the header). */
  chunk: number;
  /** The record header's record number, when the skip is about one record. */
  record?: number;
  /** Byte offset in the file where the damage was found. */
  offset: number;
}

export interface EvtxSummary {
  /** Input bytes fed. */
  bytes: number;
  /** Chunks read (valid header and data). */
  chunks: number;
  /** Chunks the file header counts; undefined when the header is unusable. */
  headerChunkCount: number | undefined;
  /** Valid chunks read past that count (a stale header, the log copied while open). */
  chunksPastHeaderCount: number;
  /** Zero-filled, unused chunk slots. */
  blankChunks: number;
  /** The header's dirty flag: the log was not closed cleanly. */
  dirty: boolean;
  /** Valid records: rendered plus filtered. */
  records: number;
  /** Records handed to onRecord. */
  rendered: number;
  /** Records whose event id the prefilter refused (counted, not rendered). */
  filtered: number;
  /** Skips reported, in total and by reason. */
  skipped: number;
  skips: Partial<Record<EvtxSkipReason, number>>;
}

export interface EvtxParserOptions {
  onRecord(rec: EvtxRecord): void;
  onSkip(skip: EvtxSkip): void;
  /** Prefilter on the event id, read before the rest of the record; default: every record. */
  wantEvent?(eventId: number): boolean;
}

export interface EvtxParser {
  /** Feeds the next bytes of the file, sliced anywhere. */
  feed(chunk: Uint8Array): void;
  /** Reads what is left (a cut last chunk) and returns the counts. */
  end(): EvtxSummary;
}
