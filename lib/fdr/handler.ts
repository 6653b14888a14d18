import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { createEnvReader } from '../config/env.ts';
import { DEFAULT_CLIENT_TIMEOUTS, requestHandlerOptions, sdkLogger } from '../pipeline/clients.ts';
import {
  METRICS_NAMESPACE,
  type PipelineLogger,
  type PipelineMetrics,
} from '../pipeline/telemetry.ts';
import { FDR_SERVICE_NAME, type FdrConfig, loadFdrConfig } from './config.ts';
import type { S3Head, S3Put } from './copy.ts';
import { createFdrPoller, type FdrRunSummary, type FdrSource } from './poller.ts';
import {
  cachedSecretReader,
  type FdrCredentials,
  type SecretReader,
  secretsManagerReader,
} from './secret.ts';

export interface FdrHandlerOptions {
  /** Defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  // Everything below defaults to the real thing built from the environment; tests inject.
  secrets?: SecretReader;
  source?: (credentials: FdrCredentials) => FdrSource;
  destination?: S3Head & S3Put;
  logger?: PipelineLogger & Partial<Pick<Logger, 'addContext'>>;
  metrics?: PipelineMetrics;
}

export type FdrHandler = (event: unknown, context?: Context) => Promise<FdrRunSummary>;

/** CrowdStrike's SQS and S3 clients for one access key, rebuilt only when the key changes. */
function sourceClients(
  config: FdrConfig,
  logger: PipelineLogger,
): (credentials: FdrCredentials) => FdrSource {
  let cached: { accessKeyId: string; secretAccessKey: string; source: FdrSource } | undefined;
  return (credentials) => {
    if (
      cached?.accessKeyId === credentials.accessKeyId &&
      cached.secretAccessKey === credentials.secretAccessKey
    ) {
      return cached.source;
    }
    const common = {
      credentials,
      ...((config.sourceRegion ?? config.aws.region) === undefined
        ? {}
        : { region: (config.sourceRegion ?? config.aws.region) as string }),
      ...(config.aws.endpoint === undefined ? {} : { endpoint: config.aws.endpoint }),
      requestHandler: requestHandlerOptions(DEFAULT_CLIENT_TIMEOUTS),
      logger: sdkLogger(logger),
    };
    const source = {
      sqs: new SQSClient(common),
      s3: new S3Client({ ...common, forcePathStyle: config.aws.s3ForcePathStyle }),
    };
    cached = { ...credentials, source };
    return source;
  };
}

/**
 * Builds the scheduled FDR poller's Lambda handler. Call it at module scope: configuration is
 * validated once (ConfigError names every problem). A run that cannot read the secret throws,
 * so the invocation counts as an error and the Errors alarm fires; no message was touched.
 */
export function createFdrHandler(options: FdrHandlerOptions = {}): FdrHandler {
  const env = options.env ?? process.env;
  const config = loadFdrConfig(env);
  const { text } = createEnvReader(env);
  const serviceName = text('POWERTOOLS_SERVICE_NAME') ?? FDR_SERVICE_NAME;
  const logger = options.logger ?? new Logger({ serviceName });
  const metrics =
    options.metrics ??
    new Metrics({
      namespace: text('POWERTOOLS_METRICS_NAMESPACE') ?? METRICS_NAMESPACE,
      serviceName,
    });
  const own = {
    ...(config.aws.region === undefined ? {} : { region: config.aws.region }),
    ...(config.aws.endpoint === undefined ? {} : { endpoint: config.aws.endpoint }),
    requestHandler: requestHandlerOptions(DEFAULT_CLIENT_TIMEOUTS),
    logger: sdkLogger(logger),
  };
  const secretsEndpoint = text('AWS_ENDPOINT_URL_SECRETS_MANAGER');
  const poll = createFdrPoller({
    config,
    secrets:
      options.secrets ??
      cachedSecretReader(
        secretsManagerReader(
          new SecretsManagerClient(secretsEndpoint ? { ...own, endpoint: secretsEndpoint } : own),
        ),
      ),
    source: options.source ?? sourceClients(config, logger),
    destination:
      options.destination ?? new S3Client({ ...own, forcePathStyle: config.aws.s3ForcePathStyle }),
    logger,
    metrics,
  });
  return async (_event, context) => {
    if (context && logger.addContext) logger.addContext(context);
    return poll(context ? () => context.getRemainingTimeInMillis() : undefined);
  };
}
