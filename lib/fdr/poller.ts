import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  DeleteMessageCommand,
  type DeleteMessageCommandOutput,
  type Message,
  ReceiveMessageCommand,
  type ReceiveMessageCommandOutput,
} from '@aws-sdk/client-sqs';
import { parseInvocation, type S3Reader } from '../pipeline/index.ts';
import type { PipelineLogger, PipelineMetrics } from '../pipeline/telemetry.ts';
import { mapLimit } from '../state/concurrency.ts';
import type { FdrConfig } from './config.ts';
import { type CopyOutcome, copyWithRetries, type S3Head, type S3Put } from './copy.ts';
import { FDR_METRIC } from './metrics.ts';
import type { FdrCredentials, SecretReader } from './secret.ts';

/** SQS returns at most 10 messages per ReceiveMessage. */
export const MAX_RECEIVE_BATCH = 10;
/**
 * Long-poll wait per receive. Short polling samples only some SQS servers and can answer empty
 * while messages wait; a one-second wait sees them all and costs one second on an idle queue.
 */
export const RECEIVE_WAIT_SECONDS = 1;
/** No new receive once less than this share of the invocation's time is left for the copies. */
export const RECEIVE_CUTOFF_SHARE = 0.5;

export interface SqsClientLike {
  send(command: ReceiveMessageCommand): Promise<ReceiveMessageCommandOutput>;
  send(command: DeleteMessageCommand): Promise<DeleteMessageCommandOutput>;
}

/** CrowdStrike's side, reached with the access key from the secret. */
export interface FdrSource {
  sqs: SqsClientLike;
  s3: S3Reader & S3Head;
}

export interface FdrPollerDeps {
  config: Pick<
    FdrConfig,
    | 'queueUrl'
    | 'secretId'
    | 'destinationBucket'
    | 'destinationPrefix'
    | 'maxMessagesPerRun'
    | 'objectConcurrency'
    | 'visibilityTimeoutSeconds'
  >;
  secrets: SecretReader;
  /** Builds (or reuses) CrowdStrike's clients for these credentials. */
  source: (credentials: FdrCredentials) => FdrSource;
  destination: S3Head & S3Put;
  logger: PipelineLogger;
  metrics: PipelineMetrics;
  /** Tests lower the object size bound. */
  maxObjectBytes?: number;
}

export interface FdrRunSummary {
  messagesReceived: number;
  messagesDeleted: number;
  /** Left on the queue for the next run: an object failed, or the message was unreadable. */
  messagesKept: number;
  objectsCopied: number;
  objectsSkipped: number;
  objectsMissing: number;
  objectsFailed: number;
  bytesCopied: number;
}

const emptySummary = (): FdrRunSummary => ({
  messagesReceived: 0,
  messagesDeleted: 0,
  messagesKept: 0,
  objectsCopied: 0,
  objectsSkipped: 0,
  objectsMissing: 0,
  objectsFailed: 0,
  bytesCopied: 0,
});

/** Milliseconds left in the invocation; undefined outside Lambda (no cut-off). */
export type RemainingTime = (() => number) | undefined;

/**
 * One scheduled run: read CrowdStrike's key, then receive up to `maxMessagesPerRun` messages and
 * copy every object each one lists into this stack's bucket, deleting a message only once all its
 * objects are there. A failed object keeps its message on the queue, and SQS redelivers it after
 * the visibility timeout; the copies already made are recognised then and not repeated.
 *
 * Throws only when nothing can proceed (the secret); then no message has been received.
 */
export function createFdrPoller(
  deps: FdrPollerDeps,
): (remaining?: RemainingTime) => Promise<FdrRunSummary> {
  return async (remaining) => {
    const credentials = await deps.secrets.read(deps.config.secretId);
    const source = deps.source(credentials);
    const cutoff = remaining === undefined ? 0 : remaining() * RECEIVE_CUTOFF_SHARE;
    const summary = emptySummary();
    const seen = new Set<string>();
    let cycled = false;
    while (!cycled && summary.messagesReceived < deps.config.maxMessagesPerRun) {
      if (remaining !== undefined && remaining() < cutoff) break;
      const wanted = Math.min(
        MAX_RECEIVE_BATCH,
        deps.config.maxMessagesPerRun - summary.messagesReceived,
      );
      const out = await source.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: deps.config.queueUrl,
          MaxNumberOfMessages: wanted,
          WaitTimeSeconds: RECEIVE_WAIT_SECONDS,
          VisibilityTimeout: deps.config.visibilityTimeoutSeconds,
        }),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) break;
      for (const message of messages) {
        // A message kept earlier in this run is back: the queue has come round, so stop here
        // rather than retry the same failure within one run.
        const id = message.MessageId ?? '';
        if (seen.has(id)) {
          cycled = true;
          continue;
        }
        seen.add(id);
        summary.messagesReceived++;
        await handleMessage(deps, source, message, summary);
      }
    }
    report(deps, summary);
    return summary;
  };
}

