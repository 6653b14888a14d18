/**
 * Every bound the engine applies, with its unit. Each is a default; `ScanLimits` lets a caller
 * (tests, the Lambda configuration) lower or raise them.
 */

/** Largest single record (one NDJSON line, one JSON array element, one `<Event>`), in bytes. */
export const MAX_RECORD_BYTES = 4 * 1024 * 1024;

/**
 * Largest decompressed stream, in bytes. A gzip bomb inflates ~1000:1; streaming keeps memory
 * flat, but a Lambda still has only 15 minutes, so stop and report rather than run out the clock.
 */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024 * 1024;

/**
 * Processes kept for joins (Sysmon ProcessGuid / Falcon aid+pid). Only processes that could make
 * an event match are kept (suspicious or Office-spawned by name, or a listed host in their command
 * line), so in real batches this holds a few hundred entries; the bound only caps a hostile input.
 * Held as the few fields a context needs (~0.3 KiB, decoded only when an event needs them):
 * 100,000 is ~30 MiB at worst, and covers every scripting engine and LOLBin started in a 1 GiB
 * batch.
 */
export const MAX_PROCESS_CONTEXTS = 100_000;

/** Falcon `aidmaster` host names kept (one per sensor; ~100 B each). */
export const MAX_HOST_NAMES = 100_000;

/**
 * How far back, in decoded bytes, a connection waits for the join that could name its host (a
 * connection can precede the DNS answer or the process record that explains it). Records of one
 * process sit seconds apart, so 16 MiB (~20,000 records) covers real reordering; a connection
 * that waited longer had no join and is dropped. Waiting connections keep the decoded text they
 * were read from, so this also bounds that memory: ~16 MiB.
 */
export const MAX_PENDING_BYTES = 16 * 1024 * 1024;

/** Connections waiting at once, whatever their size (a cap for hostile, tiny records). */
export const MAX_PENDING_CONNECTIONS = 50_000;

/**
 * Ended processes whose state (context, DNS answers, waiting connections) is still kept, for
 * records written after the process's end; older ones are forgotten. This keeps the process
 * tables at the size of the processes alive, not of the object.
 */
export const MAX_ENDED_PROCESSES = 8_192;

/**
 * Matching candidates held until the end of the object so that context arriving later still
 * applies. Past this many, the engine resolves and groups what it holds (an early flush), which
 * keeps memory flat under a flood of matches (~1 KiB each: ~10 MiB).
 */
export const MAX_CANDIDATES = 10_000;

/** Listed-domain DNS answers (ip -> names) kept for connection joins. */
export const MAX_DNS_ANSWERS = 100_000;

/** Evidence items of each kind per alert group (SPEC §3). */
export const MAX_EVIDENCE_ITEMS = 10;

/** Bytes of a skipped record kept as an excerpt for diagnostics and quarantine. */
export const MAX_EXCERPT_BYTES = 512;

export interface ScanLimits {
  maxRecordBytes: number;
  maxDecompressedBytes: number;
  maxProcessContexts: number;
  maxHostNames: number;
  maxPendingConnections: number;
  maxPendingBytes: number;
  maxEndedProcesses: number;
  maxCandidates: number;
  maxDnsAnswers: number;
}

export const DEFAULT_LIMITS: Readonly<ScanLimits> = Object.freeze({
  maxRecordBytes: MAX_RECORD_BYTES,
  maxDecompressedBytes: MAX_DECOMPRESSED_BYTES,
  maxProcessContexts: MAX_PROCESS_CONTEXTS,
  maxHostNames: MAX_HOST_NAMES,
  maxPendingConnections: MAX_PENDING_CONNECTIONS,
  maxPendingBytes: MAX_PENDING_BYTES,
  maxEndedProcesses: MAX_ENDED_PROCESSES,
  maxCandidates: MAX_CANDIDATES,
  maxDnsAnswers: MAX_DNS_ANSWERS,
});
