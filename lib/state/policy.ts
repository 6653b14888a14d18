import { QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mergeGroups } from '../alert/group.ts';
import type { AlertGroup } from '../alert/types.ts';
import type { SourceName } from '../event/types.ts';
import { mapLimit } from './concurrency.ts';
import {
  backoffMs,
  type DynamoSend,
  getNum,
  getStrList,
  type Item,
  isConditionFailure,
  num,
  sleep,
  str,
} from './dynamo.ts';
import {
  StateCapacityError,
  StateConfigError,
  StateInputError,
  StateRetryExhaustedError,
} from './errors.ts';
import { alertPk, itemNoOf, objectMarker, windowSk, windowSkPrefix } from './keys.ts';
import {
  DEFAULT_THRESHOLD,
  DEFAULT_TTL_DAYS,
  MAX_APPEND_ROUNDS,
  MAX_ITEMS_PER_WINDOW,
  MAX_OBJECTS_PER_ITEM,
  MAX_PARALLEL_GROUP_UPDATES,
  SECONDS_PER_DAY,
} from './limits.ts';

export type AlertActivity = 'create' | 'update';

export interface AlertDecision {
  /**
   * The group as the finding should show it: count, first and last seen accumulated across every
   * object counted in its window; evidence from this object.
   */
  group: AlertGroup;
  activity: AlertActivity;
  /** ISO 8601 start of the event-time window, for `buildFinding(..., { window })`; absent when not windowed. */
  window?: string;
  /** Call after the publish succeeded: records the count published (no-op without state). */
  ack(): Promise<void>;
}

export interface AlertPolicyInput {
  /** One version of one object, `s3://bucket/key#etag-or-version`: the unit of exactly-once. */
  objectId: string;
  source: SourceName;
  /** Every group the object produced. */
  groups: AlertGroup[];
}

/** Decides which groups of an object become alerts, and whether each creates or updates a finding. */
export interface AlertPolicy {
  decide(input: AlertPolicyInput): Promise<AlertDecision[]>;
  /**
   * True when `ack` is stored, so a retry of the object decides again without the alerts already
   * acknowledged; false (stateless) when a retry re-sends every alert of the object.
   */
  readonly remembersPublished: boolean;
}

const noAck = async (): Promise<void> => {};

/** No state: every group of every object is a new finding (per-object grouping, as before). */
export const statelessPolicy: AlertPolicy = {
  remembersPublished: false,
  decide: async ({ groups }) =>
    groups.map((group) => ({
      group,
      activity: 'create' as const,
      ...(group.windowStart === undefined
        ? {}
        : { window: new Date(group.windowStart).toISOString() }),
      ack: noAck,
    })),
};

/**
 * The threshold and update rule: the first message for a window once its count reaches
 * `threshold`; after that an update only when the count has at least doubled since the count last
 * published (1, 2, 4, 8, ...), so a beacon firing all day costs log2(count) messages, not one per
 * batch. Derived from stored counts, never from this invocation's increment alone, so an alert
 * whose publish failed is still due when the object is retried.
 */
export function nextActivity(
  count: number,
  published: number,
  threshold: number,
): AlertActivity | undefined {
  if (published <= 0) return count >= threshold ? 'create' : undefined;
  return count >= 2 * published ? 'update' : undefined;
}

export interface DynamoAlertPolicyOptions {
  client: DynamoSend;
  tableName: string;
  /** The rule the groups matched: part of the state key (and of the finding uid). */
  ruleId: string;
  /** Tumbling event-time window, ms; must equal the `windowMs` the engine scanned with. */
  windowMs: number;
  /** Count at which a window's first alert goes out (default 1). */
  threshold?: number;
  /** How long a window's state outlives the window's end (default 7 days): late events merge. */
  ttlSeconds?: number;
  /** Clock, ms since epoch (tests). */
  now?: () => number;
  /** Object markers per item before a window continues in its next item (tests lower it). */
  maxObjectsPerItem?: number;
}

/** One stored item of a window's state. */
interface WindowItem {
  itemNo: number;
  count: number;
  firstSeen: number;
  lastSeen: number;
  objects: Set<string>;
  /** Item 0 only: the count last published. */
  published: number;
}

