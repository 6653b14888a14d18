import { createEnvReader, ENV, type Env } from '../config/env.ts';
import { ConfigError } from '../pipeline/errors.ts';

/** POWERTOOLS_SERVICE_NAME of the poller when the environment names none. */
export const FDR_SERVICE_NAME = 't1102-fdr';

// Defaults and bounds are the configuration contract's (lib/config/env.ts); these name them here.
/** Where copies land in this stack's bucket: under the Falcon prefix, so the falcon function scans them. */
export const DEFAULT_DESTINATION_PREFIX = ENV.DESTINATION_PREFIX.default;
export const DEFAULT_MAX_MESSAGES_PER_RUN = ENV.FDR_MAX_MESSAGES_PER_RUN.default;
export const MAX_MESSAGES_PER_RUN_LIMIT = ENV.FDR_MAX_MESSAGES_PER_RUN.max;
export const DEFAULT_FDR_OBJECT_CONCURRENCY = ENV.FDR_OBJECT_CONCURRENCY.default;
export const MAX_FDR_OBJECT_CONCURRENCY = ENV.FDR_OBJECT_CONCURRENCY.max;
export const DEFAULT_FDR_VISIBILITY_TIMEOUT_SECONDS = ENV.FDR_VISIBILITY_TIMEOUT_SECONDS.default;
/** SQS's maximum visibility timeout (12 hours). */
export const MAX_FDR_VISIBILITY_TIMEOUT_SECONDS = ENV.FDR_VISIBILITY_TIMEOUT_SECONDS.max;

// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html
const QUEUE_URL = /^https?:\/\/[^/\s]+\/\d{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/;
// sqs.<region>.amazonaws.com (or .amazonaws.com.cn), and the legacy <region>.queue.amazonaws.com.
const QUEUE_URL_REGION = /^https?:\/\/(?:sqs\.([a-z0-9-]+)\.|([a-z0-9-]+)\.queue\.)amazonaws\.com/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export interface FdrConfig {
  /** FDR_QUEUE_URL: CrowdStrike's queue. */
  queueUrl: string;
  /** FDR_SECRET_ID: the Secrets Manager secret (name or ARN) with CrowdStrike's access key. */
  secretId: string;
  /** CrowdStrike's region: FDR_REGION, else the queue URL's. */
  sourceRegion: string | undefined;
  /** DESTINATION_BUCKET: this stack's bucket. */
  destinationBucket: string;
  /** Ends with `/`. */
  destinationPrefix: string;
  maxMessagesPerRun: number;
  objectConcurrency: number;
  visibilityTimeoutSeconds: number;
  aws: {
    region: string | undefined;
    /** AWS_ENDPOINT_URL: every client talks to this endpoint (local emulators). */
    endpoint: string | undefined;
    s3ForcePathStyle: boolean;
  };
}

/** Reads the poller's configuration at cold start; ConfigError names every problem at once. */
export function loadFdrConfig(env: Env): FdrConfig {
  const reader = createEnvReader(env);
  const { text, integer } = reader;
  const required = (name: keyof typeof ENV, pattern: RegExp, what: string): string => {
    const value = text(name);
    if (value === undefined) reader.problem(`${name} is required: ${what}`);
    else if (!pattern.test(value))
      reader.problem(`${name} is not ${what}: ${JSON.stringify(value)}`);
    return value ?? '';
  };

  const queueUrl = required('FDR_QUEUE_URL', QUEUE_URL, "the URL of CrowdStrike's FDR SQS queue");
  const secretId = required(
    'FDR_SECRET_ID',
    /^\S{1,2048}$/,
    'a Secrets Manager secret name or ARN',
  );
  const destinationBucket = required('DESTINATION_BUCKET', BUCKET_NAME, 'a bucket name');
  let destinationPrefix = text('DESTINATION_PREFIX') ?? DEFAULT_DESTINATION_PREFIX;
  if (destinationPrefix.startsWith('/')) {
    reader.problem(
      `DESTINATION_PREFIX must not start with "/": ${JSON.stringify(destinationPrefix)}`,
    );
  }
  if (!destinationPrefix.endsWith('/')) destinationPrefix += '/';
  const fromUrl = QUEUE_URL_REGION.exec(queueUrl);
  const config: FdrConfig = {
    queueUrl,
    secretId,
    sourceRegion: text('FDR_REGION') ?? fromUrl?.[1] ?? fromUrl?.[2],
    destinationBucket,
    destinationPrefix,
    maxMessagesPerRun: integer('FDR_MAX_MESSAGES_PER_RUN'),
    objectConcurrency: integer('FDR_OBJECT_CONCURRENCY'),
    visibilityTimeoutSeconds: integer('FDR_VISIBILITY_TIMEOUT_SECONDS'),
    aws: {
      region: text('AWS_REGION') ?? text('AWS_DEFAULT_REGION'),
      endpoint: text('AWS_ENDPOINT_URL'),
      s3ForcePathStyle: text('S3_FORCE_PATH_STYLE')?.toLowerCase() === 'true',
    },
  };
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return config;
}
