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
 * line), and a process is forgotten `MAX_ENDED_PROCESSES` ends after its own; so this holds the
 * could-match processes alive, plus those whose end the object never shows (Sysmon often logs no
 * EventID 5). Held as the few fields a context needs (~0.3–0.7 KiB, decoded only when an event
 * needs them): 100,000 of those is ~50 MiB, and MAX_CONTEXT_BYTES bounds the longer ones. Past
 * it, the oldest is dropped (`context-evicted`).
 * The same bound caps the keys of processes known not to match (cleared when full: only pruning
 * is lost, never a match).
 */
export const MAX_PROCESS_CONTEXTS = 100_000;

/**
 * Characters the process contexts above may hold together: their values and the records held
 * unparsed, ~1 byte each as read off the raw text. The count alone does not bound memory: a
 * command line runs to tens of KiB (PowerShell's `-EncodedCommand`), and 100,000 such contexts
 * would take gigabytes. Contexts of the usual ~0.3–0.7 KiB meet the count first, or nearly.
 * Past it, the oldest is dropped (`context-evicted`). Held contexts that turn over are garbage the
 * heap grows for: on 30,000 PowerShell processes with 20 KiB command lines and no ends, the peak
 * RSS was 177, 242 and 377 MiB at 16, 32 and 64 MiB here, against 699 MiB without this bound;
 * four of them at once under a 1,024 MB function's heap flags ran out of heap without it, and
 * peak at 316 MiB with it.
 */
export const MAX_CONTEXT_BYTES = 32 * 1024 * 1024;

/** Falcon `aidmaster` host names kept (one per sensor; ~100 B each). */
export const MAX_HOST_NAMES = 100_000;

/**
 * How far back, in decoded bytes, a connection waits for the join that could name its host (a
 * connection can precede the DNS answer or the process record that explains it). A join that
 * arrives resolves the connections waiting for it at once, so the window only has to cover
 * reordering: records of one process sit seconds apart, and 2 MiB is ~2,500 FDR records or
 * ~1,500 Sysmon events (the benchmark's batches reorder by at most ~300). A connection that
 * waited longer had no join and is dropped, silently: almost every connection ends this way,
 * because almost none goes to a listed host. Waiting connections keep a copy of their own record
 * (see heldText in split.ts), so this also bounds that memory. The window is also the
 * engine's main source of garbage-collection work: a waiting connection that outlives two
 * young-generation collections is promoted, and on the 1 GiB Falcon benchmark an 8 MiB window
 * cost 22 full collections against 9 at 2 MiB.
 */
export const MAX_PENDING_BYTES = 2 * 1024 * 1024;

/** Connections waiting at once, whatever their size (a cap for hostile, tiny records). */
export const MAX_PENDING_CONNECTIONS = 50_000;

/**
 * How long, in decoded bytes after its end record, an ended process's state (context, DNS
 * answers, waiting connections) is kept for records written after the end; then it is forgotten.
 * Such records are the reordering of one sensor's or host's output, which sits within a few
 * thousand records: 8 MiB is ~10,000 FDR records or ~6,000 Sysmon events, four times the
 * connection window above. This keeps the process tables at the size of the processes alive, not
 * of the object. On the 1 GiB benchmark batches, a count of 8,192 ended processes (the only
 * bound before) kept 8,192 ended processes' state; this window keeps 170-500, which took the
 * engine's peak RSS from 169 to 141 MiB (Falcon) and from 166 to 155 MiB (Sysmon).
 */
export const MAX_ENDED_BYTES = 8 * 1024 * 1024;

/** Ended processes kept at once, however close their ends (a cap for hostile, tiny records). */
export const MAX_ENDED_PROCESSES = 8_192;

/**
 * How long, in decoded bytes, a matching candidate waits for context written after it (a process
 * record that follows its DNS query: reordering within one sensor's output, as for
 * MAX_ENDED_BYTES) before it may be resolved. Once a batch of candidates (a tenth of
 * MAX_CANDIDATES) has waited this long, they are resolved and grouped (an early flush), so the
 * candidates held are those of the last few MiB, not of the object. With a context store, each
 * early flush first looks up the context its candidates lack, as the end of the object does,
 * and comes at the end of the text chunk (64 KiB) that made it due.
 */
export const MAX_CANDIDATE_WAIT_BYTES = 8 * 1024 * 1024;

/**
 * Matching candidates held at once. Past this many (a flood of matches within the wait above),
 * the engine resolves what it holds, newest too (~1 KiB each: ~10 MiB at most).
 */
export const MAX_CANDIDATES = 10_000;

/**
 * DNS answers (ip -> names) kept for connection joins: listed names, and every name for a process
 * with a listed URL host. Forgotten with their process; past this many, the oldest process's go
 * (`context-evicted`).
 */
export const MAX_DNS_ANSWERS = 100_000;

/**
 * Distinct alert groups one object may produce. Past it, a new group's matches are folded into one
 * summary group per host, process and listed domain (lib/alert/group.ts): 100,000 random names
 * under `*.firebaseio.com` from one process are one summary, not 100,000 groups (each ~1-2 KiB
 * here and one SNS message later). The pipeline sets it from MAX_ALERT_GROUPS.
 */
export const MAX_ALERT_GROUPS = 2_000;

/** Summary groups one object may produce past MAX_ALERT_GROUPS; past it matches are only counted. */
export const MAX_SUMMARY_GROUPS = 1_000;

/**
 * Candidates without process context one object hands back (`ScanResult.waiting`, ~1 KiB each).
 * Past it they are only counted (`ScanStats.contextless`).
 */
export const MAX_WAITING_CANDIDATES = 10_000;

/** Evidence items of each kind per alert group (docs/detection.md, "Grouping and output"). */
export const MAX_EVIDENCE_ITEMS = 10;

export { MAX_EXCERPT_BYTES } from '../text/record.ts';

export interface ScanLimits {
  maxRecordBytes: number;
  maxDecompressedBytes: number;
  maxProcessContexts: number;
  maxContextBytes: number;
  maxHostNames: number;
  maxPendingConnections: number;
  maxPendingBytes: number;
  maxEndedBytes: number;
  maxEndedProcesses: number;
  maxCandidates: number;
  maxCandidateWaitBytes: number;
  maxDnsAnswers: number;
  maxAlertGroups: number;
}

export const DEFAULT_LIMITS: Readonly<ScanLimits> = Object.freeze({
  maxRecordBytes: MAX_RECORD_BYTES,
  maxDecompressedBytes: MAX_DECOMPRESSED_BYTES,
  maxProcessContexts: MAX_PROCESS_CONTEXTS,
  maxContextBytes: MAX_CONTEXT_BYTES,
  maxHostNames: MAX_HOST_NAMES,
  maxPendingConnections: MAX_PENDING_CONNECTIONS,
  maxPendingBytes: MAX_PENDING_BYTES,
  maxEndedBytes: MAX_ENDED_BYTES,
  maxEndedProcesses: MAX_ENDED_PROCESSES,
  maxCandidates: MAX_CANDIDATES,
  maxCandidateWaitBytes: MAX_CANDIDATE_WAIT_BYTES,
  maxDnsAnswers: MAX_DNS_ANSWERS,
  maxAlertGroups: MAX_ALERT_GROUPS,
});
