import { ENV } from '../config/env.ts';

/**
 * Every bound of the state module, with its unit. DynamoDB's own limits are linked where stated.
 */

/** BatchGetItem takes at most 100 keys per request (DynamoDB API reference, BatchGetItem). */
export const BATCH_GET_MAX_KEYS = 100;

/** BatchWriteItem takes at most 25 put/delete requests per call (API reference, BatchWriteItem). */
export const BATCH_WRITE_MAX_ITEMS = 25;

/** Batch requests of one lookup or save in flight at once (keeps a big object from bursting). */
export const MAX_PARALLEL_BATCH_REQUESTS = 8;

/** Alert groups of one object updated at once. */
export const MAX_PARALLEL_GROUP_UPDATES = 10;

/**
 * Attempts per batch request while DynamoDB returns unprocessed keys or items (throttling or the
 * 16 MB response cap). With the backoff below the last attempt starts within about 5 s.
 */
export const MAX_BATCH_ATTEMPTS = 8;

/** Full-jitter exponential backoff: first cap, in ms. */
export const BACKOFF_BASE_MS = 25;

/** Full-jitter exponential backoff: largest cap, in ms. */
export const BACKOFF_MAX_MS = 2_000;

/**
 * Rounds of "read the window's items, pick the item to append to, conditional write" when the
 * conditional write keeps losing a race (another function filled the item first). Each lost round
 * means someone else made progress, so this only bounds pathological contention.
 */
export const MAX_APPEND_ROUNDS = 10;

/**
 * Object markers (16 characters each, ~17 bytes stored) one state item holds before the window's
 * state continues in the next item. An UpdateItem costs one write unit per started KiB of the item
 * (before or after, whichever is larger), so this bounds a busy group's write to ~9 KiB (≤ 9 WCU)
 * and keeps far below the 400 KiB item limit.
 */
export const MAX_OBJECTS_PER_ITEM = 500;

/**
 * Items one group's window may span (MAX_OBJECTS_PER_ITEM objects each: 100,000 objects holding
 * the same group in one window). Past this the object fails with StateCapacityError rather than
 * read an unbounded chain on every decision.
 */
export const MAX_ITEMS_PER_WINDOW = 200;

/** Characters of an object marker (base64url of SHA-256: 96 bits, collision-free in practice). */
export const OBJECT_MARKER_CHARS = 16;

/**
 * Command-line characters stored with a process. Only listed URL hosts (kept separately) and the
 * alert's evidence need it, and one write unit is 1 KiB: a 32 KiB PowerShell one-liner should not
 * cost 32 write units per object.
 */
export const MAX_STORED_CMDLINE_CHARS = 4_096;

/** A context item larger than this (in UTF-8 bytes, after truncating the command line) is not saved. */
export const MAX_CONTEXT_ITEM_BYTES = 16 * 1024;

/** Longest process key or sensor id stored (real ones are 32–40 characters; pk allows 2048 B). */
export const MAX_CONTEXT_KEY_CHARS = 256;

/**
 * Context items this container remembers having written, to skip rewriting unchanged ones
 * (aidmaster and long-lived processes recur in every batch). ~150 B each: ~7.5 MiB at the bound.
 */
export const MAX_SAVE_CACHE_ENTRIES = 50_000;

// The environment's defaults are lib/config/env.ts's (WINDOW_MINUTES, THRESHOLD,
// STATE_TTL_DAYS); these name them for the policy and the context store built without it.
export const DEFAULT_WINDOW_MINUTES = ENV.WINDOW_MINUTES.default;
export const DEFAULT_THRESHOLD = ENV.THRESHOLD.default;
export const DEFAULT_TTL_DAYS = ENV.STATE_TTL_DAYS.default;

/**
 * How long a completed object's claim is kept, in seconds: a delivery of the same object version
 * within this time is recognised as done and skipped (Powertools idempotency's default, 1 hour).
 * A later one is processed again, and the per-group markers still count it once.
 */
export const COMPLETED_CLAIM_TTL_SECONDS = 3_600;

/**
 * How long a candidate without its process context waits for it, in seconds: the reordering
 * window. FDR delivers an export's files within minutes of each other, and a failed object is
 * received again up to five times, a visibility timeout apart; six hours covers both with room.
 * Past it the candidate is counted as expired (the sweep) and logged with what it lacked.
 */
export const WAITING_WINDOW_SECONDS = 6 * 3_600;

/** How long an expired candidate's items stay for the sweep to count it, in seconds. */
export const WAITING_GRACE_SECONDS = 24 * 3_600;

/** Expired candidates named in the sweep's log line (the rest are counted). */
export const MAX_EXPIRED_EXAMPLES = 20;

export const MS_PER_MINUTE = 60_000;
export const SECONDS_PER_DAY = 86_400;