/** A group with the keys of its window's state. */
interface Keyed {
  group: AlertGroup;
  windowStart: number;
  windowIso: string;
  pk: string;
}

function parseWindowItem(item: Item): WindowItem {
  return {
    itemNo: itemNoOf(item.sk?.S ?? ''),
    count: getNum(item, 'count') ?? 0,
    firstSeen: getNum(item, 'firstSeen') ?? Number.POSITIVE_INFINITY,
    lastSeen: getNum(item, 'lastSeen') ?? Number.NEGATIVE_INFINITY,
    objects: new Set(getStrList(item, 'objects') ?? []),
    published: getNum(item, 'published') ?? 0,
  };
}

function checkInteger(name: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min) {
    throw new StateConfigError(name, `${name} must be an integer >= ${min}, got ${v}`);
  }
}

/**
 * Alert state in DynamoDB: event-time windows, thresholds, updates, exactly-once counts.
 *
 * Exactly-once, atomically, in ONE conditional UpdateItem per group: the object's marker joins the
 * string set `objects` of the very item whose `count` it increments (`ADD count :n, objects
 * :marker`, condition `NOT contains(objects, :marker)`). A single-item write is atomic in DynamoDB,
 * so the count and the record of who contributed it cannot part: a crash between two groups leaves
 * each group either fully counted (marker present, a retry adds nothing) or untouched (a retry
 * counts it). A TransactWriteItems of a separate marker item plus the counter would do the same at
 * 4 write units (transactions bill each item twice) instead of 1–9, and dynalite, which the tests
 * run against, has no transactions. The cost of the marker set is its size; it is capped at
 * MAX_OBJECTS_PER_ITEM, after which the window continues in item 0001, 0002, ... (an object is
 * always looked for in every item of its window before it is counted).
 *
 * First/last seen: DynamoDB has no min/max in update expressions. The counting write sets
 * `lastSeen = :last` under the condition `lastSeen <= :last` (batches mostly arrive in event-time
 * order) and `firstSeen = if_not_exists(...)`; when an object brings earlier or later events than
 * the item holds, a conditional `SET firstSeen = :f` if `firstSeen > :f` (resp. lastSeen) widens it.
 * These widenings are idempotent, so they need no marker: a retry simply repeats them. No
 * read-modify-write loop is needed, so concurrent functions never lose a count to a race.
 *
 * DynamoDB actions: UpdateItem, Query.
 */
