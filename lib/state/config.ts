import { createEnvReader, type Env, type EnvReader } from '../config/env.ts';
import type { ContextStore } from '../engine/types.ts';
import { createDynamoObjectClaims, type ObjectClaims } from './claims.ts';
import { createDynamoContextStore } from './context-store.ts';
import { type DynamoSend, namingTable } from './dynamo.ts';
import { StateConfigError } from './errors.ts';
import { MS_PER_MINUTE, SECONDS_PER_DAY } from './limits.ts';
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

/** The state settings of the environment; `tableName` undefined means stateless. */
export interface StateSettings {
  tableName: string | undefined;
  windowMinutes: number;
  threshold: number;
  ttlDays: number;
}

/**
 * Reads STATE_TABLE, WINDOW_MINUTES, THRESHOLD and STATE_TTL_DAYS (lib/config/env.ts has their
 * defaults and bounds); every problem goes to `reader`. The numbers are checked even without a
 * table, so a typo shows before state is turned on.
 */
export function readStateSettings(reader: EnvReader): StateSettings {
  const tableName = reader.text('STATE_TABLE');
  if (tableName !== undefined && !TABLE_NAME.test(tableName)) {
    reader.problem(
      `STATE_TABLE must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ - .), got ${JSON.stringify(tableName)}`,
    );
  }
  return {
    tableName,
    windowMinutes: reader.integer('WINDOW_MINUTES'),
    threshold: reader.integer('THRESHOLD'),
    ttlDays: reader.integer('STATE_TTL_DAYS'),
  };
}

/** The policy and context store of valid settings. DynamoDB errors name the table. */
export function createState(
  settings: StateSettings,
  client: DynamoSend,
  ruleId: string,
): StateSetup {
  const { tableName } = settings;
  if (tableName === undefined) return { mode: 'stateless', policy: statelessPolicy };
  const named = namingTable(client, tableName);
  const windowMs = settings.windowMinutes * MS_PER_MINUTE;
  const threshold = settings.threshold;
  const ttlSeconds = settings.ttlDays * SECONDS_PER_DAY;
  return {
    mode: 'dynamodb',
    tableName,
    windowMs,
    threshold,
    ttlSeconds,
    policy: createDynamoAlertPolicy({
      client: named,
      tableName,
      ruleId,
      windowMs,
      threshold,
      ttlSeconds,
    }),
    contextStore: createDynamoContextStore({ client: named, tableName, ttlSeconds }),
    claims: createDynamoObjectClaims({ client: named, tableName }),
    waiting: createDynamoWaitingStore({ client: named, tableName }),
  };
}

/**
 * The state configuration of an environment: STATE_TABLE absent or blank → stateless (no
 * windows, no context store). Validated once, at cold start; StateConfigError lists every problem.
 */
export function stateFromEnv(env: Env, client: DynamoSend, ruleId: string): StateSetup {
  const reader = createEnvReader(env);
  const settings = readStateSettings(reader);
  if (reader.problems.length > 0) {
    const first = reader.problems[0]!;
    throw new StateConfigError(first.split(' ')[0]!, reader.problems.join('\n'));
  }
  return createState(settings, client, ruleId);
}
