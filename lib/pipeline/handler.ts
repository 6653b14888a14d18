import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import type { ScanLimits } from '../engine/index.ts';
import type { SourceName } from '../event/types.ts';
import type { CompiledRule } from '../rule/index.ts';
import { defaultRule } from '../rule/index.ts';
import { mapLimit } from '../state/concurrency.ts';
import { type DynamoSend, stateFromEnv } from '../state/index.ts';
import { type Env, loadConfig, type PipelineConfig } from './config.ts';
import { InvocationFailedError, ReadDeadlineError } from './errors.ts';
import { type ObjectRef, objectId, parseInvocation } from './notifications.ts';
import type { S3Reader } from './objects.ts';
import { type AlertPolicy, statelessAlertPolicy } from './policy.ts';
import { createObjectProcessor, type ObjectOutcome } from './processor.ts';
import { AlertPublisher, type PublishOptions, type SnsPublisher } from './publish.ts';
import type { S3Writer } from './quarantine.ts';
import { createAlertSinks, loadSinkConfig, type SinkClients } from './sinks/index.ts';
import { METRICS_NAMESPACE, type PipelineLogger, type PipelineMetrics } from './telemetry.ts';

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

/** The AWS clients of a function, honouring AWS_ENDPOINT_URL, AWS_REGION and S3_FORCE_PATH_STYLE. */
export function createAwsClients(config: PipelineConfig): {
  s3: S3Client;
  sns: SNSClient;
  /** `endpoint`: AWS_ENDPOINT_URL_DYNAMODB, the SDK's per-service override of AWS_ENDPOINT_URL. */
  dynamo: (endpoint?: string) => DynamoDBClient;
} {
  const common = {
    ...(config.aws.region === undefined ? {} : { region: config.aws.region }),
    ...(config.aws.endpoint === undefined ? {} : { endpoint: config.aws.endpoint }),
  };
  return {
    s3: new S3Client({ ...common, forcePathStyle: config.aws.s3ForcePathStyle }),
    sns: new SNSClient(common),
    // Built only when STATE_TABLE asks for cross-object state.
    dynamo: (endpoint) => new DynamoDBClient(endpoint ? { ...common, endpoint } : common),
  };
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
  const config = loadConfig(env, options.source);
  const source = options.source;
  const serviceName = env.POWERTOOLS_SERVICE_NAME || `t1102-${source}`;
  const logger = options.logger ?? new Logger({ serviceName });
  const metrics =
    options.metrics ??
    new Metrics({
      namespace: env.POWERTOOLS_METRICS_NAMESPACE || METRICS_NAMESPACE,
      serviceName,
    });
  const aws = createAwsClients(config);
  const s3 = options.s3 ?? aws.s3;
  const sns = options.sns ?? aws.sns;
  const rule = options.rule ?? defaultRule();
  // STATE_TABLE absent: per-object grouping; present: windows, thresholds and context in DynamoDB.
  const state = env.STATE_TABLE?.trim()
    ? stateFromEnv(env, options.dynamo ?? aws.dynamo(env.AWS_ENDPOINT_URL_DYNAMODB), rule.rule.id)
    : undefined;
  const stateful = state?.mode === 'dynamodb' ? state : undefined;
  const processObject = createObjectProcessor({
    source,
    rule,
    s3,
    publisher: createAlertSinks(
      new AlertPublisher(sns, config.alertTopicArn, options.publish),
      loadSinkConfig(env),
      {
        region: config.aws.region,
        endpoint: config.aws.endpoint,
        eventBridgeEndpoint: env.AWS_ENDPOINT_URL_EVENTBRIDGE,
        securityHubEndpoint: env.AWS_ENDPOINT_URL_SECURITYHUB,
        ...options.sinks,
      },
    ),
    policy: options.policy ?? stateful?.policy ?? statelessAlertPolicy,
    ...(stateful ? { windowMs: stateful.windowMs, contextStore: stateful.contextStore } : {}),
    ...(options.scanLimits ? { scanLimits: options.scanLimits } : {}),
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

  return async (event, context) => {
    if (context && logger.addContext) logger.addContext(context);
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
    let outcomes: ObjectOutcome[];
    try {
      // processObject never throws: each object's failure is part of its outcome.
      outcomes = await mapLimit(refs, config.objectConcurrency, (ref) =>
        processObject(ref, deadline?.signal),
      );
    } finally {
      deadline?.clear();
    }
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
