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

export const DEFAULT_LOG_RETENTION_DAYS = 90;
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
} as const;

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
}

// Deliberately loose: SNS does the real validation by sending a confirmation mail; this only
// catches a swapped or truncated argument before a deploy.
const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
// CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128 characters.
const STACK_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
// S3 keys are free-form, but a prefix that the console and CLI show as a folder keeps it readable.
const PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*\/$/;

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
