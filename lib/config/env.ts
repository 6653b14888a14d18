/**
 * The configuration contract: every environment variable the functions read, with its default,
 * its bounds and what it means. The functions (lib/pipeline), the FDR poller (lib/fdr), the state
 * layer (lib/state), the local stack (lib/cli) and the CDK app (infra/) take names, defaults and
 * bounds from here and nowhere else, and one reader checks them all, reporting every problem at
 * once.
 */

interface Variable {
  /** What it configures, in a phrase (error messages quote it). */
  readonly meaning: string;
}
interface IntegerVariable extends Variable {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  /** What one unit of the number is (`minutes`, `bytes`, ...). */
  readonly unit: string;
}
interface TextVariable extends Variable {
  readonly default?: string;
}

import { MAX_ALERT_GROUPS } from '../engine/limits.ts';

const MIB = 1024 * 1024;

export const ENV = {
  ALERT_TOPIC_ARN: { meaning: 'the ARN of the SNS topic that receives the alerts (required)' },
  QUARANTINE_PREFIX: {
    meaning: 'where unparseable records go in the bucket (never a notification prefix)',
    default: 'quarantine/',
  },
  QUARANTINE_BUCKET: {
    meaning: "the bucket quarantine files go to (default: the object's own bucket)",
  },
  MAX_QUARANTINE_RECORDS: {
    meaning: 'skipped records kept per object in its quarantine file',
    default: 1_000,
    min: 0,
    // The quarantine file is built in memory.
    max: 1_000_000,
    unit: 'records',
  },
  MAX_QUARANTINE_BYTES: {
    meaning: 'uncompressed bytes kept per object in its quarantine file',
    default: MIB,
    min: 0,
    max: 64 * MIB,
    unit: 'bytes',
  },
  OBJECT_CONCURRENCY: {
    meaning: 'objects scanned at once per invocation',
    // Each holds one GetObject stream and one engine: a few MiB for a small batch, tens of MiB
    // for a GiB of text (lib/engine/README.md). Gunzip is CPU-bound, so a handful keeps a 1 GiB
    // function busy without starving any one object.
    default: 4,
    min: 1,
    max: 16,
    unit: 'objects',
  },
  MAX_ALERT_GROUPS: {
    meaning:
      'distinct alert groups per object; past it, one summary per host, process and listed domain',
    // Each group is one message and, with state, one write: the publish of that many must fit in
    // the function's timeout.
    default: MAX_ALERT_GROUPS,
    min: 1,
    max: 20_000,
    unit: 'groups',
  },
  SOURCE: {
    meaning:
      'the telemetry the function reads: its family (sysmon or falcon, set by the CDK app), or one shape of it to read every object as (`npm run scan -- --help` lists them)',
  },
  EXCEPTIONS_URI: {
    meaning:
      "s3://bucket/key of the deployment's exceptions file, read once per cold start (docs/detection.md, Exceptions)",
  },
  STATE_TABLE: {
    meaning: 'the DynamoDB table for state across objects (absent: per-object grouping)',
  },
  WINDOW_MINUTES: {
    meaning: 'the event-time window alerts accumulate in (one UTC day by default, at most a week)',
    default: 1_440,
    min: 1,
    max: 7 * 1_440,
    unit: 'minutes',
  },
  THRESHOLD: {
    meaning: 'events in a window before its first alert (1: the first match alerts)',
    default: 1,
    min: 1,
    max: 1_000_000,
    unit: 'events',
  },
  STATE_TTL_DAYS: {
    meaning: 'days state outlives its window (alerts) or its last sighting (process context)',
    default: 7,
    min: 1,
    max: 365,
    unit: 'days',
  },
  ALERT_EVENT_BUS: {
    meaning: 'an EventBridge bus name or ARN each finding is also put on (context alertEventBus)',
  },
  SECURITY_HUB_PRODUCT_ARN: {
    meaning:
      "the Security Hub product findings are imported under (context securityHub: the account's default product)",
  },
  FDR_QUEUE_URL: {
    meaning: "the FDR poller: the URL of CrowdStrike's FDR SQS queue (required)",
  },
  FDR_SECRET_ID: {
    meaning:
      "the FDR poller: the Secrets Manager secret (name or ARN) holding CrowdStrike's access key (required)",
  },
  FDR_REGION: { meaning: "the FDR poller: CrowdStrike's region (default: the queue URL's)" },
  DESTINATION_BUCKET: {
    meaning: "the FDR poller: this stack's bucket, where the copies go (required)",
  },
  DESTINATION_PREFIX: {
    meaning:
      'the FDR poller: where the copies go in the bucket, under the Falcon prefix so the falcon function scans them',
    default: 'falcon/fdr/',
  },
  FDR_MAX_MESSAGES_PER_RUN: {
    // FDR writes a message every few minutes with a handful of files: a one-minute schedule
    // drains a normal feed, and a backlog is worked off in bounded steps, not one run that times
    // out half-way.
    meaning: 'the FDR poller: queue messages one run takes',
    default: 20,
    min: 1,
    max: 1_000,
    unit: 'messages',
  },
  FDR_OBJECT_CONCURRENCY: {
    // Each holds one GetObject and one PutObject stream.
    meaning: 'the FDR poller: objects of one message copied at once',
    default: 4,
    min: 1,
    max: 16,
    unit: 'objects',
  },
  FDR_VISIBILITY_TIMEOUT_SECONDS: {
    // Longer than a run may take (the CDK app passes twice the function timeout), so two runs
    // never copy one message at once; SQS allows at most 12 hours.
    meaning: 'the FDR poller: how long a received message stays hidden from other runs',
    default: 600,
    min: 1,
    max: 43_200,
    unit: 'seconds',
  },
  AWS_REGION: { meaning: 'the region of every client (set by Lambda)' },
  AWS_DEFAULT_REGION: { meaning: 'the region when AWS_REGION is unset' },
  AWS_ENDPOINT_URL: { meaning: 'one endpoint for every AWS client (the local emulators)' },
  AWS_ENDPOINT_URL_DYNAMODB: { meaning: "DynamoDB's endpoint, over AWS_ENDPOINT_URL (dynalite)" },
  AWS_ENDPOINT_URL_EVENTBRIDGE: {
    meaning: "EventBridge's endpoint, over AWS_ENDPOINT_URL (tests)",
  },
  AWS_ENDPOINT_URL_SECURITYHUB: {
    meaning: "Security Hub's endpoint, over AWS_ENDPOINT_URL (tests)",
  },
  AWS_ENDPOINT_URL_SECRETS_MANAGER: {
    meaning: "Secrets Manager's endpoint, over AWS_ENDPOINT_URL (the FDR poller's tests)",
  },
  S3_FORCE_PATH_STYLE: {
    meaning: 'true: `http://host/bucket/key` S3 URLs, which emulators need',
    default: 'false',
  },
  POWERTOOLS_SERVICE_NAME: {
    meaning: 'the `service` of logs and metrics (default t1102-<source>)',
  },
  POWERTOOLS_METRICS_NAMESPACE: { meaning: 'the EMF namespace', default: 'T1102Detection' },
  POWERTOOLS_LOG_LEVEL: { meaning: 'the log level (the CDK app sets INFO)' },
  NODE_OPTIONS: { meaning: "node's flags (the CDK app sets --enable-source-maps)" },
  AWS_LAMBDA_EXEC_WRAPPER: {
    meaning: "the functions' heap wrapper, which caps V8's young generation (set by the CDK app)",
  },
  NODE_MAX_SEMI_SPACE_MIB: {
    // Read by lib/pipeline/heap-wrapper.sh, which checks it is a whole number.
    meaning: "the heap wrapper's cap on V8's young generation, in MiB",
    default: '16',
  },
} as const satisfies Record<string, IntegerVariable | TextVariable>;

