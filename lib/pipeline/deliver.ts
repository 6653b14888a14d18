import { mapLimit } from '../state/concurrency.ts';
import type { AlertDecision } from '../state/index.ts';
import { backoffMs } from '../state/index.ts';
import type { TimeBudget } from './budget.ts';
import type { PublishFailure } from './errors.ts';
import { AcknowledgeError, PublishError, TimeBudgetError } from './errors.ts';
import type { AlertMessage } from './message.ts';
import { isRetryableError, MAX_PUBLISH_BATCH_ENTRIES, type PublishResult } from './publish.ts';

/**
 * Alerts built, published and acknowledged per chunk: ten PublishBatch requests' worth, sent in
 * parallel. Messages are built per chunk, so an object's alerts are never all in memory at once.
 */
export const DELIVERY_CHUNK_ALERTS = 10 * MAX_PUBLISH_BATCH_ENTRIES;
/** PublishBatch requests of one chunk in flight at once. */
export const MAX_PARALLEL_PUBLISHES = 10;
/** Acknowledgements (state table writes) of one chunk in flight at once. */
export const MAX_PARALLEL_ACKS = 10;
/** Attempts per acknowledgement (each also retried by the SDK, 3 attempts by default). */
export const ACK_MAX_ATTEMPTS = 6;

/** Where the alerts go: SNS today; any sink that says which messages it accepted plugs in. */
export interface AlertSink {
  publish(messages: readonly AlertMessage[]): Promise<PublishResult>;
}

export interface DeliveryInput {
  decisions: readonly AlertDecision[];
  build: (decision: AlertDecision) => AlertMessage;
  sink: AlertSink;
  budget: TimeBudget;
  sleep?: (ms: number) => Promise<void>;
}

export interface DeliveryResult {
  /** Messages built (one per decision reached). */
  built: number;
  trimmed: number;
  /** Accepted by the sink. */
  published: number;
  /** Published and recorded as published. */
  acknowledged: number;
  /** Set when delivery stopped short: the stage and why. */
  failure?: { stage: 'alert' | 'publish' | 'acknowledge'; error: Error };
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Publishes an object's alerts chunk by chunk and records each accepted one as published right
 * after its chunk (`ack`, in parallel, retried with backoff), so a retry of the object re-sends
 * only what was not accepted. Before each chunk the time left is checked: short of a step's
 * reserve, it stops and says so. An entry the sink refused does not stop the other chunks; an
 * acknowledgement that keeps failing does (the next ones would fail the same way).
 */
export async function deliverAlerts(input: DeliveryInput): Promise<DeliveryResult> {
  const { decisions, budget } = input;
  const sleep = input.sleep ?? defaultSleep;
  const result: DeliveryResult = { built: 0, trimmed: 0, published: 0, acknowledged: 0 };
  const refused: PublishFailure[] = [];
  for (let start = 0; start < decisions.length; start += DELIVERY_CHUNK_ALERTS) {
    const left = budget.remainingMs();
    if (left < budget.stepReserveMs) {
      result.failure = {
        stage: 'publish',
        error: new TimeBudgetError('publish', left, budget.stepReserveMs),
      };
      return result;
    }
    const chunk = decisions.slice(start, start + DELIVERY_CHUNK_ALERTS);
    let messages: AlertMessage[];
    try {
      messages = chunk.map(input.build);
    } catch (err) {
      result.failure = { stage: 'alert', error: err as Error };
      return result;
    }
    result.built += messages.length;
    result.trimmed += messages.filter((m) => m.trimmed).length;
    const accepted = await publishChunk(input.sink, messages, refused);
    result.published += accepted.length;
    try {
      await mapLimit(accepted, MAX_PARALLEL_ACKS, (i) => ackWithRetry(chunk[i]!, sleep));
      result.acknowledged += accepted.length;
    } catch (err) {
      result.failure = {
        stage: 'acknowledge',
        error: new AcknowledgeError(accepted.length, { cause: err }),
      };
      return result;
    }
  }
  if (refused.length > 0) result.failure = { stage: 'publish', error: new PublishError(refused) };
  return result;
}

/** Publishes one chunk, a PublishBatch per batch in parallel; returns the accepted positions. */
async function publishChunk(
  sink: AlertSink,
  messages: AlertMessage[],
  refused: PublishFailure[],
): Promise<number[]> {
  const batches: number[][] = [];
  for (let i = 0; i < messages.length; i += MAX_PUBLISH_BATCH_ENTRIES) {
    batches.push(messages.slice(i, i + MAX_PUBLISH_BATCH_ENTRIES).map((_, j) => i + j));
  }
  const results = await mapLimit(batches, MAX_PARALLEL_PUBLISHES, async (batch) => {
    const out = await sink.publish(batch.map((i) => messages[i]!));
    refused.push(...out.failures);
    return out.accepted.map((j) => batch[j]!);
  });
  return results.flat();
}

async function ackWithRetry(
  decision: AlertDecision,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await decision.ack();
      return;
    } catch (err) {
      if (attempt >= ACK_MAX_ATTEMPTS || !isRetryableError(err)) throw err;
      await sleep(backoffMs(attempt));
    }
  }
}
