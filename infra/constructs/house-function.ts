import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Annotations, Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import {
  LogLevel,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { HEAP_WRAPPER_SOURCE } from '../../lib/pipeline/heap-wrapper.ts';
import { METRICS_NAMESPACE, SERVICE_DIMENSION } from '../metrics.ts';
import { acknowledge } from '../nag.ts';
import { acknowledgeOutsideVpc, acknowledgeShortLogRetention } from '../policy-checks.ts';

/** The repository root: esbuild resolves node_modules and package-lock.json from here. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

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

export interface HouseFunctionProps {
  /** The handler file under functions/. */
  readonly entry: string;
  readonly description: string;
  /** POWERTOOLS_SERVICE_NAME, and so the `service` dimension of the function's metrics. */
  readonly serviceName: string;
  readonly memoryMiB: number;
  readonly timeout: Duration;
  readonly reservedConcurrency?: number | undefined;
  readonly logRetentionDays: number;
  /** Encrypts the function's log group; its policy must let CloudWatch Logs use it. */
  readonly logEncryptionKey: IKey;
  readonly removalPolicy: RemovalPolicy;
  readonly environment: Readonly<Record<string, string>>;
  /** Ship the heap wrapper; defaults to true except when synthesizing on Windows. */
  readonly heapWrapper?: boolean;
  /**
   * False for a function that does not run the detection engine (the FDR poller): it gets no
   * heap wrapper, whose young-generation cap is tuned for the engine, and no warning about it.
   */
  readonly runsEngine?: boolean;
}

/**
 * The house Lambda function: Node 22 on arm64, bundled locally by esbuild as minified ESM with
 * source maps, an explicit encrypted log group with retention, X-Ray tracing, and a role that
 * starts empty. Grants are added with the bind...() helpers, never by managed policies.
 */
export class HouseFunction extends Construct {
  readonly serviceName: string;
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: HouseFunctionProps) {
    super(scope, id);
    this.serviceName = props.serviceName;
    const runsEngine = props.runsEngine ?? true;
    const heapWrapper = runsEngine && (props.heapWrapper ?? CAN_SHIP_HEAP_WRAPPER);

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetentionDays,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: props.removalPolicy,
    });
    acknowledgeShortLogRetention(this.logGroup, props.logRetentionDays);

    // A role of our own instead of Lambda's default one, which attaches the
    // AWSLambdaBasicExecutionRole managed policy (logs:* on every log group in the account).
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      description: props.description,
      entry: props.entry,
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
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: this.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // Stack traces point at the TypeScript sources through the bundled source map.
        NODE_OPTIONS: '--enable-source-maps',
        ...(heapWrapper ? { AWS_LAMBDA_EXEC_WRAPPER: `/var/task/${HEAP_WRAPPER_FILE}` } : {}),
      },
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

    if (runsEngine && !heapWrapper) {
      Annotations.of(this.function).addWarningV2(
        't1102:heap-wrapper',
        'The Lambda exec wrapper that caps the young generation is left out (synthesized on Windows, where a package has no executable bit); the function runs with the Node.js runtime default heap, slower and larger (lib/engine/README.md).',
      );
    }

    const runtimeReason =
      'nodejs22.x is the runtime the handlers are built and tested for; a runtime upgrade is a deliberate, tested change, not a lint fix.';
    acknowledge(
      this.function,
      { id: 'AwsSolutions-L1', reason: runtimeReason },
      { id: 'Serverless-LambdaLatestVersion', reason: runtimeReason },
    );
    acknowledgeOutsideVpc(this.function);
    acknowledge(this.role, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions, so AWS requires Resource "*".',
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
