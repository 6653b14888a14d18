import type { ContextStore } from '../engine/types.ts';
import { createDynamoObjectClaims, type ObjectClaims } from './claims.ts';
import { createDynamoContextStore } from './context-store.ts';
import type { DynamoSend } from './dynamo.ts';
import { StateConfigError } from './errors.ts';
import {
  DEFAULT_THRESHOLD,
  DEFAULT_TTL_DAYS,
  DEFAULT_WINDOW_MINUTES,
  MAX_THRESHOLD,
  MAX_TTL_DAYS,
  MAX_WINDOW_MINUTES,
  MS_PER_MINUTE,
  SECONDS_PER_DAY,
} from './limits.ts';
import { type AlertPolicy, createDynamoAlertPolicy, statelessPolicy } from './policy.ts';
import { createDynamoWaitingStore, type WaitingStore } from './waiting.ts';

/** What a handler needs to scan and alert with (or without) cross-object state. */
export type StateSetup =
  | {
      mode: 'stateless';
      /** Every group of every object becomes a Create (per-object grouping, as before). */
      policy: AlertPolicy;
    }
  | {
      mode: 'dynamodb';
      tableName: string;
      /** Pass to `scanObject(..., { windowMs })`: the policy keys state on the same windows. */
      windowMs: number;
      threshold: number;
      ttlSeconds: number;
      policy: AlertPolicy;
      /** Pass to `scanObject(..., { contextStore })`. */
      contextStore: ContextStore;
      /** In-flight claims of objects: a concurrent delivery backs off. */
      claims: ObjectClaims;
      /** Candidates waiting for context another object brings. */
      waiting: WaitingStore;
    };

/** DynamoDB table names: 3–255 of letters, digits, `_`, `-`, `.` (DynamoDB naming rules). */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

function intVar(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
  unit: string,
): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new StateConfigError(
      name,
      `${name} must be a whole number of ${unit} from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/**
 * Reads the state configuration from the environment:
 *
 * - `STATE_TABLE`: the DynamoDB table; absent or empty → stateless (no windows, no context store).
 * - `WINDOW_MINUTES`: tumbling event-time window (default 1440 = one UTC day, at most 10080).
 * - `THRESHOLD`: count at which a window's first alert goes out (default 1).
 * - `STATE_TTL_DAYS`: days state outlives its window (alerts) or its last sighting (context), default 7.
 *
 * Validated once, at cold start, with the variable named in the error.
 */
export function stateFromEnv(
  env: Record<string, string | undefined>,
  client: DynamoSend,
  ruleId: string,
): StateSetup {
  const tableName = env.STATE_TABLE?.trim() ?? '';
  const windowMinutes = intVar(
    env,
    'WINDOW_MINUTES',
    DEFAULT_WINDOW_MINUTES,
    1,
    MAX_WINDOW_MINUTES,
    'minutes',
  );
  const threshold = intVar(env, 'THRESHOLD', DEFAULT_THRESHOLD, 1, MAX_THRESHOLD, 'events');
  const ttlDays = intVar(env, 'STATE_TTL_DAYS', DEFAULT_TTL_DAYS, 1, MAX_TTL_DAYS, 'days');
  if (tableName === '') return { mode: 'stateless', policy: statelessPolicy };
  if (!TABLE_NAME.test(tableName)) {
    throw new StateConfigError(
      'STATE_TABLE',
      `STATE_TABLE must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ - .), got ${JSON.stringify(tableName)}`,
    );
  }
  const windowMs = windowMinutes * MS_PER_MINUTE;
  const ttlSeconds = ttlDays * SECONDS_PER_DAY;
  return {
    mode: 'dynamodb',
    tableName,
    windowMs,
    threshold,
    ttlSeconds,
    policy: createDynamoAlertPolicy({ client, tableName, ruleId, windowMs, threshold, ttlSeconds }),
    contextStore: createDynamoContextStore({ client, tableName, ttlSeconds }),
    claims: createDynamoObjectClaims({ client, tableName }),
    waiting: createDynamoWaitingStore({ client, tableName }),
  };
}
