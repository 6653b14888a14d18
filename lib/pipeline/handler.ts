import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { createEnvReader } from '../config/env.ts';
import type { ScanLimits } from '../engine/index.ts';
import type { SourceName } from '../event/types.ts';
import type { CompiledExceptions, CompiledRule } from '../rule/index.ts';
import { defaultRule } from '../rule/index.ts';
import { mapLimit } from '../state/concurrency.ts';

import {
  createState,
  type DynamoSend,
  readStateSettings,
  type WaitingStore,
} from '../state/index.ts';
import { timeBudget } from './budget.ts';
import { type ClientTimeouts, createAwsClients, DEFAULT_CLIENT_TIMEOUTS } from './clients.ts';
import { type Env, readPipelineConfig } from './config.ts';
import { ConfigError, InvocationFailedError, ReadDeadlineError } from './errors.ts';
import { loadExceptionsFromS3 } from './exceptions.ts';

import { type ObjectRef, objectId, parseInvocation } from './notifications.ts';
import type { S3Reader } from './objects.ts';
import { type AlertPolicy, statelessAlertPolicy } from './policy.ts';
import { createObjectProcessor, type ObjectOutcome } from './processor.ts';
import { AlertPublisher, type PublishOptions, type SnsPublisher } from './publish.ts';
import type { S3Writer } from './quarantine.ts';
import { createAlertSinks, readSinkConfig, type SinkClients } from './sinks/index.ts';
import {
  METRIC,
  METRICS_NAMESPACE,
  type PipelineLogger,
  type PipelineMetrics,
} from './telemetry.ts';

export interface S3BatchHandlerOptions {
  /** The telemetry this function reads; objects of the other kind are quarantined as damage. */
  source: SourceName;
  /** Defaults to process.env. */
  env?: Env;
  // Everything below defaults to the real thing built from the environment; tests inject.
  s3?: S3Reader & S3Writer;
  sns?: SnsPublisher;
  logger?: PipelineLogger & Partial<Pick<Logger, 'addContext'>>;
  metrics?: PipelineMetrics;
  /** Overrides the policy STATE_TABLE selects (tests). */
  policy?: AlertPolicy;
  /** DynamoDB client for STATE_TABLE; defaults to one built from the environment. */
  dynamo?: DynamoSend;
  rule?: CompiledRule;
  /** The engine's bounds; defaults to lib/engine/limits.ts (tests lower them). */
  scanLimits?: Partial<ScanLimits>;
  publish?: PublishOptions;
  /** Request and connection timeouts of the clients built here (tests lower them). */
  clientTimeouts?: Partial<ClientTimeouts>;
  /** EventBridge and Security Hub clients for the optional alert routes (tests). */
  sinks?: Pick<SinkClients, 'eventBridge' | 'securityHub'>;
  now?: () => Date;
}

export type S3BatchHandler = (event: unknown, context?: Context) => Promise<SQSBatchResponse>;

/** Most of the invocation's time kept back from reading, for quarantine, publish and the reply. */
export const MAX_DEADLINE_RESERVE_MS = 30_000;
/** Share of the invocation's time kept back when that is less than MAX_DEADLINE_RESERVE_MS. */
export const DEADLINE_RESERVE_SHARE = 0.2;

/**
 * Aborts reading when the invocation has only its reserve left. Without it, an object too large
 * (or too slow) for the timeout would time the whole invocation out: every object of the batch,
 * finished or not, would go back to the queue and, retry after retry, to the dead-letter queue.
 */
function readDeadline(remainingMs: number): { signal: AbortSignal; clear(): void } {
  const reserve = Math.min(MAX_DEADLINE_RESERVE_MS, remainingMs * DEADLINE_RESERVE_SHARE);
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new ReadDeadlineError(reserve)),
    remainingMs - reserve,
  );
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/**
 * Counts and logs the candidates whose wait for process context ended unresolved (each hour is
 * swept by one function). Never fails the batch: an hour not swept now is swept by a later call.
 */
async function sweepExpired(
  waiting: WaitingStore,
  logger: PipelineLogger,
  metrics: PipelineMetrics,
): Promise<void> {
  try {
    for (const report of await waiting.sweepExpired()) {
      logger.warn('candidates expired without the process context they waited for', {
        waitEndedHour: report.hour,
        candidatesExpired: report.count,
        lacking: report.examples,
      });
      metrics.addMetric(METRIC.candidatesExpired, MetricUnit.Count, report.count);
      metrics.publishStoredMetrics();
    }
  } catch (err) {
    logger.warn('sweep of expired waiting candidates failed; a later invocation retries it', {
      stage: 'context',
      failedService: 'DynamoDB',
      error: err as Error,
    });
  }
}

/**
 * Builds a Lambda handler for S3 object notifications of one telemetry source. Call it at module
 * scope: configuration is validated (ConfigError names every problem), clients, logger and metrics
 * are built once per cold start.
 *
 * The handler accepts every notification shape (see notifications.ts), scans each distinct object
 * once with bounded concurrency, and answers an SQS batch with `batchItemFailures` naming only the
 * messages whose objects failed. A direct invocation (S3, SNS, EventBridge) throws
 * InvocationFailedError instead, so Lambda's retries and failure destination apply.
 */
