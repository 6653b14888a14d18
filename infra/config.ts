import type { IConstruct } from 'constructs';
import { ENV } from '../lib/config/env.ts';
import { InvalidContextError } from './errors.ts';

/** The log sources the pipeline routes, each to its own queue and function. */
export const SOURCES = ['sysmon', 'falcon'] as const;
export type DetectionSource = (typeof SOURCES)[number];

/** Where users drop batches: one prefix per source, so S3 can route each to its own queue. */
export const SOURCE_PREFIXES: Readonly<Record<DetectionSource, string>> = {
  sysmon: 'sysmon/',
  falcon: 'falcon/',
};

/** The functions' own default for QUARANTINE_PREFIX; the stack passes it explicitly anyway. */
export const DEFAULT_QUARANTINE_PREFIX = ENV.QUARANTINE_PREFIX.default;

export const DEFAULT_STACK_NAME = 'T1102Detection';

/** Streaming needs little memory, but Lambda scales CPU with memory; 1 GiB gunzips briskly. */
export const DEFAULT_MEMORY_MIB = 1024;
/** Lambda's own bounds for function memory. */
export const MIN_MEMORY_MIB = 128;
export const MAX_MEMORY_MIB = 10_240;

/** Room for a large gzipped batch per invocation, well under Lambda's 15-minute ceiling. */
export const DEFAULT_TIMEOUT_SECONDS = 300;
/** Lambda's hard limit: 15 minutes. */
export const MAX_TIMEOUT_SECONDS = 900;

/** S3 object notifications per invocation; small so one slow object delays few others. */
export const DEFAULT_BATCH_SIZE = 5;
/** SQS event sources take at most 10 messages per batch without a batching window. */
export const MAX_BATCH_SIZE = 10;

/** Control Tower's proactive rule CT.CLOUDWATCH.PR.2 asks for at least a year. */
export const DEFAULT_LOG_RETENTION_DAYS = 365;
/** Below this the Control Tower rule is acknowledged as the operator's choice. */
export const MIN_COMPLIANT_LOG_RETENTION_DAYS = 365;

/**
 * Concurrent invocations per queue, by default. A new account may have a concurrency quota of 10,
 * where reserved concurrency cannot be granted at all; capping each event source instead keeps
 * both sources, the FDR poller and CDK's helper within it.
 */
export const DEFAULT_MAX_CONCURRENCY = 3;
/** Lambda's bounds for an SQS event source's maximum concurrency. */
export const MIN_MAX_CONCURRENCY = 2;
export const MAX_MAX_CONCURRENCY = 1000;

/** A source with no object processed for this many hours raises its "no data" alarm. */
export const DEFAULT_NO_DATA_HOURS = 24;
/** CloudWatch evaluates hourly alarms over at most seven days. */
export const MAX_NO_DATA_HOURS = 7 * 24;

/** The FDR poller runs this often by default: FDR files wait minutes, not hours. */
export const DEFAULT_FDR_SCHEDULE_MINUTES = 1;
export const MAX_FDR_SCHEDULE_MINUTES = 60;
/** The retention values CloudWatch Logs accepts (RetentionInDays). */
export const ALLOWED_LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
];

/** Quarantined records are diagnostics, not evidence: a month is enough to look at them. */
export const DEFAULT_QUARANTINE_EXPIRATION_DAYS = 30;
/** Overwritten or deleted batches stay recoverable this long, then stop costing storage. */
export const DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS = 30;
/** Server access logs are audit evidence; a year is the usual retention for them. */
export const DEFAULT_ACCESS_LOG_EXPIRATION_DAYS = 365;

export type RemovalMode = 'retain' | 'destroy';

/**
 * A context option that becomes one of the functions' variables, with that variable's default and
 * bounds (lib/config/env.ts), which the functions check at cold start: checking them here too
 * turns a bad value into a failed synth instead of a deployed function that cannot start.
 */
function readEnvBounded(
  key: string,
  raw: (key: string) => unknown,
  variable: 'WINDOW_MINUTES' | 'THRESHOLD' | 'STATE_TTL_DAYS',
): number {
  const spec = ENV[variable];
  return readInteger(key, raw(key), spec.min, spec.max) ?? spec.default;
}

