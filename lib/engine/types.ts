import type { AlertGroup, GroupOverflow } from '../alert/types.ts';
import type { SourceName } from '../event/types.ts';
import type { WaitingCandidate } from './waiting.ts';

/** Why a record was skipped. Every skip is counted by reason and located. */
export type SkipReason =
  | 'record-too-large'
  | 'invalid-json'
  | 'not-an-object'
  | 'invalid-xml'
  | 'xml-dtd-refused'
  | 'unclosed-event'
  | 'truncated-record'
  | 'invalid-encoding'
  | 'unrecognised-record'
  /** A binary log's file header is unreadable (its chunks are still read). */
  | 'damaged-header'
  /** A binary log's chunk fails its checksum or is no chunk: its records are lost. */
  | 'damaged-chunk'
  /** A binary log's record is malformed: the next good record is read. */
  | 'damaged-record'
  | 'context-evicted';

export interface SkippedRecord {
  reason: SkipReason;
  /** Human sentence: what was wrong. */
  message: string;
  origin: string;
  /** 1-based record number (records are counted in the order they were split). */
  record: number;
  /** Byte offset of the record's first byte in the decoded text stream. */
  offset: number;
  /** The first bytes of the record (at most 512), for quarantine and diagnostics. */
  excerpt: string;
}

export interface ScanStats {
  /** Bytes read from the input as stored (compressed when gzipped). */
  bytesIn: number;
  /** Bytes of decompressed, decoded (UTF-8) text. */
  bytesDecoded: number;
  recordsRead: number;
  /** Records that were fully parsed (the pre-filter skips the rest unparsed). */
  recordsParsed: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** Events that matched the rule (those excepted included). */
  matched: number;
  /** Matched events a deployment exception covers: not alerted on. */
  excepted: number;
  groups: number;
  /**
   * Candidates that could not be resolved for want of their process context (the context may be
   * in another object): handed back in `ScanResult.waiting`, up to MAX_WAITING_CANDIDATES.
   */
  contextless: number;
  /** Matches folded into summary groups past `maxAlertGroups`, and past the summary cap. */
  overflow: GroupOverflow;
  durationMs: number;
}

/** The object could not be read to its end; records before the damage were still scanned. */
export interface ObjectDamage {
  reason:
    | 'truncated-gzip'
    | 'corrupt-compression'
    | 'not-text'
    /** No registered shape claims it, or none of its records is an event of its shape. */
    | 'not-a-log'
    | 'unsupported-compression'
    /** It decompresses past MAX_DECOMPRESSED_BYTES (a gzip bomb): what came before is read. */
    | 'too-large'
    /** The stream itself failed (a network error): reading it again may succeed. */
    | 'read-failed';
  message: string;
  /** The object's first bytes, when its shape could not be told: for quarantine. */
  excerpt?: string;
}

/** What a process record says about a process (Sysmon EventID 1, Falcon ProcessRollup2). */
export interface ProcessFacts {
  /** Full path when the source has it (Sysmon Image, Falcon ImageFileName). */
  image?: string;
  originalFileName?: string;
  parentImage?: string;
  cmdLine?: string;
  user?: string;
}

/**
 * What is known about a process within an object and kept across objects (only processes that
 * could make an event match).
 */
export interface StoredProcess extends ProcessFacts {
  /** Listed hosts in URLs of the command line. */
  urlHosts?: string[];
}

export interface StoredContext {
  /** Process key (Sysmon ProcessGuid, Falcon `aid:pid`) -> what was known of it. */
  processes: Map<string, StoredProcess>;
  /** Falcon sensor id (`aid`) -> host name from `aidmaster`. */
  hosts: Map<string, string>;
}

/**
 * Context that outlives one object (cross-object state). At the end of each object the engine
 * asks for the context its candidates lack, then hands over what it learned that could make a
 * later object's events match.
 */
export interface ContextStore {
  lookup(request: { processes: string[]; hosts: string[] }): Promise<StoredContext>;
  save(context: StoredContext): Promise<void>;
}

export interface ScanResult {
  origin: string;
  /** The family of the shape read; undefined when nothing could be recognised. */
  source: SourceName | undefined;
  /** The shape read (a registered source's name). */
  format: string | undefined;
  stats: ScanStats;
  /** Matched events grouped (docs/detection.md, "Grouping and output"), unsorted. */
  groups: AlertGroup[];
  /** Candidates waiting for process context from another object, as plain data. */
  waiting: WaitingCandidate[];
  damage?: ObjectDamage;
}
