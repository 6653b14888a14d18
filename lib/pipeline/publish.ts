import {
  PublishBatchCommand,
  type PublishBatchCommandOutput,
  type PublishBatchRequestEntry,
} from '@aws-sdk/client-sns';
import type { PublishFailure } from './errors.ts';
import type { AlertMessage } from './message.ts';

/**
 * PublishBatch: at most 10 entries and 256 KiB (262,144 bytes) in total per request.
 * https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html
 */
export const MAX_PUBLISH_BATCH_ENTRIES = 10;
export const MAX_PUBLISH_BATCH_BYTES = 262_144;

/** Attempts per alert (the first and the retries) when SNS throttles or fails on its side. */
export const PUBLISH_MAX_ATTEMPTS = 5;
/** Backoff before retry n is a random delay up to min(cap, base * 2^(n-1)) ("full jitter"). */
export const PUBLISH_BASE_DELAY_MS = 100;
export const PUBLISH_MAX_DELAY_MS = 5_000;

/** Entry error codes worth retrying even when SNS does not say it was its own fault. */
const RETRYABLE_CODES = new Set([
  'Throttled',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'KMSThrottling',
  'KMSThrottlingException',
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TimeoutError',
]);

/** The one SNS call publishing needs. */
export interface SnsPublisher {
  send(command: PublishBatchCommand): Promise<PublishBatchCommandOutput>;
}

export interface PublishOptions {
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injected by tests to avoid real waits; defaults to setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1); defaults to Math.random. */
  random?: () => number;
}

export interface PublishResult {
  published: number;
  /** Positions (in the messages given) of the alerts the topic accepted. */
  accepted: number[];
  /** Alerts that never reached the topic: the object they came from fails. */
  failures: PublishFailure[];
  /** PublishBatch requests sent, retries included. */
  requests: number;
}

/**
 * Packs messages into PublishBatch requests of at most MAX_PUBLISH_BATCH_ENTRIES entries and
 * MAX_PUBLISH_BATCH_BYTES bytes, in order. Every message is itself at most the per-message limit,
 * so each fits in a request of its own.
 */
export function planBatches<T extends Pick<AlertMessage, 'bytes'>>(messages: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const m of messages) {
    if (
      current.length === MAX_PUBLISH_BATCH_ENTRIES ||
      (current.length > 0 && bytes + m.bytes > MAX_PUBLISH_BATCH_BYTES)
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += m.bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Whether a whole-request error (the SDK's own retries already spent) may pass on a retry. */
export function isRetryableError(err: unknown): boolean {
  const e = err as { name?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e.$retryable) return true;
  if (RETRYABLE_CODES.has(e.name ?? '')) return true;
  const status = e.$metadata?.httpStatusCode;
  // No HTTP status at all means the request never got an answer (reset, timeout): transient.
  return status === undefined || status === 429 || status >= 500;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Publishes alerts to one topic with PublishBatch. Entries that fail with throttling or server
 * errors are retried with exponential backoff and full jitter; entries SNS rejects as the
 * sender's fault, and entries still failing after the last attempt, are returned as failures.
 */
export class AlertPublisher {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly sns: SnsPublisher,
    private readonly topicArn: string,
    options: PublishOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? PUBLISH_MAX_ATTEMPTS;
    this.baseDelayMs = options.baseDelayMs ?? PUBLISH_BASE_DELAY_MS;
    this.maxDelayMs = options.maxDelayMs ?? PUBLISH_MAX_DELAY_MS;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
  }

  /** The wait before retry `attempt` (1 = the first retry). */
  backoffMs(attempt: number): number {
    const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(this.random() * cap);
  }

  async publish(messages: readonly AlertMessage[]): Promise<PublishResult> {
    const result: PublishResult = { published: 0, accepted: [], failures: [], requests: 0 };
    // Entry ids are positions in `messages`: unique within any request, stable across retries.
    let pending = messages.map((message, i) => ({
      id: `alert-${i}`,
      index: i,
      message,
      bytes: message.bytes,
    }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      const retry: typeof pending = [];
      const lastAttempt = attempt >= this.maxAttempts;
      for (const batch of planBatches(pending)) {
        const byId = new Map(batch.map((e) => [e.id, e]));
        result.requests++;
        let out: PublishBatchCommandOutput;
        try {
          out = await this.sns.send(
            new PublishBatchCommand({
              TopicArn: this.topicArn,
              PublishBatchRequestEntries: batch.map((e) => toEntry(e.id, e.message)),
            }),
          );
        } catch (err) {
          const retryable = isRetryableError(err);
          const e = err as Error;
          for (const entry of batch) {
            if (retryable && !lastAttempt) retry.push(entry);
            else
              result.failures.push({
                id: entry.id,
                index: entry.index,
                code: e.name,
                message: e.message,
                retryable,
              });
          }
          continue;
        }
        for (const ok of out.Successful ?? []) {
          const entry = ok.Id === undefined ? undefined : byId.get(ok.Id);
          if (entry) result.accepted.push(entry.index);
        }
        result.published += out.Successful?.length ?? 0;
        for (const f of out.Failed ?? []) {
          const entry = f.Id === undefined ? undefined : byId.get(f.Id);
          const code = f.Code ?? 'Unknown';
          const retryable = f.SenderFault === false || RETRYABLE_CODES.has(code);
          if (entry && retryable && !lastAttempt) retry.push(entry);
          else {
            result.failures.push({
              id: f.Id ?? '?',
              index: entry?.index ?? -1,
              code,
              message: f.Message ?? '',
              retryable,
            });
          }
        }
      }
      pending = retry;
      if (pending.length > 0) await this.sleep(this.backoffMs(attempt));
    }
    return result;
  }
}

function toEntry(id: string, m: AlertMessage): PublishBatchRequestEntry {
  return {
    Id: id,
    Subject: m.subject,
    Message: m.message,
    MessageStructure: 'json',
    MessageAttributes: m.attributes,
  };
}
