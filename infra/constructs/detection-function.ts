import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Annotations, Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, EventSourceMapping, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import {
  LogLevel,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FunctionEnvironment } from '../../lib/config/env.ts';
import { HEAP_WRAPPER_SOURCE } from '../../lib/pipeline/heap-wrapper.ts';
import type { DetectionSource } from '../config.ts';
import { METRICS_NAMESPACE, SERVICE_DIMENSION, SERVICE_NAMES } from '../metrics.ts';
import { acknowledge } from '../nag.ts';

/** The repository root: esbuild resolves node_modules and package-lock.json from here. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The handler file per source; the integration tests import the same files. */
export const HANDLER_ENTRIES: Readonly<Record<DetectionSource, string>> = {
  sysmon: join(REPO_ROOT, 'functions', 'sysmon.ts'),
  falcon: join(REPO_ROOT, 'functions', 'falcon.ts'),
};

/**
 * Where the Lambda exec wrapper (HEAP_WRAPPER_SOURCE) is in the function's package, named by
 * AWS_LAMBDA_EXEC_WRAPPER: it caps the young generation the Node.js runtime would make a tenth of
 * the function's memory (lib/engine/README.md). Lambda unpacks the package in /var/task.
 */
export const HEAP_WRAPPER_FILE = 'heap-wrapper';

/**
 * Lambda runs the wrapper only if the package keeps its executable bit: the CDK CLI zips each
 * file with its mode, which on Windows carries no executable bit, so the wrapper is left out
 * there (the functions then run with the runtime's own, larger young generation).
 */
const CAN_SHIP_HEAP_WRAPPER = process.platform !== 'win32';

/** The Lambda runtime; the code is tested on Node 20 and 22 and must run on both. */
export const FUNCTION_RUNTIME = Runtime.NODEJS_22_X;

/** esbuild's target for the runtime above. */
const ESBUILD_TARGET = 'node22';

// The bundle is ESM, but some dependencies are CommonJS and call require() for Node built-ins;
// esbuild's ESM output has no require, so give it one (Powertools documents the same banner).
const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

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

/**
 * The house Lambda function: Node 22 on arm64, bundled locally by esbuild as minified ESM with
 * source maps, an explicit encrypted log group with retention, X-Ray tracing, and a role that
 * starts empty. Grants are added with the bind...() helpers, never by managed policies.
 */
export class DetectionFunction extends Construct {
  readonly source: DetectionSource;
  readonly serviceName: string;
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: DetectionFunctionProps) {
    super(scope, id);
    this.source = props.source;
    this.serviceName = SERVICE_NAMES[props.source];
    const heapWrapper = props.heapWrapper ?? CAN_SHIP_HEAP_WRAPPER;

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetentionDays,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: props.removalPolicy,
    });

    // A role of our own instead of Lambda's default one, which attaches the
    // AWSLambdaBasicExecutionRole managed policy (logs:* on every log group in the account).
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the T1102 ${props.source} detection function`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      description: `T1102 Web Service detection over ${props.source} batches`,
      entry: props.entry ?? HANDLER_ENTRIES[props.source],
      handler: 'handler',
      runtime: FUNCTION_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memoryMiB,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: Tracing.ACTIVE,
      ...(props.reservedConcurrency === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrency }),
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      environment: {
        ALERT_TOPIC_ARN: props.alertTopicArn,
        QUARANTINE_PREFIX: props.quarantinePrefix,
        SOURCE: props.source,
        POWERTOOLS_SERVICE_NAME: this.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // Stack traces point at the TypeScript sources through the bundled source map.
        NODE_OPTIONS: '--enable-source-maps',
        ...(heapWrapper ? { AWS_LAMBDA_EXEC_WRAPPER: `/var/task/${HEAP_WRAPPER_FILE}` } : {}),
      } satisfies FunctionEnvironment,
      bundling: {
        // No Docker anywhere in this project: bundle with node_modules/.bin/esbuild.
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: ESBUILD_TARGET,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        // Names and lines are enough for stack traces; keep the sources out of the package.
        sourcesContent: false,
        // Bundle the AWS SDK too: the function then runs exactly the SDK version the tests ran,
        // not whichever one the Lambda runtime happens to ship.
        externalModules: [],
        // esbuild's per-file size table on every synth is noise; warnings and errors still show.
        logLevel: LogLevel.WARNING,
        ...(heapWrapper
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (_inputDir: string, outputDir: string) => {
                  const target = join(outputDir, HEAP_WRAPPER_FILE);
                  // Without carriage returns: a checkout with CRLF line ends would break /bin/sh.
                  return [
                    `tr -d '\\r' < "${HEAP_WRAPPER_SOURCE}" > "${target}"`,
                    `chmod 755 "${target}"`,
                  ];
                },
              },
            }
          : {}),
      },
    });

    if (!heapWrapper) {
      Annotations.of(this.function).addWarningV2(
        't1102:heap-wrapper',
        'The Lambda exec wrapper that caps the young generation is left out (synthesized on Windows, where a package has no executable bit); the function runs with the Node.js runtime default heap, slower and larger (lib/engine/README.md).',
      );
    }

    acknowledge(
      this.function,
      {
        id: 'AwsSolutions-L1',
        reason:
          'nodejs22.x is the runtime the handlers are built and tested for; a runtime upgrade is a deliberate, tested change, not a lint fix.',
      },
      {
        id: 'Serverless-LambdaLatestVersion',
        reason:
          'nodejs22.x is the runtime the handlers are built and tested for; a runtime upgrade is a deliberate, tested change, not a lint fix.',
      },
      {
        id: 'Serverless-LambdaDLQ',
        reason:
          'An SQS event source invokes the function synchronously, where a function dead-letter queue never applies; failed messages go to the source queue dead-letter queue instead.',
      },
    );
    acknowledge(this.role, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions, so AWS requires Resource "*".',
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

  /** One of the pipeline's own EMF metrics for this function's service. */
  metric(metricName: string, options: MetricOptions = {}): Metric {
    return new Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { [SERVICE_DIMENSION]: this.serviceName },
      period: Duration.minutes(1),
      statistic: 'Sum',
      ...options,
    });
  }
}
