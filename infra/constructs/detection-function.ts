import { join } from 'node:path';
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { FunctionEnvironment } from '../../lib/config/env.ts';
import type { DetectionSource } from '../config.ts';
import { SERVICE_NAMES } from '../metrics.ts';
import { acknowledge } from '../nag.ts';
import { HouseFunction, REPO_ROOT } from './house-function.ts';

export { FUNCTION_RUNTIME, HEAP_WRAPPER_FILE, REPO_ROOT } from './house-function.ts';

/** The handler file per source; the integration tests import the same files. */
export const HANDLER_ENTRIES: Readonly<Record<DetectionSource, string>> = {
  sysmon: join(REPO_ROOT, 'functions', 'sysmon.ts'),
  falcon: join(REPO_ROOT, 'functions', 'falcon.ts'),
};

export interface DetectionFunctionProps {
  readonly source: DetectionSource;
  /** Defaults to the source's file under functions/. */
  readonly entry?: string;
  readonly memoryMiB: number;
  readonly timeout: Duration;
  readonly reservedConcurrency?: number | undefined;
  readonly logRetentionDays: number;
  /** Encrypts the function's log group; its policy must let CloudWatch Logs use it. */
  readonly logEncryptionKey: IKey;
  readonly alertTopicArn: string;
  readonly quarantinePrefix: string;
  /** Where quarantine files go: the stack's bucket, also for objects read from other buckets. */
  readonly quarantineBucket: string;
  readonly removalPolicy: RemovalPolicy;
  /** Ship the heap wrapper; defaults to true except when synthesizing on Windows. */
  readonly heapWrapper?: boolean;
}

export interface ConsumeOptions {
  /** Messages (S3 notifications) per invocation. */
  readonly batchSize: number;
  /** Cap on concurrent invocations from this queue (2 to 1000); unset means Lambda's default. */
  readonly maxConcurrency?: number | undefined;
}

/** One source's detection function: the house function with the pipeline's environment. */
export class DetectionFunction extends HouseFunction {
  readonly source: DetectionSource;

  constructor(scope: Construct, id: string, props: DetectionFunctionProps) {
    super(scope, id, {
      entry: props.entry ?? HANDLER_ENTRIES[props.source],
      description: `T1102 Web Service detection over ${props.source} batches`,
      serviceName: SERVICE_NAMES[props.source],
      memoryMiB: props.memoryMiB,
      timeout: props.timeout,
      reservedConcurrency: props.reservedConcurrency,
      logRetentionDays: props.logRetentionDays,
      logEncryptionKey: props.logEncryptionKey,
      removalPolicy: props.removalPolicy,
      environment: {
        ALERT_TOPIC_ARN: props.alertTopicArn,
        QUARANTINE_PREFIX: props.quarantinePrefix,
        QUARANTINE_BUCKET: props.quarantineBucket,
        SOURCE: props.source,
      } satisfies FunctionEnvironment,
      ...(props.heapWrapper === undefined ? {} : { heapWrapper: props.heapWrapper }),
    });
    this.source = props.source;
    acknowledge(this.function, {
      id: 'Serverless-LambdaDLQ',
      reason:
        'An SQS event source invokes the function synchronously, where a function dead-letter queue never applies; failed messages go to the source queue dead-letter queue instead.',
    });
  }

  /**
   * Drains `queue`: each message is one S3 notification, and a failed object is reported alone
   * (ReportBatchItemFailures) so the rest of the batch is not retried with it.
   */
  consumeFrom(queue: IQueue, options: ConsumeOptions): void {
    const eventSource = new SqsEventSource(queue, {
      batchSize: options.batchSize,
      reportBatchItemFailures: true,
      ...(options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency }),
    });
    this.function.addEventSource(eventSource);
    const mappingId = eventSource.eventSourceMappingId;
    const mapping = this.function.node.children.find(
      (child) => child instanceof EventSourceMapping && child.eventSourceMappingId === mappingId,
    );
    acknowledge(mapping ?? this.function, {
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'Lambda supports on-failure destinations only for stream and Kafka event sources; for SQS the queue redrive policy to its dead-letter queue does that job.',
    });
  }
}