/** Every context key the app reads (`npx cdk deploy -c key=value`). */
export const CONTEXT_KEYS = {
  stackName: 'stackName',
  alertEmail: 'alertEmail',
  opsEmail: 'opsEmail',
  memoryMiB: 'memoryMiB',
  timeoutSeconds: 'timeoutSeconds',
  reservedConcurrency: 'reservedConcurrency',
  batchSize: 'batchSize',
  logRetentionDays: 'logRetentionDays',
  quarantinePrefix: 'quarantinePrefix',
  quarantineExpirationDays: 'quarantineExpirationDays',
  noncurrentVersionExpirationDays: 'noncurrentVersionExpirationDays',
  batchExpirationDays: 'batchExpirationDays',
  accessLogExpirationDays: 'accessLogExpirationDays',
  removalPolicy: 'removalPolicy',
  state: 'state',
  windowMinutes: 'windowMinutes',
  threshold: 'threshold',
  stateTtlDays: 'stateTtlDays',
  exceptionsKey: 'exceptionsKey',
  maxConcurrency: 'maxConcurrency',
  noDataHours: 'noDataHours',
  existingBuckets: 'existingBuckets',
  fdrQueueUrl: 'fdrQueueUrl',
  fdrSecretName: 'fdrSecretName',
  fdrScheduleMinutes: 'fdrScheduleMinutes',
  alertEventBus: 'alertEventBus',
  securityHub: 'securityHub',
} as const;

/** How an existing bucket tells the pipeline about new objects. */
export type BucketDelivery = 'eventbridge' | 's3';

/** A bucket the stack does not own whose objects the functions read in place. */
export interface ExistingBucket {
  readonly name: string;
  /** The bucket owner's account; undefined means this stack's account. */
  readonly account: string | undefined;
  /** Key prefix (ending in `/`) to the source whose function reads it. */
  readonly prefixes: Readonly<Record<string, DetectionSource>>;
  /** The bucket's SSE-KMS key, when it has one; the functions get kms:Decrypt through S3. */
  readonly kmsKeyArn: string | undefined;
  readonly delivery: BucketDelivery;
}

/** CrowdStrike's FDR feed, copied into the stack's bucket by the poller. */
export interface FdrFeed {
  readonly queueUrl: string;
  readonly secretName: string;
  readonly scheduleMinutes: number;
}

export interface PipelineConfig {
  readonly stackName: string;
  readonly alertEmail: string | undefined;
  readonly opsEmail: string | undefined;
  readonly memoryMiB: number;
  readonly timeoutSeconds: number;
  readonly reservedConcurrency: number | undefined;
  readonly batchSize: number;
  readonly logRetentionDays: number;
  readonly quarantinePrefix: string;
  readonly quarantineExpirationDays: number;
  readonly noncurrentVersionExpirationDays: number;
  /** Undefined keeps dropped batches forever (the default: they are the evidence). */
  readonly batchExpirationDays: number | undefined;
  readonly accessLogExpirationDays: number;
  readonly removalPolicy: RemovalMode;
  /** The cross-object state table; false groups every object on its own (no table at all). */
  readonly state: boolean;
  readonly windowMinutes: number;
  readonly threshold: number;
  readonly stateTtlDays: number;
  /** Key, in the stack's bucket, of the deployment's exceptions file (none by default). */
  readonly exceptionsKey: string | undefined;
  /** Maximum concurrent invocations per queue's event source. */
  readonly maxConcurrency: number;
  /** Hours without a processed object before a source's "no data" alarm; 0 turns it off. */
  readonly noDataHours: number;
  readonly existingBuckets: readonly ExistingBucket[];
  /** Undefined: no poller. */
  readonly fdr: FdrFeed | undefined;
  /** An EventBridge bus name or ARN findings are put on; undefined: no EventBridge route. */
  readonly alertEventBus: string | undefined;
  readonly securityHub: boolean;
}

// Deliberately loose: SNS does the real validation by sending a confirmation mail; this only
// catches a swapped or truncated argument before a deploy.
const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
// CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128 characters.
const STACK_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
// S3 keys are free-form, but a prefix that the console and CLI show as a folder keeps it readable.
const PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*\/$/;
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
const BUCKET_NAME_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ACCOUNT_PATTERN = /^\d{12}$/;
const KMS_KEY_ARN_PATTERN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html
const QUEUE_URL_PATTERN = /^https:\/\/[^/\s]+\/\d{12}\/[A-Za-z0-9_-]{1,80}$/;
// Secrets Manager names: letters, digits and /_+=.@- , at most 512 characters.
const SECRET_NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const EVENT_BUS_PATTERN =
  /^([/.\-_A-Za-z0-9]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[/.\-_A-Za-z0-9]{1,256})$/;

