import type { PublishFailure } from '../errors.ts';
import { isRetryableError, type PublishOptions, type PublishResult } from '../publish.ts';

/** Attempts per entry (the first and the retries) when a sink throttles or fails on its side. */
export const SINK_MAX_ATTEMPTS = 5;
/** Backoff before retry n is a random delay up to min(cap, base * 2^(n-1)) ("full jitter"). */
export const SINK_BASE_DELAY_MS = 100;
export const SINK_MAX_DELAY_MS = 5_000;

/** The same knobs as SNS publishing: attempts, backoff, and injectable sleep and randomness. */
export type SinkRetryOptions = PublishOptions;

/** One entry of a batch API call: `id` is stable across retries (`alert-<index>`). */
export interface SinkEntry<T> {
  id: string;
  item: T;
}

/** The message position an entry id (`alert-<index>`) stands for. */
export const positionOf = (id: string): number => Number(id.slice(id.lastIndexOf('-') + 1));

/** What one request did to its entries: the ones it rejected, each said retryable or not. */
export interface BatchAnswer {
  rejected: PublishFailure[];
}

export interface BatchSender<T> {
  /** Splits pending entries into requests within the API's limits. */
  plan(entries: readonly SinkEntry<T>[]): SinkEntry<T>[][];
  /** Sends one request; throws when the whole request failed. */
  send(batch: readonly SinkEntry<T>[]): Promise<BatchAnswer>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends entries through a batch API (PutEvents, BatchImportFindings), retrying the entries and the
 * whole-request failures that may pass later with exponential backoff and full jitter. What is
 * still failing after the last attempt, or was rejected as the sender's fault, is a failure.
 */
export async function sendWithRetries<T>(
  entries: readonly SinkEntry<T>[],
  sender: BatchSender<T>,
  options: SinkRetryOptions = {},
): Promise<PublishResult> {
  const maxAttempts = options.maxAttempts ?? SINK_MAX_ATTEMPTS;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const cap = (attempt: number) =>
    Math.min(
      options.maxDelayMs ?? SINK_MAX_DELAY_MS,
      (options.baseDelayMs ?? SINK_BASE_DELAY_MS) * 2 ** (attempt - 1),
    );
  const result: PublishResult = { published: 0, accepted: [], failures: [], requests: 0 };
  let pending = [...entries];
  for (let attempt = 1; pending.length > 0; attempt++) {
    const lastAttempt = attempt >= maxAttempts;
    const retry: SinkEntry<T>[] = [];
    const settle = (entry: SinkEntry<T>, failure: PublishFailure) => {
      if (failure.retryable && !lastAttempt) retry.push(entry);
      else result.failures.push(failure);
    };
    for (const batch of sender.plan(pending)) {
      result.requests++;
      let answer: BatchAnswer;
      try {
        answer = await sender.send(batch);
      } catch (err) {
        const e = err as Error;
        const retryable = isRetryableError(err);
        for (const entry of batch)
          settle(entry, {
            id: entry.id,
            index: positionOf(entry.id),
            code: e.name,
            message: e.message,
            retryable,
          });
        continue;
      }
      const rejected = new Map(answer.rejected.map((f) => [f.id, f]));
      for (const entry of batch) {
        const failure = rejected.get(entry.id);
        if (failure === undefined) {
          result.published++;
          result.accepted.push(positionOf(entry.id));
        } else settle(entry, failure);
      }
    }
    pending = retry;
    if (pending.length > 0) await sleep(Math.floor(random() * cap(attempt)));
  }
  result.accepted.sort((a, b) => a - b);
  return result;
}

/** Packs entries in order into requests of at most `maxEntries` entries and `maxBytes` bytes. */
export function packEntries<T>(
  entries: readonly SinkEntry<T>[],
  bytesOf: (entry: SinkEntry<T>) => number,
  maxEntries: number,
  maxBytes: number,
): SinkEntry<T>[][] {
  const batches: SinkEntry<T>[][] = [];
  let current: SinkEntry<T>[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = bytesOf(entry);
    if (current.length === maxEntries || (current.length > 0 && bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