export function createS3BatchHandler(options: S3BatchHandlerOptions): S3BatchHandler {
  const env = options.env ?? process.env;
  // The function's, the state layer's and the alert routes' variables are read together: every
  // problem at once.
  const reader = createEnvReader(env);
  const config = readPipelineConfig(reader, options.source);
  const settings = readStateSettings(reader);
  const sinkConfig = readSinkConfig(reader);
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  const source = options.source;
  const serviceName = reader.text('POWERTOOLS_SERVICE_NAME') ?? `t1102-${source}`;
  const logger = options.logger ?? new Logger({ serviceName });
  const metrics =
    options.metrics ??
    new Metrics({
      namespace: reader.text('POWERTOOLS_METRICS_NAMESPACE') ?? METRICS_NAMESPACE,
      serviceName,
    });
  const timeouts = { ...DEFAULT_CLIENT_TIMEOUTS, ...options.clientTimeouts };
  const aws = createAwsClients(config, timeouts, logger);
  const s3 = options.s3 ?? aws.s3;
  const sns = options.sns ?? aws.sns;
  const rule = options.rule ?? defaultRule();
  // STATE_TABLE absent: per-object grouping; present: windows, thresholds and context in DynamoDB.
  const state = settings.tableName
    ? createState(
        settings,
        options.dynamo ?? aws.dynamo(reader.text('AWS_ENDPOINT_URL_DYNAMODB')),
        rule.rule.id,
      )
    : undefined;
  const stateful = state?.mode === 'dynamodb' ? state : undefined;
  // SNS, and the EventBridge and Security Hub routes the configuration turns on.
  const publisher = createAlertSinks(
    new AlertPublisher(sns, config.alertTopicArn, options.publish),
    sinkConfig,
    {
      region: config.aws.region,
      endpoint: config.aws.endpoint,
      eventBridgeEndpoint: reader.text('AWS_ENDPOINT_URL_EVENTBRIDGE'),
      securityHubEndpoint: reader.text('AWS_ENDPOINT_URL_SECURITYHUB'),
      timeouts,
      logger,
      ...options.sinks,
    },
  );
  const buildProcessor = (exceptions: CompiledExceptions) =>
    createObjectProcessor({
      source,
      shape: config.shape,
      rule,
      exceptions,
      s3,
      publisher,
      policy: options.policy ?? stateful?.policy ?? statelessAlertPolicy,
      ...(stateful
        ? {
            windowMs: stateful.windowMs,
            contextStore: stateful.contextStore,
            claims: stateful.claims,
            waiting: stateful.waiting,
          }
        : {}),
      scanLimits: { maxAlertGroups: config.maxAlertGroups, ...options.scanLimits },
      logger,
      metrics,
      quarantine: {
        prefix: config.quarantinePrefix,
        bucket: config.quarantineBucket,
        maxRecords: config.maxQuarantineRecords,
        maxBytes: config.maxQuarantineBytes,
      },
      ...(options.now ? { now: options.now } : {}),
    });
  // The exceptions file is read once, at the first invocation (it is an S3 read); a bad one
  // fails every invocation with its message until it is fixed, and a failed read is tried again.
  let ready: Promise<ReturnType<typeof buildProcessor>> | undefined;
  const processorReady = () => {
    ready ??= loadExceptionsFromS3(s3, config.exceptionsUri).then(
      (exceptions) => {
        if (exceptions.size > 0)
          logger.info('exceptions loaded', {
            exceptionsUri: config.exceptionsUri,
            exceptions: exceptions.size,
          });
        return buildProcessor(exceptions);
      },
      (err: unknown) => {
        ready = undefined;
        logger.error('refusing to start: the exceptions file is unusable', { error: err as Error });
        throw err;
      },
    );
    return ready;
  };

  return async (event, context) => {
    if (context && logger.addContext) logger.addContext(context);
    const processObject = await processorReady();
    const parsed = parseInvocation(event, { ignorePrefixes: [config.quarantinePrefix] });

    // One scan per object version, however many messages name it (S3 delivers at least once).
    const unique = new Map<string, ObjectRef>();
    for (const item of parsed.items) {
      if (item.error) {
        logger.error('notification not understood', {
          ...(item.itemId === undefined ? {} : { messageId: item.itemId }),
          error: item.error,
        });
      }
      for (const ignored of item.ignored) logger.info('notification ignored', { ...ignored });
      for (const ref of item.objects) {
        const id = objectId(ref);
        if (!unique.has(id)) unique.set(id, ref);
      }
    }
    const refs = [...unique.values()];
    const deadline = context ? readDeadline(context.getRemainingTimeInMillis()) : undefined;
    const budget = timeBudget(context ? () => context.getRemainingTimeInMillis() : undefined);
    let outcomes: ObjectOutcome[];
    try {
      // processObject never throws: each object's failure is part of its outcome.
      outcomes = await mapLimit(refs, config.objectConcurrency, (ref) =>
        processObject(ref, { ...(deadline ? { signal: deadline.signal } : {}), budget }),
      );
    } finally {
      deadline?.clear();
    }
    // Swept after real work only: an empty or ignored batch touches nothing.
    if (stateful && refs.length > 0) await sweepExpired(stateful.waiting, logger, metrics);
    const byId = new Map<string, ObjectOutcome>(outcomes.map((o) => [o.objectId, o]));

    const failedItems = parsed.items.filter(
      (item) =>
        item.error !== undefined || item.objects.some((ref) => !byId.get(objectId(ref))?.ok),
    );
    if (parsed.kind === 'sqs') {
      return {
        batchItemFailures: failedItems.map((item) => ({ itemIdentifier: item.itemId ?? '' })),
      };
    }
    if (failedItems.length > 0) {
      const failed = outcomes.filter((o) => !o.ok).map((o) => o.objectId);
      throw new InvocationFailedError(failed.length > 0 ? failed : ['unreadable notification']);
    }
    return { batchItemFailures: [] };
  };
}
