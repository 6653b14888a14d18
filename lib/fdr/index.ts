export type { FdrConfig } from './config.ts';
export {
  DEFAULT_DESTINATION_PREFIX,
  DEFAULT_FDR_OBJECT_CONCURRENCY,
  DEFAULT_FDR_VISIBILITY_TIMEOUT_SECONDS,
  DEFAULT_MAX_MESSAGES_PER_RUN,
  FDR_SERVICE_NAME,
  loadFdrConfig,
  MAX_FDR_OBJECT_CONCURRENCY,
  MAX_FDR_VISIBILITY_TIMEOUT_SECONDS,
  MAX_MESSAGES_PER_RUN_LIMIT,
} from './config.ts';
export type { CopyOutcome, CopyRetryOptions, CopyTarget, S3Head, S3Put } from './copy.ts';
export {
  COPY_BASE_DELAY_MS,
  COPY_MAX_ATTEMPTS,
  COPY_MAX_DELAY_MS,
  COPY_METADATA,
  copyFdrObject,
  copyWithRetries,
  MAX_FDR_OBJECT_BYTES,
} from './copy.ts';
export { FdrCopyError, FdrError, FdrSecretError } from './errors.ts';
export type { FdrHandler, FdrHandlerOptions } from './handler.ts';
export { createFdrHandler } from './handler.ts';
export { FDR_METRIC } from './metrics.ts';
export type {
  FdrPollerDeps,
  FdrRunSummary,
  FdrSource,
  RemainingTime,
  SqsClientLike,
} from './poller.ts';
export {
  createFdrPoller,
  MAX_RECEIVE_BATCH,
  RECEIVE_CUTOFF_SHARE,
  RECEIVE_WAIT_SECONDS,
} from './poller.ts';
export type { FdrCredentials, SecretReader, SecretsManagerSend } from './secret.ts';
export {
  cachedSecretReader,
  parseCredentials,
  SECRET_CACHE_MS,
  secretsManagerReader,
} from './secret.ts';
