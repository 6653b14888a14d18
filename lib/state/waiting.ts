import { createHash } from 'node:crypto';
import { BatchGetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { WaitingCandidate } from '../engine/index.ts';
import { mapLimit } from './concurrency.ts';
import {
  batchWriteAll,
  chunk,
  type DynamoSend,
  getNum,
  getStr,
  type Item,
  isConditionFailure,
  num,
  queryPartition,
  str,
} from './dynamo.ts';
import { objectMarker } from './keys.ts';
import {
  BATCH_GET_MAX_KEYS,
  MAX_CONTEXT_KEY_CHARS,
  MAX_EXPIRED_EXAMPLES,
  MAX_PARALLEL_BATCH_REQUESTS,
  MAX_PARALLEL_GROUP_UPDATES,
  WAITING_GRACE_SECONDS,
  WAITING_WINDOW_SECONDS,
} from './limits.ts';

/** What an expired candidate lacked, for the log. */
export interface ExpiredCandidate {
  processKey: string;
  hostname: string;
  origin: string;
  record: number;
}

/** Candidates whose wait ended unresolved in one hour, counted by the one function that swept it. */
export interface ExpiredReport {
  hour: string;
  count: number;
  examples: ExpiredCandidate[];
}

/**
 * Candidates waiting for process context that another object will bring, in the state table,
 * keyed by the process key that resolves them. Both sides write first and then read the other's
 * side (the waiter keeps its candidates, then looks the context up again; the object with the
 * context saves it, then looks for waiters), so with strongly consistent reads at least one of
 * two racing objects sees the other; a conditional claim per candidate lets only one resolve it.
 */
export interface WaitingStore {
  /** Keeps `objectId`'s candidates (a candidate kept already is left as it is). */
  keep(candidates: readonly WaitingCandidate[], objectId: string): Promise<void>;
  /**
   * The process keys for which `objectId` kept candidates before (an earlier attempt at it). Its
   * retry must leave them waiting rather than resolve them itself: another object may have
   * claimed them meanwhile.
   */
  keptBy(processKeys: readonly string[], objectId: string): Promise<Set<string>>;
  /** Claims, for `objectId`, the waiting candidates of these process keys not claimed by another. */
  claim(processKeys: readonly string[], objectId: string): Promise<WaitingCandidate[]>;
  /** Counts candidates whose wait ended unresolved, once per hour across functions. */
  sweepExpired(): Promise<ExpiredReport[]>;
}

export interface DynamoWaitingStoreOptions {
  client: DynamoSend;
  tableName: string;
  now?: () => number;
}

const HOUR_MS = 3_600_000;
const hourOf = (ms: number): string => new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString();
const waitingPk = (processKey: string): string => `waiting#${processKey}`;
const duePk = (hour: string): string => `waiting-due#${hour}`;
const SWEPT_SK = '~swept';

/** One candidate per record: the same record kept twice (a retry) is one item. */
function candidateSk(c: WaitingCandidate): string {
  const p = c.event.provenance;
  const id = createHash('sha256')
    .update(`${p.origin}\u0000${p.record}\u0000${c.event.kind}\u0000${c.hostname}`)
    .digest('base64url')
    .slice(0, 22);
  return `cand#${id}`;
}

/**
 * Items: `waiting#<process key>` / `cand#<id>` holds the candidate (JSON), `waitUntil` (s),
 * `resolvedBy` (the marker of the object that claimed it) and `expiresAt`; `waiting-due#<hour>` /
 * `<process key>#<id>` indexes it by the hour its wait ends, for the sweep; `waiting-due#<hour>` /
 * `~swept` says the hour was swept.
 */
export function createDynamoWaitingStore(options: DynamoWaitingStoreOptions): WaitingStore {
  const { client, tableName } = options;
  const now = options.now ?? Date.now;
  /** Hours this container saw swept: it asks again for none of them. */
  const swept = new Set<string>();

  async function claimOne(item: Item, marker: string): Promise<WaitingCandidate | undefined> {
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: item.pk!, sk: item.sk! },
          UpdateExpression: 'SET #by = :me',
          ConditionExpression: 'attribute_exists(#pk) AND (attribute_not_exists(#by) OR #by = :me)',
          ExpressionAttributeNames: { '#pk': 'pk', '#by': 'resolvedBy' },
          ExpressionAttributeValues: { ':me': str(marker) },
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) return undefined; // another object resolves it
      throw err;
    }
    return JSON.parse(getStr(item, 'candidate') ?? 'null') as WaitingCandidate;
  }

  async function sweepHour(hour: string): Promise<ExpiredReport | undefined> {
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: str(duePk(hour)), sk: str(SWEPT_SK) },
          UpdateExpression: 'SET #at = :now, #exp = :exp',
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': 'pk', '#at': 'sweptAt', '#exp': 'expiresAt' },
          ExpressionAttributeValues: {
            ':now': num(now()),
            ':exp': num(Math.floor(now() / 1000) + WAITING_GRACE_SECONDS),
          },
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) return undefined; // swept by another function
      throw err;
    }
    const index = (await queryPartition(client, tableName, duePk(hour))).filter(
      (i) => getStr(i, 'sk') !== SWEPT_SK,
    );
    const report: ExpiredReport = { hour, count: 0, examples: [] };
    for (const part of chunk(index, BATCH_GET_MAX_KEYS)) {
      const keys = part.map((i) => ({ pk: i.waitingPk!, sk: i.waitingSk! }));
      const res = await client.send(
        new BatchGetItemCommand({
          RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } },
        }),
      );
      const resolved = new Set(
        (res.Responses?.[tableName] ?? [])
          .filter((i) => getStr(i, 'resolvedBy') !== undefined)
          .map((i) => `${getStr(i, 'pk')}\u0000${getStr(i, 'sk')}`),
      );
      for (const i of part) {
        if (resolved.has(`${i.waitingPk?.S}\u0000${i.waitingSk?.S}`)) continue;
        report.count++;
        if (report.examples.length < MAX_EXPIRED_EXAMPLES) {
          report.examples.push({
            processKey: getStr(i, 'processKey') ?? '',
            hostname: getStr(i, 'hostname') ?? '',
            origin: getStr(i, 'origin') ?? '',
            record: getNum(i, 'record') ?? 0,
          });
        }
      }
    }
    return report;
  }

  return {
    async keep(candidates, objectId) {
      const marker = objectMarker(objectId);
      const nowMs = now();
      const waitUntil = Math.floor(nowMs / 1000) + WAITING_WINDOW_SECONDS;
      const expiresAt = waitUntil + WAITING_GRACE_SECONDS;
      const hour = hourOf(waitUntil * 1000);
      const kept = candidates.filter((c) => c.processKey.length <= MAX_CONTEXT_KEY_CHARS);
      // Never overwrites: a candidate kept again (a retry) keeps its wait and its resolver.
      await mapLimit(kept, MAX_PARALLEL_GROUP_UPDATES, (c) =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { pk: str(waitingPk(c.processKey)), sk: str(candidateSk(c)) },
            UpdateExpression:
              'SET #c = if_not_exists(#c, :c), #k = if_not_exists(#k, :k), #w = if_not_exists(#w, :w), #exp = if_not_exists(#exp, :exp)',
            ExpressionAttributeNames: {
              '#c': 'candidate',
              '#k': 'keptBy',
              '#w': 'waitUntil',
              '#exp': 'expiresAt',
            },
            ExpressionAttributeValues: {
              ':c': str(JSON.stringify(c)),
              ':k': str(marker),
              ':w': num(waitUntil),
              ':exp': num(expiresAt),
            },
          }),
        ),
      );
      await batchWriteAll(
        client,
        tableName,
        kept.map((c) => ({
          PutRequest: {
            Item: {
              pk: str(duePk(hour)),
              sk: str(`${c.processKey}#${candidateSk(c)}`),
              waitingPk: str(waitingPk(c.processKey)),
              waitingSk: str(candidateSk(c)),
              processKey: str(c.processKey),
              hostname: str(c.hostname),
              origin: str(c.event.provenance.origin),
              record: num(c.event.provenance.record),
              expiresAt: num(expiresAt),
            },
          },
        })),
      );
    },

    async keptBy(processKeys, objectId) {
      const marker = objectMarker(objectId);
      const keys = [...new Set(processKeys)].filter((k) => k.length <= MAX_CONTEXT_KEY_CHARS);
      const held = new Set<string>();
      await mapLimit(keys, MAX_PARALLEL_BATCH_REQUESTS, async (key) => {
        const items = await queryPartition(client, tableName, waitingPk(key));
        if (items.some((i) => getStr(i, 'keptBy') === marker)) held.add(key);
      });
      return held;
    },

    async claim(processKeys, objectId) {
      const marker = objectMarker(objectId);
      const nowSec = Math.floor(now() / 1000);
      const keys = [...new Set(processKeys)].filter((k) => k.length <= MAX_CONTEXT_KEY_CHARS);
      const found = await mapLimit(keys, MAX_PARALLEL_BATCH_REQUESTS, async (key) => {
        const items = await queryPartition(client, tableName, waitingPk(key));
        // Past its wait a candidate belongs to the sweep, which counts it as expired.
        return items.filter((i) => {
          const by = getStr(i, 'resolvedBy');
          return (getNum(i, 'waitUntil') ?? 0) >= nowSec && (by === undefined || by === marker);
        });
      });
      const claimed = await mapLimit(found.flat(), MAX_PARALLEL_GROUP_UPDATES, (item) =>
        claimOne(item, marker),
      );
      return claimed.filter((c): c is WaitingCandidate => c !== undefined && c !== null);
    },

    async sweepExpired() {
      const nowMs = now();
      const reports: ExpiredReport[] = [];
      // Hours whose waits have all ended and whose items still exist (their grace is not over).
      const first = Math.floor((nowMs - WAITING_GRACE_SECONDS * 1000) / HOUR_MS) + 1;
      const last = Math.floor(nowMs / HOUR_MS) - 1;
      const hours: string[] = [];
      for (let h = first; h <= last; h++) {
        const hour = new Date(h * HOUR_MS).toISOString();
        if (!swept.has(hour)) hours.push(hour);
      }
      await mapLimit(hours, MAX_PARALLEL_BATCH_REQUESTS, async (hour) => {
        const report = await sweepHour(hour);
        swept.add(hour);
        if (report && report.count > 0) reports.push(report);
      });
      return reports;
    },
  };
}
