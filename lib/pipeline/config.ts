import { createEnvReader, ENV, type Env, type EnvReader } from '../config/env.ts';
import type { SourceName } from '../event/types.ts';
import { familyOf, sourceNames } from '../sources/index.ts';
import { ConfigError } from './errors.ts';
import { parseS3Uri } from './exceptions.ts';

// Names, defaults and bounds of the variables are lib/config/env.ts's; these name them here.
export const DEFAULT_QUARANTINE_PREFIX = ENV.QUARANTINE_PREFIX.default;
export const DEFAULT_MAX_QUARANTINE_RECORDS = ENV.MAX_QUARANTINE_RECORDS.default;
export const DEFAULT_MAX_QUARANTINE_BYTES = ENV.MAX_QUARANTINE_BYTES.default;
export const MAX_QUARANTINE_RECORDS_LIMIT = ENV.MAX_QUARANTINE_RECORDS.max;
export const MAX_QUARANTINE_BYTES_LIMIT = ENV.MAX_QUARANTINE_BYTES.max;
export const DEFAULT_OBJECT_CONCURRENCY = ENV.OBJECT_CONCURRENCY.default;
export const MAX_OBJECT_CONCURRENCY = ENV.OBJECT_CONCURRENCY.max;

export const DEFAULT_MAX_ALERT_GROUPS = ENV.MAX_ALERT_GROUPS.default;
export const MAX_ALERT_GROUPS_LIMIT = ENV.MAX_ALERT_GROUPS.max;

/** S3 keys are at most 1,024 bytes of UTF-8; the prefix leaves room for source, date and key. */
export const MAX_QUARANTINE_PREFIX_BYTES = 256;

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
  /** `s3://bucket/key` of the deployment's exceptions file (docs/detection.md, "Exceptions"). */
  exceptionsUri: string | undefined;
  /** MAX_ALERT_GROUPS: distinct alert groups per object before summaries. */
  maxAlertGroups: number;
  /** The family SOURCE names (the handler file fixes its own family too). */
  source: SourceName | undefined;
  /** SOURCE when it names one shape of the family (lib/sources) to read every object as. */
  shape: string | undefined;
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
  const reader = createEnvReader(env);
  const config = readPipelineConfig(reader, expectedSource);
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return config;
}

/**
 * The function's configuration as far as it can be read; every problem goes to `reader`, so that
 * the handler can report them together with the state layer's.
 */
export function readPipelineConfig(reader: EnvReader, expectedSource?: SourceName): PipelineConfig {
  const get = reader.text;

  const alertTopicArn = get('ALERT_TOPIC_ARN');
  if (alertTopicArn === undefined) {
    reader.problem(`ALERT_TOPIC_ARN is required: ${ENV.ALERT_TOPIC_ARN.meaning}`);
  } else if (!TOPIC_ARN.test(alertTopicArn)) {
    reader.problem(`ALERT_TOPIC_ARN is not an SNS topic ARN: ${JSON.stringify(alertTopicArn)}`);
  } else if (alertTopicArn.endsWith('.fifo')) {
    reader.problem('ALERT_TOPIC_ARN names a FIFO topic; alerts are published to a standard topic');
  }

  let quarantinePrefix = get('QUARANTINE_PREFIX') ?? DEFAULT_QUARANTINE_PREFIX;
  if (quarantinePrefix.startsWith('/')) {
    reader.problem(
      `QUARANTINE_PREFIX must not start with "/": ${JSON.stringify(quarantinePrefix)}`,
    );
  } else if (Buffer.byteLength(quarantinePrefix) > MAX_QUARANTINE_PREFIX_BYTES) {
    reader.problem(`QUARANTINE_PREFIX is longer than ${MAX_QUARANTINE_PREFIX_BYTES} bytes`);
  }
  if (!quarantinePrefix.endsWith('/')) quarantinePrefix += '/';

  const quarantineBucket = get('QUARANTINE_BUCKET');
  if (quarantineBucket !== undefined && !BUCKET_NAME.test(quarantineBucket)) {
    reader.problem(`QUARANTINE_BUCKET is not a bucket name: ${JSON.stringify(quarantineBucket)}`);
  }

  const maxQuarantineRecords = reader.integer('MAX_QUARANTINE_RECORDS');
  const maxQuarantineBytes = reader.integer('MAX_QUARANTINE_BYTES');
  const objectConcurrency = reader.integer('OBJECT_CONCURRENCY');

  const exceptionsUri = get('EXCEPTIONS_URI');
  if (exceptionsUri !== undefined && parseS3Uri(exceptionsUri) === undefined) {
    reader.problem(
      `EXCEPTIONS_URI is not an s3://bucket/key URI: ${JSON.stringify(exceptionsUri)}`,
    );
  }

  const maxAlertGroups = reader.integer('MAX_ALERT_GROUPS');

  const rawSource = get('SOURCE');
  let source: SourceName | undefined;
  let shape: string | undefined;
  if (rawSource !== undefined) {
    source = familyOf(rawSource);
    if (source === undefined) {
      const names = sourceNames().filter((n) => n !== 'auto');
      reader.problem(`SOURCE must be one of ${names.join(', ')}, got ${JSON.stringify(rawSource)}`);
    } else if (expectedSource !== undefined && source !== expectedSource) {
      reader.problem(
        `SOURCE is ${rawSource}${rawSource === source ? '' : ` (${source})`} but this function reads ${expectedSource}`,
      );
    } else if (rawSource !== source) {
      shape = rawSource;
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
    if (!ok) reader.problem(`AWS_ENDPOINT_URL is not an http(s) URL: ${JSON.stringify(endpoint)}`);
  }

  const pathStyle = get('S3_FORCE_PATH_STYLE')?.toLowerCase();
  if (pathStyle !== undefined && pathStyle !== 'true' && pathStyle !== 'false') {
    reader.problem(`S3_FORCE_PATH_STYLE must be true or false, got ${JSON.stringify(pathStyle)}`);
  }

  return {
    alertTopicArn: alertTopicArn as string,
    quarantinePrefix,
    quarantineBucket,
    maxQuarantineRecords,
    maxQuarantineBytes,
    objectConcurrency,
    exceptionsUri,
    maxAlertGroups,
    source: source ?? expectedSource,
    shape,
    aws: {
      region: get('AWS_REGION') ?? get('AWS_DEFAULT_REGION'),
      endpoint,
      s3ForcePathStyle: pathStyle === 'true',
    },
  };
}
