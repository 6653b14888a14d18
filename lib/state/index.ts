export type { ClaimState, DynamoObjectClaimsOptions, ObjectClaims } from './claims.ts';
export { createDynamoObjectClaims } from './claims.ts';
export type { StateSettings, StateSetup } from './config.ts';
export { createState, readStateSettings, stateFromEnv } from './config.ts';
export type { DynamoContextStoreOptions } from './context-store.ts';
export { createDynamoContextStore } from './context-store.ts';
export type { DynamoSend } from './dynamo.ts';
export { backoffMs } from './dynamo.ts';
export {
  StateCapacityError,
  StateConfigError,
  StateError,
  StateInputError,
  StateRetryExhaustedError,
  StateStoreError,
} from './errors.ts';
export {
  COMPLETED_CLAIM_TTL_SECONDS,
  DEFAULT_THRESHOLD,
  DEFAULT_TTL_DAYS,
  DEFAULT_WINDOW_MINUTES,
  MAX_ITEMS_PER_WINDOW,
  MAX_OBJECTS_PER_ITEM,
  WAITING_GRACE_SECONDS,
  WAITING_WINDOW_SECONDS,
} from './limits.ts';
export type {
  AlertActivity,
  AlertDecision,
  AlertPolicy,
  AlertPolicyInput,
  DynamoAlertPolicyOptions,
} from './policy.ts';
export { createDynamoAlertPolicy, nextActivity, statelessPolicy } from './policy.ts';
export type {
  DynamoWaitingStoreOptions,
  ExpiredCandidate,
  ExpiredReport,
  WaitingStore,
} from './waiting.ts';
export { createDynamoWaitingStore } from './waiting.ts';
