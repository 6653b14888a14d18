import type { SourceName } from '../event/types.ts';
import { type Env, envReader } from './env.ts';
import { ConfigError } from './errors.ts';

/** Where quarantined records go when QUARANTINE_PREFIX is unset (the CDK app passes it anyway). */
export const DEFAULT_QUARANTINE_PREFIX = 'quarantine/';

/** Skipped records kept per object in its quarantine file, by default. */
export const DEFAULT_MAX_QUARANTINE_RECORDS = 1_000;
/** Uncompressed JSONL bytes kept per object in its quarantine file, by default (1 MiB). */
export const DEFAULT_MAX_QUARANTINE_BYTES = 1024 * 1024;
/** Upper bounds an operator may raise the quarantine limits to (the file is built in memory). */
export const MAX_QUARANTINE_RECORDS_LIMIT = 1_000_000;
export const MAX_QUARANTINE_BYTES_LIMIT = 64 * 1024 * 1024;

/**
 * Objects scanned at once within one invocation, by default. Each holds one GetObject stream and
 * one engine: a few MiB for a small batch, tens of MiB for a GiB of text (its tables are bounded
 * by lib/engine/limits.ts; lib/engine/README.md has the figures). Gunzip is CPU-bound,
 * so a handful keeps a 1 GiB function busy without starving any one object.
 */
export const DEFAULT_OBJECT_CONCURRENCY = 4;
export const MAX_OBJECT_CONCURRENCY = 16;

/** S3 keys are at most 1,024 bytes of UTF-8; the prefix leaves room for source, date and key. */
export const MAX_QUARANTINE_PREFIX_BYTES = 256;

const SOURCES: readonly SourceName[] = ['sysmon', 'falcon'];

// https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html: names are 1-256 of
// [A-Za-z0-9_-], FIFO topic names end in .fifo. The partition covers aws, aws-cn, aws-us-gov.
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (general purpose).
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export interface PipelineConfig {
  alertTopicArn: string;
  /** Ends with `/`; quarantine files go under `<prefix><source>/yyyy/mm/dd/`. */
  quarantinePrefix: string;
  /** Where quarantine files go; undefined means the bucket the object came from. */
  quarantineBucket: string | undefined;
  maxQuarantineRecords: number;
  maxQuarantineBytes: number;
  objectConcurrency: number;
  /** SOURCE as set by the deployment (the handler file fixes its own source too). */
  source: SourceName | undefined;
  aws: {
    region: string | undefined;
    /** AWS_ENDPOINT_URL: every client talks to this endpoint (local emulators). */
    endpoint: string | undefined;
    /** S3_FORCE_PATH_STYLE=true: `http://host/bucket/key` URLs, which emulators need. */
    s3ForcePathStyle: boolean;
  };
}

export type { Env };

/**
 * Reads and validates the function's configuration from the environment, once, at cold start.
 * Throws ConfigError naming every problem. `expectedSource` is the source the handler file reads:
 * a SOURCE that disagrees is a wiring mistake worth failing on.
 */
export function loadConfig(env: Env, expectedSource?: SourceName): PipelineConfig {
  const problems: string[] = [];
  const { get, int } = envReader(env, problems);

  const alertTopicArn = get('ALERT_TOPIC_ARN');
  if (alertTopicArn === undefined) {
    problems.push('ALERT_TOPIC_ARN is required: the ARN of the SNS topic that receives the alerts');
  } else if (!TOPIC_ARN.test(alertTopicArn)) {
    problems.push(`ALERT_TOPIC_ARN is not an SNS topic ARN: ${JSON.stringify(alertTopicArn)}`);
  } else if (alertTopicArn.endsWith('.fifo')) {
    problems.push('ALERT_TOPIC_ARN names a FIFO topic; alerts are published to a standard topic');
  }

  let quarantinePrefix = get('QUARANTINE_PREFIX') ?? DEFAULT_QUARANTINE_PREFIX;
  if (quarantinePrefix.startsWith('/')) {
    problems.push(`QUARANTINE_PREFIX must not start with "/": ${JSON.stringify(quarantinePrefix)}`);
  } else if (Buffer.byteLength(quarantinePrefix) > MAX_QUARANTINE_PREFIX_BYTES) {
    problems.push(`QUARANTINE_PREFIX is longer than ${MAX_QUARANTINE_PREFIX_BYTES} bytes`);
  }
  if (!quarantinePrefix.endsWith('/')) quarantinePrefix += '/';

  const quarantineBucket = get('QUARANTINE_BUCKET');
  if (quarantineBucket !== undefined && !BUCKET_NAME.test(quarantineBucket)) {
    problems.push(`QUARANTINE_BUCKET is not a bucket name: ${JSON.stringify(quarantineBucket)}`);
  }

  const maxQuarantineRecords = int(
    'MAX_QUARANTINE_RECORDS',
    DEFAULT_MAX_QUARANTINE_RECORDS,
    0,
    MAX_QUARANTINE_RECORDS_LIMIT,
  );
  const maxQuarantineBytes = int(
    'MAX_QUARANTINE_BYTES',
    DEFAULT_MAX_QUARANTINE_BYTES,
    0,
    MAX_QUARANTINE_BYTES_LIMIT,
  );
  const objectConcurrency = int(
    'OBJECT_CONCURRENCY',
    DEFAULT_OBJECT_CONCURRENCY,
    1,
    MAX_OBJECT_CONCURRENCY,
  );

  const rawSource = get('SOURCE');
  let source: SourceName | undefined;
  if (rawSource !== undefined) {
    if (!(SOURCES as readonly string[]).includes(rawSource)) {
      problems.push(
        `SOURCE must be one of ${SOURCES.join(', ')}, got ${JSON.stringify(rawSource)}`,
      );
    } else {
      source = rawSource as SourceName;
      if (expectedSource !== undefined && source !== expectedSource) {
        problems.push(`SOURCE is ${source} but this function reads ${expectedSource}`);
      }
    }
  }

  const endpoint = get('AWS_ENDPOINT_URL');
  if (endpoint !== undefined) {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(endpoint).protocol);
    } catch {
      ok = false;
    }
    if (!ok) problems.push(`AWS_ENDPOINT_URL is not an http(s) URL: ${JSON.stringify(endpoint)}`);
  }

  const pathStyle = get('S3_FORCE_PATH_STYLE')?.toLowerCase();
  if (pathStyle !== undefined && pathStyle !== 'true' && pathStyle !== 'false') {
    problems.push(`S3_FORCE_PATH_STYLE must be true or false, got ${JSON.stringify(pathStyle)}`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    alertTopicArn: alertTopicArn as string,
    quarantinePrefix,
    quarantineBucket,
    maxQuarantineRecords,
    maxQuarantineBytes,
    objectConcurrency,
    source: source ?? expectedSource,
    aws: {
      region: get('AWS_REGION') ?? get('AWS_DEFAULT_REGION'),
      endpoint,
      s3ForcePathStyle: pathStyle === 'true',
    },
  };
}