/** Reads and validates the app's context; every value has a default except the optional ones. */
export function readPipelineConfig(scope: IConstruct): PipelineConfig {
  const raw = (key: string): unknown => scope.node.tryGetContext(key);
  const quarantinePrefix = readPrefix(
    CONTEXT_KEYS.quarantinePrefix,
    raw(CONTEXT_KEYS.quarantinePrefix),
    DEFAULT_QUARANTINE_PREFIX,
  );
  return {
    stackName:
      readPattern(
        CONTEXT_KEYS.stackName,
        raw(CONTEXT_KEYS.stackName),
        STACK_NAME_PATTERN,
        'a CloudFormation stack name',
      ) ?? DEFAULT_STACK_NAME,
    alertEmail: readPattern(
      CONTEXT_KEYS.alertEmail,
      raw(CONTEXT_KEYS.alertEmail),
      EMAIL_PATTERN,
      'an email address',
    ),
    opsEmail: readPattern(
      CONTEXT_KEYS.opsEmail,
      raw(CONTEXT_KEYS.opsEmail),
      EMAIL_PATTERN,
      'an email address',
    ),
    memoryMiB:
      readInteger(
        CONTEXT_KEYS.memoryMiB,
        raw(CONTEXT_KEYS.memoryMiB),
        MIN_MEMORY_MIB,
        MAX_MEMORY_MIB,
      ) ?? DEFAULT_MEMORY_MIB,
    timeoutSeconds:
      readInteger(
        CONTEXT_KEYS.timeoutSeconds,
        raw(CONTEXT_KEYS.timeoutSeconds),
        1,
        MAX_TIMEOUT_SECONDS,
      ) ?? DEFAULT_TIMEOUT_SECONDS,
    reservedConcurrency: readInteger(
      CONTEXT_KEYS.reservedConcurrency,
      raw(CONTEXT_KEYS.reservedConcurrency),
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    batchSize:
      readInteger(CONTEXT_KEYS.batchSize, raw(CONTEXT_KEYS.batchSize), 1, MAX_BATCH_SIZE) ??
      DEFAULT_BATCH_SIZE,
    logRetentionDays: readLogRetention(raw(CONTEXT_KEYS.logRetentionDays)),
    quarantinePrefix,
    quarantineExpirationDays:
      readDays(CONTEXT_KEYS.quarantineExpirationDays, raw(CONTEXT_KEYS.quarantineExpirationDays)) ??
      DEFAULT_QUARANTINE_EXPIRATION_DAYS,
    noncurrentVersionExpirationDays:
      readDays(
        CONTEXT_KEYS.noncurrentVersionExpirationDays,
        raw(CONTEXT_KEYS.noncurrentVersionExpirationDays),
      ) ?? DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS,
    batchExpirationDays: readDays(
      CONTEXT_KEYS.batchExpirationDays,
      raw(CONTEXT_KEYS.batchExpirationDays),
    ),
    accessLogExpirationDays:
      readDays(CONTEXT_KEYS.accessLogExpirationDays, raw(CONTEXT_KEYS.accessLogExpirationDays)) ??
      DEFAULT_ACCESS_LOG_EXPIRATION_DAYS,
    removalPolicy: readRemovalMode(raw(CONTEXT_KEYS.removalPolicy)),
    state: readBoolean(CONTEXT_KEYS.state, raw(CONTEXT_KEYS.state)) ?? true,
    // Validated even with state off, so a typo is caught before the day state is turned on.
    windowMinutes: readEnvBounded(CONTEXT_KEYS.windowMinutes, raw, 'WINDOW_MINUTES'),
    threshold: readEnvBounded(CONTEXT_KEYS.threshold, raw, 'THRESHOLD'),
    stateTtlDays: readEnvBounded(CONTEXT_KEYS.stateTtlDays, raw, 'STATE_TTL_DAYS'),
    exceptionsKey: readExceptionsKey(raw(CONTEXT_KEYS.exceptionsKey), quarantinePrefix),
    maxConcurrency:
      readInteger(
        CONTEXT_KEYS.maxConcurrency,
        raw(CONTEXT_KEYS.maxConcurrency),
        MIN_MAX_CONCURRENCY,
        MAX_MAX_CONCURRENCY,
      ) ?? DEFAULT_MAX_CONCURRENCY,
    noDataHours:
      readInteger(CONTEXT_KEYS.noDataHours, raw(CONTEXT_KEYS.noDataHours), 0, MAX_NO_DATA_HOURS) ??
      DEFAULT_NO_DATA_HOURS,
    existingBuckets: readExistingBuckets(raw(CONTEXT_KEYS.existingBuckets), quarantinePrefix),
    fdr: readFdrFeed(raw),
    alertEventBus: readPattern(
      CONTEXT_KEYS.alertEventBus,
      raw(CONTEXT_KEYS.alertEventBus),
      EVENT_BUS_PATTERN,
      'an event bus name or ARN',
    ),
    securityHub: readBoolean(CONTEXT_KEYS.securityHub, raw(CONTEXT_KEYS.securityHub)) ?? false,
  };
}

function isUnset(value: unknown): value is undefined | null | '' {
  return value === undefined || value === null || value === '';
}

function readPattern(
  key: string,
  value: unknown,
  pattern: RegExp,
  what: string,
): string | undefined {
  if (isUnset(value)) return undefined;
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new InvalidContextError(key, `expected ${what}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `-c key=value` always arrives as a string; cdk.json may hold a number. Accept both. */
function readInteger(key: string, value: unknown, min: number, max: number): number | undefined {
  if (isUnset(value)) return undefined;
  const parsed =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value.trim())
        ? Number(value.trim())
        : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new InvalidContextError(
      key,
      `expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}

/** `-c key=false` arrives as a string; cdk.json may hold a boolean. Accept both, nothing else. */
function readBoolean(key: string, value: unknown): boolean | undefined {
  if (isUnset(value)) return undefined;
  if (typeof value === 'boolean') return value;
  const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new InvalidContextError(key, `expected true or false, got ${JSON.stringify(value)}`);
}

/** S3 lifecycle rules take whole days from 1; ten years is far past any sensible retention. */
const MAX_LIFECYCLE_DAYS = 3650;

function readDays(key: string, value: unknown): number | undefined {
  return readInteger(key, value, 1, MAX_LIFECYCLE_DAYS);
}

function readLogRetention(value: unknown): number {
  const key = CONTEXT_KEYS.logRetentionDays;
  const days = readInteger(key, value, 1, Number.MAX_SAFE_INTEGER);
  if (days === undefined) return DEFAULT_LOG_RETENTION_DAYS;
  if (!ALLOWED_LOG_RETENTION_DAYS.includes(days)) {
    throw new InvalidContextError(
      key,
      `CloudWatch Logs accepts only ${ALLOWED_LOG_RETENTION_DAYS.join(', ')} days, got ${days}`,
    );
  }
  return days;
}

function readPrefix(key: string, value: unknown, fallback: string): string {
  const prefix = readPattern(key, value, PREFIX_PATTERN, 'a key prefix such as "quarantine/"');
  if (prefix === undefined) return fallback;
  // The quarantine prefix must never sit inside (or contain) a notification prefix: the
  // functions write there, and a notification on it would feed their own output back to them.
  for (const source of SOURCES) {
    const sourcePrefix = SOURCE_PREFIXES[source];
    if (prefix.startsWith(sourcePrefix) || sourcePrefix.startsWith(prefix)) {
      throw new InvalidContextError(
        key,
        `"${prefix}" overlaps the ${source} batch prefix "${sourcePrefix}"; quarantined records would trigger the pipeline again`,
      );
    }
  }
  return prefix;
}

// A key of readable path segments ending in a file name, such as `config/exceptions.json`.
const OBJECT_KEY_PATTERN = /^([A-Za-z0-9][A-Za-z0-9._-]*\/)*[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The exceptions file's key: never where batches or quarantine land, or it would be scanned. */
function readExceptionsKey(value: unknown, quarantinePrefix: string): string | undefined {
  const key = CONTEXT_KEYS.exceptionsKey;
  const objectKey = readPattern(
    key,
    value,
    OBJECT_KEY_PATTERN,
    'an object key such as "config/exceptions.json"',
  );
  if (objectKey === undefined) return undefined;
  for (const prefix of [...SOURCES.map((s) => SOURCE_PREFIXES[s]), quarantinePrefix]) {
    if (objectKey.startsWith(prefix)) {
      throw new InvalidContextError(
        key,
        `"${objectKey}" is under "${prefix}", where the pipeline reads batches or writes quarantine`,
      );
    }
  }
  return objectKey;
}

function readRemovalMode(value: unknown): RemovalMode {
  if (isUnset(value)) return 'retain';
  if (value === 'retain' || value === 'destroy') return value;
  throw new InvalidContextError(
    CONTEXT_KEYS.removalPolicy,
    `expected "retain" or "destroy", got ${JSON.stringify(value)}`,
  );
}

/**
 * `existingBuckets`: a JSON array (a string on the command line, an array in cdk.json) of
 * `{"name", "account"?, "prefixes": {"<prefix>/": "sysmon"|"falcon"}, "kmsKeyArn"?, "delivery"?}`.
 */
function readExistingBuckets(value: unknown, quarantinePrefix: string): ExistingBucket[] {
  const key = CONTEXT_KEYS.existingBuckets;
  if (isUnset(value)) return [];
  let list: unknown = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch {
      throw new InvalidContextError(key, 'expected a JSON array of buckets');
    }
  }
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidContextError(key, 'expected a non-empty JSON array of buckets');
  }
  const names = new Set<string>();
  return list.map((entry, i) => {
    const bucket = readExistingBucket(`${key}[${i}]`, entry, quarantinePrefix);
    if (names.has(bucket.name)) {
      throw new InvalidContextError(key, `bucket "${bucket.name}" is listed twice`);
    }
    names.add(bucket.name);
    return bucket;
  });
}

const EXISTING_BUCKET_KEYS = new Set(['name', 'account', 'prefixes', 'kmsKeyArn', 'delivery']);

function readExistingBucket(key: string, entry: unknown, quarantinePrefix: string): ExistingBucket {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new InvalidContextError(key, 'expected an object with "name" and "prefixes"');
  }
  const e = entry as Record<string, unknown>;
  const unknown = Object.keys(e).filter((k) => !EXISTING_BUCKET_KEYS.has(k));
  if (unknown.length > 0) {
    throw new InvalidContextError(key, `unknown field(s) ${unknown.join(', ')}`);
  }
  const name = readPattern(`${key}.name`, e.name, BUCKET_NAME_PATTERN, 'a bucket name');
  if (name === undefined) throw new InvalidContextError(`${key}.name`, 'is required');
  const prefixes = e.prefixes;
  if (typeof prefixes !== 'object' || prefixes === null || Object.keys(prefixes).length === 0) {
    throw new InvalidContextError(
      `${key}.prefixes`,
      'expected {"<prefix>/": "sysmon" | "falcon", ...}',
    );
  }
  for (const [prefix, source] of Object.entries(prefixes)) {
    readPattern(
      `${key}.prefixes`,
      prefix,
      PREFIX_PATTERN,
      'key prefixes such as "windows/sysmon/"',
    );
    if (!(SOURCES as readonly unknown[]).includes(source)) {
      throw new InvalidContextError(
        `${key}.prefixes`,
        `"${prefix}" maps to ${JSON.stringify(source)}, not ${SOURCES.join(' or ')}`,
      );
    }
    if (prefix.startsWith(quarantinePrefix)) {
      throw new InvalidContextError(
        `${key}.prefixes`,
        `"${prefix}" is under the quarantine prefix`,
      );
    }
  }
  const delivery = e.delivery ?? 'eventbridge';
  if (delivery !== 'eventbridge' && delivery !== 's3') {
    throw new InvalidContextError(
      `${key}.delivery`,
      `expected "eventbridge" or "s3", got ${JSON.stringify(delivery)}`,
    );
  }
  return {
    name,
    account: readPattern(`${key}.account`, e.account, ACCOUNT_PATTERN, 'a 12-digit account id'),
    prefixes: prefixes as Record<string, DetectionSource>,
    kmsKeyArn: readPattern(`${key}.kmsKeyArn`, e.kmsKeyArn, KMS_KEY_ARN_PATTERN, 'a KMS key ARN'),
    delivery,
  };
}

