import type { NormalizedEvent, Provenance, SourceName } from '../event/types.ts';
import type { CompiledRule } from '../rule/types.ts';
import type { RecordSink, TextFormat } from './split.ts';
import type { ProcessFacts, SkipReason } from './types.ts';

/**
 * Where and when a process record was written: what its process-start events carry (one per
 * listed host its command line names in a URL, docs/detection.md "Events").
 */
export interface ProcessStart {
  time: number;
  device: NormalizedEvent['device'];
  provenance: Provenance;
}

/** A process-creation record, parsed (Sysmon EventID 1, Falcon ProcessRollup2). */
export interface ProcessInfo extends ProcessFacts {
  /** Process key within the object (Sysmon ProcessGuid, Falcon `aid:pid`). */
  key: string;
  /** Absent for records held unparsed: the pre-filter parses every one whose URL could count. */
  start?: ProcessStart;
}

/**
 * A connection as the pre-filter sees it: its process key and hostname are read cheaply; the
 * whole record is parsed only if a join could make it match (`resolve`).
 */
export interface ConnectionRef {
  key: string | undefined;
  /** Where the record is, for a skip found only when it is resolved. */
  record: number;
  offset: number;
  /** DestinationHostname as written (may be empty, `-`, or a reverse-DNS name). */
  hostname: string | undefined;
  /**
   * Destination IP as the normalized event will have it (lower-case); undefined when absent or
   * not cheaply readable (any DNS answer of the process may then join it).
   */
  ip: string | undefined;
  /** The normalized event, or a skip when the record turns out to be malformed. */
  resolve(): NormalizedEvent | RecordSkip | undefined;
}

export interface RecordSkip {
  skip: SkipReason;
  message: string;
}

/**
 * A process record the pre-filter found could matter (by its cheaply read names and path) but
 * that is parsed only if an event of the process becomes a candidate. Its command line names no
 * listed URL host (those records are parsed at once).
 */
export interface HeldProcess {
  /** A flat string (see detach): the context keeps it. */
  key: string;
  record: number;
  offset: number;
  /** Characters the held record keeps (its values, or its text): counted against the contexts' bound. */
  chars: number;
  resolve(): ProcessInfo | RecordSkip | undefined;
}

/** What a source reader hands to the per-object analyzer. */
export interface AnalyzerInput {
  process(p: ProcessInfo): void;
  heldProcess(ref: HeldProcess): void;
  /** The process's own record shows it cannot match: its events can be dropped on arrival. */
  harmless(key: string): void;
  isHarmless(key: string): boolean;
  /**
   * True when a DNS answer of this process matters even for an unlisted name: the process has a
   * listed URL host in its command line, and an answer of its own DNS queries outranks it (docs/detection.md, "Joins").
   */
  wantsAllAnswers(key: string): boolean;
  /** True when any process wants all answers (lets the pre-filter skip reading keys at all). */
  readonly anyWantsAllAnswers: boolean;
  hostName(sensorId: string, hostname: string): void;
  /**
   * The process ended (Falcon EndOfProcess, Sysmon EventID 5; `offset` is the end record's): its
   * state may go soon.
   */
  processEnd(key: string, offset: number): void;
  dns(e: NormalizedEvent): void;
  connection(ref: ConnectionRef): void;
}

export const isSkip = (v: unknown): v is RecordSkip =>
  typeof v === 'object' && v !== null && 'skip' in v;

/** What a source reader is made with (the same for every shape). */
export interface ReaderOptions {
  rule: CompiledRule;
  analyzer: AnalyzerInput;
  /** Named in every skip and every piece of evidence. */
  origin: string;
  /** `fast`: decide on the raw text what to parse; `full`: parse every record (the naive path). */
  mode: 'fast' | 'full';
  skip(
    reason: RecordSkip['skip'],
    message: string,
    record: number,
    offset: number,
    excerpt: string,
  ): void;
  /** Called once per record that is fully parsed. */
  parsed(): void;
}

/** A reader: what it does with each record a splitter yields. */
export type RecordHandler = RecordSink['record'];

interface SourceShape {
  /** What `scan --source` and the functions' SOURCE take (`sysmon-xml`, `winlogbeat`, …). */
  readonly name: string;
  /** The telemetry its events are: alert grouping, provenance and the function that reads it. */
  readonly family: SourceName;
  /** One line for `scan --help`: what it reads. */
  readonly summary: string;
  /**
   * How sure it is that an object starting with `head` is its shape: 0 not at all, 1 certain.
   * `head` is the start of the decompressed object (latin1: one char per byte), text-decoded for
   * text shapes; at least its first record's beginning.
   */
  sniff(head: string): number;
}

/** A text shape: the engine frames its records (`format`) and hands each to its reader. */
export interface TextSourcePlugin extends SourceShape {
  readonly format: TextFormat;
  createReader(options: ReaderOptions): RecordHandler;
}

/** What a binary reader is made with: the reader options, and where to count its records. */
export interface BinaryReaderOptions extends ReaderOptions {
  /** `count` more records were read; the last of them starts at `offset`, when given. */
  read(count: number, offset?: number): void;
}

/** A binary shape's reader: fed the decompressed bytes, it frames and reads its records itself. */
export interface BinaryReader {
  feed(chunk: Buffer): void;
  /** `truncated`: the stream stopped early (damage). */
  end(truncated: boolean): void;
}

/** A binary shape (EVTX): no text decoding; the reader takes the bytes. */
export interface BinarySourcePlugin extends SourceShape {
  readonly format: 'binary';
  createReader(options: BinaryReaderOptions): BinaryReader;
}

/**
 * A shape of log the engine reads (docs/sources.md): one file in `lib/sources/`, listed in that
 * folder's registry. The engine sniffs the start of each object against every registered shape
 * and reads it with the surest one; it names no shape itself.
 */
export type SourcePlugin = TextSourcePlugin | BinarySourcePlugin;