export type EnvName = keyof typeof ENV;
export type Env = Readonly<Record<string, string | undefined>>;
/** Variables to set on a function: only names of the contract type-check. */
export type FunctionEnvironment = Partial<Record<EnvName, string>>;

type IntegerName = {
  [K in EnvName]: (typeof ENV)[K] extends IntegerVariable ? K : never;
}[EnvName];

/** Reads variables of ENV, remembering every problem instead of stopping at the first. */
export interface EnvReader {
  /** The trimmed value, or undefined when unset or blank. */
  text(name: EnvName): string | undefined;
  /** A whole number within the variable's bounds; its default (and a problem) otherwise. */
  integer(name: IntegerName): number;
  /** Records a problem with a variable (`NAME ...`). */
  problem(message: string): void;
  /** Every problem recorded so far, one sentence each, naming the variable. */
  readonly problems: readonly string[];
}

export function createEnvReader(env: Env): EnvReader {
  const problems: string[] = [];
  const text = (name: EnvName): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  return {
    text,
    integer: (name) => {
      const spec: IntegerVariable = ENV[name];
      const raw = text(name);
      if (raw === undefined) return spec.default;
      const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < spec.min || n > spec.max) {
        problems.push(
          `${name} must be a whole number of ${spec.unit} from ${spec.min} to ${spec.max}, got ${JSON.stringify(raw)} (${spec.meaning})`,
        );
        return spec.default;
      }
      return n;
    },
    problem: (message) => problems.push(message),
    problems,
  };
}
