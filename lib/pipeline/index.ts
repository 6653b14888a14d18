export type { TimeBudget } from './budget.ts';
export {
  DEFAULT_INVOCATION_MS,
  MAX_STEP_RESERVE_MS,
  STEP_RESERVE_SHARE,
  timeBudget,
} from './budget.ts';
export type { ClientTimeouts } from './clients.ts';
export {
  CONNECTION_TIMEOUT_MS,
  createAwsClients,
  DEFAULT_CLIENT_TIMEOUTS,
  REQUEST_TIMEOUT_MS,
  requestHandlerOptions,
  SOCKET_TIMEOUT_MS,
} from './clients.ts';
export type { Env, PipelineConfig } from './config.ts';
export {
  DEFAULT_MAX_ALERT_GROUPS,
  DEFAULT_MAX_QUARANTINE_BYTES,
  DEFAULT_MAX_QUARANTINE_RECORDS,
  DEFAULT_OBJECT_CONCURRENCY,
  DEFAULT_QUARANTINE_PREFIX,
  loadConfig,
  MAX_ALERT_GROUPS_LIMIT,
  MAX_OBJECT_CONCURRENCY,
  MAX_QUARANTINE_BYTES_LIMIT,
  MAX_QUARANTINE_PREFIX_BYTES,
  MAX_QUARANTINE_RECORDS_LIMIT,
} from './config.ts';
export type { AlertSink, DeliveryInput, DeliveryResult } from './deliver.ts';
export {
  ACK_MAX_ATTEMPTS,
  DELIVERY_CHUNK_ALERTS,
  deliverAlerts,
  MAX_PARALLEL_ACKS,
  MAX_PARALLEL_PUBLISHES,
} from './deliver.ts';
export type { PublishFailure } from './errors.ts';
export {
  AcknowledgeError,
  AlertTooLargeError,
  ConfigError,
  ContextStoreError,
  InvocationFailedError,
  NotificationError,
  ObjectInFlightError,
  ObjectReadError,
  PipelineError,
  PublishError,
  QuarantineError,
  ReadDeadlineError,
  TimeBudgetError,
} from './errors.ts';
export type { S3BatchHandler, S3BatchHandlerOptions } from './handler.ts';
export {
  createS3BatchHandler,
  DEADLINE_RESERVE_SHARE,
  MAX_DEADLINE_RESERVE_MS,
} from './handler.ts';
export type { AlertMessage, AlertMessageOptions } from './message.ts';
export {
  alertAttributes,
  alertEmail,
  alertSubject,
  buildAlertMessage,
  MAX_ATTRIBUTE_VALUE_CHARS,
  MAX_SNS_MESSAGE_BYTES,
  MAX_SUBJECT_CHARS,
  MIN_KEY_CHARS,
  messageBytes,
  TRIM_LEVELS,
  toAscii,
  trimFinding,
  truncate,
} from './message.ts';
export type {
  Envelope,
  IgnoredNotification,
  IgnoreReason,
  NotificationItem,
  NotificationShape,
  ObjectRef,
  ParsedInvocation,
  ParseOptions,
} from './notifications.ts';
export {
  decodeS3EventKey,
  MAX_ENVELOPE_DEPTH,
  objectId,
  parseInvocation,
} from './notifications.ts';
export type { OpenedObject, S3Reader } from './objects.ts';
export { openObject } from './objects.ts';
export type { AlertDecision, AlertPolicy, AlertPolicyInput } from './policy.ts';
export { statelessAlertPolicy } from './policy.ts';
export type {
  FailureStage,
  ObjectOutcome,
  ObjectProcessorDeps,
  ProcessOptions,
} from './processor.ts';
export { createObjectProcessor } from './processor.ts';
export type { PublishOptions, PublishResult, SnsPublisher } from './publish.ts';
export {
  AlertPublisher,
  isRetryableError,
  MAX_PUBLISH_BATCH_BYTES,
  MAX_PUBLISH_BATCH_ENTRIES,
  PUBLISH_BASE_DELAY_MS,
  PUBLISH_MAX_ATTEMPTS,
  PUBLISH_MAX_DELAY_MS,
  planBatches,
} from './publish.ts';
export type { QuarantineLimits, QuarantineLine, S3Writer } from './quarantine.ts';
export {
  MAX_QUARANTINE_MESSAGE_CHARS,
  MAX_S3_KEY_BYTES,
  QUARANTINE_SUFFIX,
  QuarantineCollector,
  quarantineKey,
  writeQuarantine,
} from './quarantine.ts';
export type { ObjectCounts, PipelineLogger, PipelineMetrics } from './telemetry.ts';
export {
  METRIC,
  METRICS_NAMESPACE,
  recordObjectMetrics,
  skipMetricName,
  totalSkipped,
} from './telemetry.ts';