export function createDynamoAlertPolicy(options: DynamoAlertPolicyOptions): AlertPolicy {
  const { client, tableName, ruleId, windowMs } = options;
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_DAYS * SECONDS_PER_DAY;
  const now = options.now ?? Date.now;
  const maxObjects = options.maxObjectsPerItem ?? MAX_OBJECTS_PER_ITEM;
  checkInteger('windowMs', windowMs, 1);
  checkInteger('threshold', threshold, 1);
  checkInteger('ttlSeconds', ttlSeconds, 0);
  checkInteger('maxObjectsPerItem', maxObjects, 1);
  if (ruleId === '') throw new StateConfigError('ruleId', 'ruleId must not be empty');

  function windowOf(g: AlertGroup): number {
    const start = g.windowStart ?? Math.floor(g.firstSeen / windowMs) * windowMs;
    if (start % windowMs !== 0) {
      throw new StateInputError(
        `group window start ${start} is not a multiple of ${windowMs} ms: the scan and the policy use different windows`,
      );
    }
    if (g.firstSeen < start || g.lastSeen >= start + windowMs) {
      throw new StateInputError(
        `group ${JSON.stringify(g.key)} spans more than the window starting ${new Date(start).toISOString()}: scan with the policy's windowMs`,
      );
    }
    return start;
  }

  /** The counting write (see the function comment). Returns the item as written. */
  async function count(
    k: Keyed,
    itemNo: number,
    marker: string,
    source: SourceName,
    inOrder: boolean,
  ): Promise<WindowItem> {
    const g = k.group;
    const names: Record<string, string> = {
      '#pk': 'pk',
      '#count': 'count',
      '#objects': 'objects',
      '#sources': 'sources',
      '#first': 'firstSeen',
      '#last': 'lastSeen',
      '#exp': 'expiresAt',
    };
    const values: Item = {
      ':n': num(g.count),
      ':markers': { SS: [marker] },
      ':marker': str(marker),
      ':sources': { SS: [source] },
      ':first': num(g.firstSeen),
      ':last': num(g.lastSeen),
      // From when it is written, or the window's end if later: a backfill of old events must
      // not write items (and their markers) that expire at once.
      ':exp': num(Math.ceil(Math.max(k.windowStart + windowMs, now()) / 1000) + ttlSeconds),
      ':max': num(maxObjects),
    };
    const sets = [
      '#first = if_not_exists(#first, :first)',
      inOrder ? '#last = :last' : '#last = if_not_exists(#last, :last)',
      '#exp = :exp',
    ];
    if (itemNo === 0) {
      // Readable identity on the window's first item, for operators reading the table.
      const fields = {
        ruleId,
        host: g.key.host,
        user: g.key.user,
        process: g.key.process,
        domain: g.key.domain,
      };
      for (const [name, value] of Object.entries(fields)) {
        names[`#${name}`] = name;
        values[`:${name}`] = str(value);
        sets.push(`#${name} = :${name}`);
      }
      names['#windowStart'] = 'windowStart';
      names['#windowMs'] = 'windowMs';
      values[':windowStart'] = num(k.windowStart);
      values[':windowMs'] = num(windowMs);
      sets.push('#windowStart = :windowStart', '#windowMs = :windowMs');
    }
    const res = await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { pk: str(k.pk), sk: str(windowSk(k.windowIso, itemNo)) },
        UpdateExpression: `ADD #count :n, #objects :markers, #sources :sources SET ${sets.join(', ')}`,
        ConditionExpression: `attribute_not_exists(#pk) OR (NOT contains(#objects, :marker) AND size(#objects) < :max${inOrder ? ' AND #last <= :last' : ''})`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return parseWindowItem(res.Attributes ?? {});
  }

  /** Widens first/last seen of `item` to cover the group; idempotent, lock-free. */
  async function widen(k: Keyed, item: WindowItem): Promise<void> {
    const bounds = [
      {
        attr: 'firstSeen',
        op: '>',
        value: k.group.firstSeen,
        due: item.firstSeen > k.group.firstSeen,
      },
      { attr: 'lastSeen', op: '<', value: k.group.lastSeen, due: item.lastSeen < k.group.lastSeen },
    ];
    for (const b of bounds) {
      if (!b.due) continue;
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { pk: str(k.pk), sk: str(windowSk(k.windowIso, item.itemNo)) },
            UpdateExpression: 'SET #a = :v',
            ConditionExpression: `#a ${b.op} :v`,
            ExpressionAttributeNames: { '#a': b.attr },
            ExpressionAttributeValues: { ':v': num(b.value) },
          }),
        );
      } catch (err) {
        // Someone stored an equal or wider bound meanwhile (or the item expired): nothing to do.
        if (!isConditionFailure(err)) throw err;
      }
    }
    item.firstSeen = Math.min(item.firstSeen, k.group.firstSeen);
    item.lastSeen = Math.max(item.lastSeen, k.group.lastSeen);
  }

  /** Every item of a window's state, strongly consistent, in item order. */
  async function readWindow(k: Keyed): Promise<WindowItem[]> {
    const items: WindowItem[] = [];
    let start: Item | undefined;
    do {
      const res = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
          ExpressionAttributeValues: {
            ':pk': str(k.pk),
            ':prefix': str(windowSkPrefix(k.windowIso)),
          },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of res.Items ?? []) items.push(parseWindowItem(item));
      start = res.LastEvaluatedKey;
    } while (start);
    return items.sort((a, b) => a.itemNo - b.itemNo);
  }

  /** Counts the group once for this object and returns every item of its window's state. */
  async function contribute(k: Keyed, marker: string, source: SourceName): Promise<WindowItem[]> {
    // The usual case in one write: the window's first item, events no older than those stored.
    try {
      const head = await count(k, 0, marker, source, true);
      await widen(k, head);
      // Items 0001... are only opened once item 0000 is full, so a non-full head is the whole state.
      return head.objects.size < maxObjects ? [head] : await readWindow(k);
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    // Already counted, older events than stored, or a full item: read the window and decide.
    for (let round = 0; round < MAX_APPEND_ROUNDS; round++) {
      if (round > 0) await sleep(backoffMs(round));
      const items = await readWindow(k);
      const holder = items.find((i) => i.objects.has(marker));
      if (holder) {
        // Counted by an earlier attempt (a retry or a replay): only make sure its bounds stuck.
        await widen(k, holder);
        return items;
      }
      const last = items.at(-1);
      const target =
        last === undefined ? 0 : last.objects.size < maxObjects ? last.itemNo : last.itemNo + 1;
      if (target >= MAX_ITEMS_PER_WINDOW) {
        throw new StateCapacityError(
          `window ${k.windowIso} of ${JSON.stringify(k.group.key)} holds ${MAX_ITEMS_PER_WINDOW * maxObjects} objects already`,
        );
      }
      const inOrder =
        last === undefined || target !== last.itemNo || last.lastSeen <= k.group.lastSeen;
      try {
        const written = await count(k, target, marker, source, inOrder);
        await widen(k, written);
        return [...items.filter((i) => i.itemNo !== target), written];
      } catch (err) {
        // Lost a race (the item filled up, or another function counted this same object): re-read.
        if (!isConditionFailure(err)) throw err;
      }
    }
    throw new StateRetryExhaustedError(
      `could not count ${JSON.stringify(k.group.key)} in window ${k.windowIso} after ${MAX_APPEND_ROUNDS} rounds`,
    );
  }

  /** Records that `published` was sent; conditional, so the larger of racing records stays. */
  async function ack(k: Keyed, published: number): Promise<void> {
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: str(k.pk), sk: str(windowSk(k.windowIso, 0)) },
          UpdateExpression: 'SET #published = :published, #publishedAt = :now',
          ConditionExpression:
            'attribute_exists(#pk) AND (attribute_not_exists(#published) OR #published < :published)',
          ExpressionAttributeNames: {
            '#pk': 'pk',
            '#published': 'published',
            '#publishedAt': 'publishedAt',
          },
          ExpressionAttributeValues: { ':published': num(published), ':now': num(now()) },
        }),
      );
    } catch (err) {
      // Another publisher recorded this count or a larger one: the record is already right.
      if (!isConditionFailure(err)) throw err;
    }
  }

  return {
    remembersPublished: true,
    async decide({ objectId, source, groups }) {
      if (objectId === '') throw new StateInputError('objectId must not be empty');
      const marker = objectMarker(objectId);
      // One entry per group key and window, even if the caller merged objects or split a group.
      const windowed = mergeGroups(groups.map((g) => ({ ...g, windowStart: windowOf(g) })));
      const decisions = await mapLimit(windowed, MAX_PARALLEL_GROUP_UPDATES, async (group) => {
        const windowStart = group.windowStart as number;
        const k: Keyed = {
          group,
          windowStart,
          windowIso: new Date(windowStart).toISOString(),
          pk: alertPk(ruleId, group.key),
        };
        const items = await contribute(k, marker, source);
        const total = {
          count: items.reduce((n, i) => n + i.count, 0),
          firstSeen: Math.min(group.firstSeen, ...items.map((i) => i.firstSeen)),
          lastSeen: Math.max(group.lastSeen, ...items.map((i) => i.lastSeen)),
          published: items.find((i) => i.itemNo === 0)?.published ?? 0,
        };
        const activity = nextActivity(total.count, total.published, threshold);
        if (activity === undefined) return undefined;
        const decision: AlertDecision = {
          group: {
            ...group,
            count: total.count,
            firstSeen: total.firstSeen,
            lastSeen: total.lastSeen,
          },
          activity,
          window: k.windowIso,
          ack: () => ack(k, total.count),
        };
        return decision;
      });
      return decisions.filter((d): d is AlertDecision => d !== undefined);
    },
  };
}
