/**
 * The normalized event: one typed shape for every source, with OCSF-style field names
 * (docs/detection.md, "The normalized event"). Only the fields the rule, the grouping and the alert evidence need are kept;
 * everything is optional because real telemetry leaves any of them out.
 */

/** Telemetry families the engine reads. */
export type SourceName = 'sysmon' | 'falcon';

/**
 * What the event is about: a DNS query, an outbound network connection, or a process start whose
 * command line names a listed host in a URL (one event per host).
 */
export type EventKind = 'dns' | 'network' | 'process';

export interface FileRef {
  /** Basename as the source wrote it (case kept). */
  name?: string;
  /** Full path as the source wrote it. */
  path?: string;
}

export interface ProcessRef {
  file?: FileRef;
  cmd_line?: string;
  /**
   * Lower-case basename of the PE header's original file name (Sysmon `OriginalFileName`):
   * the process's identity when a binary was renamed.
   */
  original_file_name?: string;
  parent_process?: { file?: FileRef; cmd_line?: string };
  /** Process key within the object: Sysmon ProcessGuid, Falcon `aid:pid`. */
  uid?: string;
}

export interface Endpoint {
  hostname?: string;
  ip?: string;
  port?: number;
}

/** Where a record came from: `s3://bucket/key` or a file path, and its 1-based record number. */
export interface Provenance {
  source: SourceName;
  origin: string;
  record: number;
}

export interface NormalizedEvent {
  kind: EventKind;
  /** Event time, milliseconds since the epoch (UTC). */
  time: number;
  /** `uid`: the sensor id (Falcon `aid`), used to find the host name in `aidmaster` records. */
  device: { hostname?: string; uid?: string };
  actor: { user: { name?: string }; process: ProcessRef };
  /** DNS query name as written (may end in a dot); only for kind `dns`. */
  query?: { hostname: string };
  /** Addresses the DNS query resolved to (Sysmon `QueryResults`, Falcon `IP4Records`/`IP6Records`). */
  answers?: string[];
  dst_endpoint?: Endpoint;
  /** The listed host a process start's command line names in a URL; only for kind `process`. */
  url?: { hostname: string };
  provenance: Provenance;
}