/** Copies one message's objects; deletes the message when none failed. */
async function handleMessage(
  deps: FdrPollerDeps,
  source: FdrSource,
  message: Message,
  summary: FdrRunSummary,
): Promise<void> {
  const messageId = message.MessageId ?? '?';
  const item = parseInvocation(message.Body ?? '').items[0];
  if (item === undefined || item.error !== undefined) {
    summary.messagesKept++;
    deps.logger.error('FDR message not understood; left on the queue', {
      messageId,
      error: item?.error,
    });
    return;
  }
  const outcomes = await mapLimit(item.objects, deps.config.objectConcurrency, (ref) =>
    copyWithRetries(source.s3, deps.destination, ref, {
      bucket: deps.config.destinationBucket,
      prefix: deps.config.destinationPrefix,
      ...(deps.maxObjectBytes === undefined ? {} : { maxBytes: deps.maxObjectBytes }),
    }).then(
      (outcome): CopyOutcome | Error => outcome,
      (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
    ),
  );
  let failed = 0;
  outcomes.forEach((o, i) => {
    const ref = item.objects[i];
    const fields = { messageId, bucket: ref?.bucket, key: ref?.key };
    if (o instanceof Error) {
      failed++;
      summary.objectsFailed++;
      deps.logger.error('FDR object not copied; its message stays for a retry', {
        ...fields,
        error: o,
      });
    } else if (o.status === 'copied') {
      summary.objectsCopied++;
      summary.bytesCopied += o.bytes;
      deps.logger.info('FDR object copied', { ...fields, destinationKey: o.key, bytes: o.bytes });
    } else if (o.status === 'skipped') {
      summary.objectsSkipped++;
      deps.logger.info('FDR object already copied', { ...fields, destinationKey: o.key });
    } else {
      // Retrying cannot bring back a file FDR has expired: counted and alarmed, not retried.
      summary.objectsMissing++;
      deps.logger.error("FDR object no longer exists in CrowdStrike's bucket; it is lost", fields);
    }
  });
  if (failed > 0) {
    summary.messagesKept++;
    return;
  }
  await source.sqs.send(
    new DeleteMessageCommand({
      QueueUrl: deps.config.queueUrl,
      ReceiptHandle: message.ReceiptHandle,
    }),
  );
  summary.messagesDeleted++;
}

function report(deps: FdrPollerDeps, s: FdrRunSummary): void {
  const m = deps.metrics;
  m.addMetric(FDR_METRIC.messagesReceived, MetricUnit.Count, s.messagesReceived);
  m.addMetric(FDR_METRIC.messagesDeleted, MetricUnit.Count, s.messagesDeleted);
  m.addMetric(FDR_METRIC.messagesKept, MetricUnit.Count, s.messagesKept);
  m.addMetric(FDR_METRIC.objectsCopied, MetricUnit.Count, s.objectsCopied);
  m.addMetric(FDR_METRIC.objectsSkipped, MetricUnit.Count, s.objectsSkipped);
  m.addMetric(FDR_METRIC.objectsMissing, MetricUnit.Count, s.objectsMissing);
  m.addMetric(FDR_METRIC.objectsFailed, MetricUnit.Count, s.objectsFailed);
  m.addMetric(FDR_METRIC.bytesCopied, MetricUnit.Bytes, s.bytesCopied);
  m.publishStoredMetrics();
  const log = s.objectsFailed > 0 || s.objectsMissing > 0 || s.messagesKept > 0 ? 'warn' : 'info';
  deps.logger[log]('FDR run finished', { ...s });
}
