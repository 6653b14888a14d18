import type { SkipReason } from '../engine/types.ts';
import type { NormalizedEvent } from '../event/types.ts';

/** What a process-creation record tells about a process (Sysmon EventID 1, Falcon ProcessRollup2). */
export interface ProcessInfo {
  /** Process key within the object (Sysmon ProcessGuid, Falcon `aid:pid`). */
  key: string;
  image?: string;
  originalFileName?: string;
  parentImage?: string;
  cmdLine?: string;
  user?: string;
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
  /** The normalized event, or a skip when the record turns out to be malformed. */
  resolve(): NormalizedEvent | RecordSkip | undefined;
}

export interface RecordSkip {
  skip: SkipReason;
  message: string;
}

/** What a source reader hands to the per-object analyzer. */
export interface AnalyzerInput {
  process(p: ProcessInfo): void;
  hostName(sensorId: string, hostname: string): void;
  dns(e: NormalizedEvent): void;
  connection(ref: ConnectionRef): void;
}

export const isSkip = (v: unknown): v is RecordSkip =>
  typeof v === 'object' && v !== null && 'skip' in v;