/** `fdrQueueUrl` and `fdrSecretName` together turn the FDR poller on; one without the other is an error. */
function readFdrFeed(raw: (key: string) => unknown): FdrFeed | undefined {
  const queueUrl = readPattern(
    CONTEXT_KEYS.fdrQueueUrl,
    raw(CONTEXT_KEYS.fdrQueueUrl),
    QUEUE_URL_PATTERN,
    "the HTTPS URL of CrowdStrike's FDR queue",
  );
  const secretName = readPattern(
    CONTEXT_KEYS.fdrSecretName,
    raw(CONTEXT_KEYS.fdrSecretName),
    SECRET_NAME_PATTERN,
    'a Secrets Manager secret name',
  );
  const scheduleMinutes =
    readInteger(
      CONTEXT_KEYS.fdrScheduleMinutes,
      raw(CONTEXT_KEYS.fdrScheduleMinutes),
      1,
      MAX_FDR_SCHEDULE_MINUTES,
    ) ?? DEFAULT_FDR_SCHEDULE_MINUTES;
  if (queueUrl === undefined && secretName === undefined) return undefined;
  if (queueUrl === undefined || secretName === undefined) {
    const missing = queueUrl === undefined ? CONTEXT_KEYS.fdrQueueUrl : CONTEXT_KEYS.fdrSecretName;
    throw new InvalidContextError(
      missing,
      'is required with the other FDR option (fdrQueueUrl and fdrSecretName go together)',
    );
  }
  return { queueUrl, secretName, scheduleMinutes };
}
