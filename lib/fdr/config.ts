import { type Env, envReader } from '../pipeline/env.ts';
import { ConfigError } from '../pipeline/errors.ts';

/** POWERTOOLS_SERVICE_NAME of the poller when the environment names none. */
export const FDR_SERVICE_NAME = 't1102-fdr';

/** Where copies land in this stack's bucket: under the Falcon prefix, so the falcon function scans them. */
export const DEFAULT_DESTINATION_PREFIX = 'falcon/fdr/';
/**
 * Messages one run takes, by default. FDR writes a message every few minutes with a handful of
 * files, so a one-minute schedule drains a normal feed with room to spare, and a backlog is worked
 * off in bounded steps instead of one run that times out half-way.
 */
export const DEFAULT_MAX_MESSAGES_PER_RUN = 20;
export const MAX_MESSAGES_PER_RUN_LIMIT = 1_000;
/** Objects of one message copied at once: each holds one GetObject and one PutObject stream. */
export const DEFAULT_FDR_OBJECT_CONCURRENCY = 4;
export const MAX_FDR_OBJECT_CONCURRENCY = 16;
/**
 * How long a received message stays hidden from other runs, by default: longer than one run may
 * take (the CDK app passes twice the function timeout), so two runs never copy one message at once.
 */
export const DEFAULT_FDR_VISIBILITY_TIMEOUT_SECONDS = 600;
/** SQS's maximum visibility timeout (12 hours). */
export const MAX_FDR_VISIBILITY_TIMEOUT_SECONDS = 43_200;

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
  const problems: string[] = [];
  const { get, int } = envReader(env, problems);
  const required = (name: string, pattern: RegExp, what: string): string => {
    const value = get(name);
    if (value === undefined) problems.push(`${name} is required: ${what}`);
    else if (!pattern.test(value))
      problems.push(`${name} is not ${what}: ${JSON.stringify(value)}`);
    return value ?? '';
  };

  const queueUrl = required('FDR_QUEUE_URL', QUEUE_URL, "the URL of CrowdStrike's FDR SQS queue");
  const secretId = required(
    'FDR_SECRET_ID',
    /^\S{1,2048}$/,
    'a Secrets Manager secret name or ARN',
  );
  const destinationBucket = required('DESTINATION_BUCKET', BUCKET_NAME, 'a bucket name');
  let destinationPrefix = get('DESTINATION_PREFIX') ?? DEFAULT_DESTINATION_PREFIX;
  if (destinationPrefix.startsWith('/')) {
    problems.push(
      `DESTINATION_PREFIX must not start with "/": ${JSON.stringify(destinationPrefix)}`,
    );
  }
  if (!destinationPrefix.endsWith('/')) destinationPrefix += '/';
  const fromUrl = QUEUE_URL_REGION.exec(queueUrl);
  const config: FdrConfig = {
    queueUrl,
    secretId,
    sourceRegion: get('FDR_REGION') ?? fromUrl?.[1] ?? fromUrl?.[2],
    destinationBucket,
    destinationPrefix,
    maxMessagesPerRun: int(
      'FDR_MAX_MESSAGES_PER_RUN',
      DEFAULT_MAX_MESSAGES_PER_RUN,
      1,
      MAX_MESSAGES_PER_RUN_LIMIT,
    ),
    objectConcurrency: int(
      'FDR_OBJECT_CONCURRENCY',
      DEFAULT_FDR_OBJECT_CONCURRENCY,
      1,
      MAX_FDR_OBJECT_CONCURRENCY,
    ),
    visibilityTimeoutSeconds: int(
      'FDR_VISIBILITY_TIMEOUT_SECONDS',
      DEFAULT_FDR_VISIBILITY_TIMEOUT_SECONDS,
      1,
      MAX_FDR_VISIBILITY_TIMEOUT_SECONDS,
    ),
    aws: {
      region: get('AWS_REGION') ?? get('AWS_DEFAULT_REGION'),
      endpoint: get('AWS_ENDPOINT_URL'),
      s3ForcePathStyle: get('S3_FORCE_PATH_STYLE')?.toLowerCase() === 'true',
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
