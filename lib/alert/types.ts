import type { EventKind, SourceName } from '../event/types.ts';
import type { Tier } from '../rule/types.ts';

/**
 * The group key (docs/detection.md, Grouping and output): host, user, process file name
 * (lower-case), observed hostname (lower-case, no trailing dot).
 */
export interface GroupKey {
  host: string;
  user: string;
  process: string;
  domain: string;
}

export interface ProvenanceRef {
  /** `s3://bucket/key` or a file path. */
  origin: string;
  /** 1-based record number within the object. */
  record: number;
}

/** Bounded, de-duplicated evidence kept per group (at most MAX_EVIDENCE_ITEMS of each). */
export interface GroupEvidence {
  commandLines: string[];
  parents: string[];
  processPaths: string[];
  dstIps: string[];
  dstPorts: number[];
  kinds: EventKind[];
  sources: SourceName[];
  provenance: ProvenanceRef[];
}

export interface AlertGroup {
  key: GroupKey;
  /** The tier of the listed domain `key.domain` falls under: the alert's severity. */
  tier: Tier;
  /**
   * Start of the tumbling event-time window the group belongs to (ms since epoch), when the scan
   * was asked to window (cross-object state); absent for per-object grouping.
   */
  windowStart?: number;
  count: number;
  /** Event time, ms since epoch. */
  firstSeen: number;
  lastSeen: number;
  evidence: GroupEvidence;
  /**
   * Set on a summary group: the object had more distinct groups than its cap, and this one stands
   * for every later group of one host and process under one listed domain (`key.domain` is
   * `*.<listed domain>`, `key.user` is `*`).
   */
  summary?: GroupSummary;
}

/** What a summary group folded in. */
export interface GroupSummary {
  /** The listed domain the folded names fall under. */
  listedDomain: string;
  /** A few of the names folded in (at most MAX_EVIDENCE_ITEMS), for the analyst. */
  sampleDomains: string[];
  /** A few of the users folded in. */
  sampleUsers: string[];
}

/** Matches past the per-object group cap (counted by the grouper, logged by its caller). */
export interface GroupOverflow {
  /** Matches folded into summary groups. */
  summarized: number;
  /** Matches past the summary cap too: counted here only. */
  dropped: number;
}
