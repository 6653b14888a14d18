import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFinding } from '../../lib/alert/index.ts';
import { scanObject } from '../../lib/engine/index.ts';
import { defaultRule } from '../../lib/rule/index.ts';
import { SOURCE_PLUGINS } from '../../lib/sources/index.ts';
import {
  type AlertDecision,
  createDynamoAlertPolicy,
  type DynamoAlertPolicyOptions,
  type DynamoSend,
  nextActivity,
  StateInputError,
  statelessPolicy,
} from '../../lib/state/index.ts';
import { alertPk, windowSk } from '../../lib/state/keys.ts';
import {
  DAY_MS,
  type Dynalite,
  group,
  KEY_A,
  KEY_B,
  startDynalite,
  storedWindow,
} from './helpers.ts';

const RULE_ID = 'test-rule';
/** 2024-03-01T10:00:00.123Z: its one-day window starts 2024-03-01T00:00:00.000Z. */
const T0 = Date.parse('2024-03-01T10:00:00.123Z');
const WINDOW_0 = Date.parse('2024-03-01T00:00:00.000Z');

let db: Dynalite;
let tableName: string;

beforeAll(async () => {
  db = await startDynalite();
  tableName = await db.newTable();
});

afterAll(async () => {
  await db.stop();
});

/** Each test keys its groups on its own host, so tests share the table without sharing state. */
let hostNo = 0;
const freshKeys = () => {
  hostNo++;
  return {
    a: { ...KEY_A, host: `host-${hostNo}` },
    b: { ...KEY_B, host: `host-${hostNo}` },
  };
};

const policyWith = (options: Partial<DynamoAlertPolicyOptions> = {}) =>
  createDynamoAlertPolicy({
    client: db.client,
    tableName,
    ruleId: RULE_ID,
    windowMs: DAY_MS,
    ...options,
  });

const summary = (d: AlertDecision) => ({
  activity: d.activity,
  count: d.group.count,
  firstSeen: d.group.firstSeen,
  lastSeen: d.group.lastSeen,
  window: d.window,
});

describe('Alert policy: threshold and update rule', () => {
  it.each([
    // count, published, threshold, expected
    [1, 0, 1, 'create'],
    [0, 0, 1, undefined],
    [2, 0, 3, undefined],
    [3, 0, 3, 'create'],
    [7, 0, 3, 'create'],
    [2, 1, 1, 'update'],
    [3, 2, 1, undefined],
    [4, 2, 1, 'update'],
    [7, 4, 1, undefined],
    [8, 4, 1, 'update'],
    [5, 3, 3, undefined],
    [6, 3, 3, 'update'],
  ])(
    'with count %i, %i published and threshold %i, decides %s',
    (count, published, threshold, expected) => {
      // Act
      const activity = nextActivity(count, published, threshold);

      // Assess
      expect(activity).toBe(expected);
    },
  );
});

describe('Alert policy: stateless', () => {
  it('makes every group a Create carrying its window, with a no-op ack', async () => {
    // Prepare
    const { windowStart: _unwindowed, ...flat } = group(KEY_B, 1, T0);
    const groups = [group(KEY_A, 3, T0), flat];

    // Act
    const decisions = await statelessPolicy.decide({
      objectId: 's3://b/k#1',
      source: 'sysmon',
      groups,
    });
    await Promise.all(decisions.map((d) => d.ack()));

    // Assess
    expect(decisions.map((d) => [d.activity, d.group.count, d.window])).toEqual([
      ['create', 3, '2024-03-01T00:00:00.000Z'],
      ['create', 1, undefined],
    ]);
  });
});

describe('Alert policy: exactly-once counts', () => {
  it('gives one Create and the same counts when the same object is processed twice', async () => {
    // Prepare
    const { a } = freshKeys();
    const policy = policyWith();
    const input = {
      objectId: 's3://logs/batch-1.xml.gz#etag1',
      source: 'sysmon' as const,
      groups: [group(a, 3, T0, T0 + 5_000)],
    };

    // Act
    const first = await policy.decide(input);
    for (const d of first) await d.ack();
    const second = await policy.decide(input);

    // Assess
    expect(first.map(summary)).toEqual([
      {
        activity: 'create',
        count: 3,
        firstSeen: T0,
        lastSeen: T0 + 5_000,
        window: '2024-03-01T00:00:00.000Z',
      },
    ]);
    expect(second).toEqual([]);
    expect(await storedWindow(db.client, tableName, RULE_ID, a, WINDOW_0)).toMatchObject({
      count: 3,
      firstSeen: T0,
      lastSeen: T0 + 5_000,
    });
  });

  it('adds up counts, the earliest first seen and the latest last seen of two objects in one window, with one Create', async () => {
    // Prepare
    const { a } = freshKeys();
    const policy = policyWith({ threshold: 1 });

    // Act
    const first = await policy.decide({
      objectId: 's3://logs/b1#e1',
      source: 'falcon',
      groups: [group(a, 2, T0, T0 + 1_000)],
    });
    for (const d of first) await d.ack();
    // A late batch: its events are older than those already counted, and it has a later one too.
    const second = await policy.decide({
      objectId: 's3://logs/b2#e2',
      source: 'falcon',
      groups: [group(a, 1, T0 - 60_000, T0 - 60_000)],
    });
    const afterLate = await storedWindow(db.client, tableName, RULE_ID, a, WINDOW_0);
    const third = await policy.decide({
      objectId: 's3://logs/b3#e3',
      source: 'falcon',
      groups: [group(a, 1, T0 + 30_000, T0 + 30_000)],
    });

    // Assess
    expect(first.map((d) => d.activity)).toEqual(['create']);
    // Count 3 has not doubled the published 2: no message; count 4 has.
    expect(second).toEqual([]);
    // The late batch widened first seen and left last seen alone.
    expect(afterLate).toMatchObject({ count: 3, firstSeen: T0 - 60_000, lastSeen: T0 + 1_000 });
    expect(third.map(summary)).toEqual([
      {
        activity: 'update',
        count: 4,
        firstSeen: T0 - 60_000,
        lastSeen: T0 + 30_000,
        window: '2024-03-01T00:00:00.000Z',
      },
    ]);
    expect(await storedWindow(db.client, tableName, RULE_ID, a, WINDOW_0)).toMatchObject({
      count: 4,
      firstSeen: T0 - 60_000,
      lastSeen: T0 + 30_000,
    });
  });

  it('counts both groups exactly when a crash between two group updates is followed by a retry', async () => {
    // Prepare: the function dies right after the first group's counting write returned.
    const { a, b } = freshKeys();
    let counted = 0;
    let dead = false;
    const crashing: DynamoSend = {
      send: (async (command: { input: { ConditionExpression?: string } }) => {
        const counting = command.input.ConditionExpression?.includes('NOT contains') === true;
        if (dead || (counting && counted > 0)) throw new Error('injected crash');
        if (counting) counted++;
        const out = await db.client.send(command as never);
        if (counting) dead = true;
        return out;
      }) as DynamoSend['send'],
    };
    const input = {
      objectId: 's3://logs/crash#e1',
      source: 'sysmon' as const,
      groups: [group(a, 5, T0, T0 + 10), group(b, 7, T0 + 20, T0 + 30)],
    };

    // Act
    const crashed = await policyWith({ client: crashing })
      .decide(input)
      .then(
        () => 'no crash',
        (err: Error) => err.message,
      );
    const afterCrash = [
      (await storedWindow(db.client, tableName, RULE_ID, a, WINDOW_0)).count,
      (await storedWindow(db.client, tableName, RULE_ID, b, WINDOW_0)).count,
    ];
    const retried = await policyWith().decide(input);

    // Assess
    expect(crashed).toBe('injected crash');
    expect(afterCrash.filter((n) => n > 0)).toHaveLength(1); // the crash fell between the groups
    expect(retried.map((d) => [d.group.key.process, d.activity, d.group.count])).toEqual([
      ['powershell.exe', 'create', 5],
      ['certutil.exe', 'create', 7],
    ]);
    expect(await storedWindow(db.client, tableName, RULE_ID, a, WINDOW_0)).toMatchObject({
      count: 5,
      firstSeen: T0,
      lastSeen: T0 + 10,
    });
    expect(await storedWindow(db.client, tableName, RULE_ID, b, WINDOW_0)).toMatchObject({
      count: 7,
      firstSeen: T0 + 20,
      lastSeen: T0 + 30,
    });
  });

  it('widens first seen on the retry when a crash came between the count and the widening', async () => {
    // Prepare: the second object brings an earlier event; the function dies before widening.
    const { a } = freshKeys();
    await policyWith().decide({ objectId: 'o1', source: 'sysmon', groups: [group(a, 1, T0)] });
    const crashing: DynamoSend = {
      send: (async (command: { input: { ConditionExpression?: string } }) => {
        if (command.input.ConditionExpression === '#a > :v') throw new Error('injected crash');
        return db.client.send(command as never);
      }) as DynamoSend['send'],
    };
    const input = {
      objectId: 'o2',
      source: 'sysmon' as const,
      groups: [group(a, 2, T0 - 1_000, T0 + 1_000)],
    };

    // Act
    await expect(policyWith({ client: crashing }).decide(input)).rejects.toThrow('injected crash');
    const retried = await policyWith().decide(input);

    // Assess
    expect(retried.map(summary)).toEqual([
      {
        activity: 'create',
        count: 3,
        firstSeen: T0 - 1_000,
        lastSeen: T0 + 1_000,
        window: '2024-03-01T00:00:00.000Z',
      },
    ]);
    expect(await storedWindow(db.client, tableName, RULE_ID, a, WINDOW_0)).toMatchObject({
      count: 3,
      firstSeen: T0 - 1_000,
      lastSeen: T0 + 1_000,
    });
  });

  it('loses no count when 20 functions update one group at once', async () => {
    // Prepare: 20 invocations (own policy instances), objects of 1..20 events.
    const { a } = freshKeys();
    const invocations = Array.from({ length: 20 }, (_, i) => ({
      policy: policyWith(),
      input: {
        objectId: `s3://logs/concurrent-${i}#e`,
        source: 'falcon' as const,
        groups: [group(a, i + 1, T0 + i * 1_000)],
      },
    }));

    // Act
    const results = await Promise.all(invocations.map(({ policy, input }) => policy.decide(input)));

    // Assess
    expect(await storedWindow(db.client, tableName, RULE_ID, a, WINDOW_0)).toMatchObject({
      count: 210, // 1 + 2 + ... + 20
      firstSeen: T0,
      lastSeen: T0 + 19_000,
    });
    // Nothing was acknowledged, so every invocation still sees the Create as due.
    expect(results.flat().map((d) => d.activity)).toEqual(Array(20).fill('create'));
  });

  it('still counts each object once when a window continues in further items', async () => {
    // Prepare: two objects per item, so five objects take three items.
    const { a } = freshKeys();
    const policy = policyWith({ maxObjectsPerItem: 2 });
    const inputs = [1, 2, 3, 4, 5].map((n) => ({
      objectId: `s3://logs/chain-${n}#e`,
      source: 'sysmon' as const,
      groups: [group(a, n, T0 + n * 1_000)],
    }));

    // Act
    for (const input of inputs) await policy.decide(input);
    for (const input of inputs) await policy.decide(input); // every object redelivered
    const last = await policy.decide({
      objectId: 's3://logs/chain-6#e',
      source: 'sysmon',
      groups: [group(a, 1, T0 - 1_000)],
    });

    // Assess
    expect(last.map(summary)).toEqual([
      {
        activity: 'create',
        count: 16, // 1 + 2 + 3 + 4 + 5 + 1
        firstSeen: T0 - 1_000,
        lastSeen: T0 + 5_000,
        window: '2024-03-01T00:00:00.000Z',
      },
    ]);
    expect(await storedWindow(db.client, tableName, RULE_ID, a, WINDOW_0)).toEqual({
      count: 16,
      firstSeen: T0 - 1_000,
      lastSeen: T0 + 5_000,
      items: 3,
    });
  });
});

describe('Alert policy: publishing and acknowledgement', () => {
  it.each([
    [1, [1, 2, 4, 8]],
    [3, [3, 6, 12]],
  ])(
    'with threshold %i publishes at counts %j when objects of one event arrive',
    async (threshold, expected) => {
      // Prepare
      const { a } = freshKeys();
      const policy = policyWith({ threshold });
      const publishedAt: number[] = [];

      // Act
      for (let n = 1; n <= 12; n++) {
        const decisions = await policy.decide({
          objectId: `s3://logs/doubling-${n}#e`,
          source: 'sysmon',
          groups: [group(a, 1, T0 + n)],
        });
        for (const d of decisions) {
          publishedAt.push(d.group.count);
          await d.ack();
        }
      }

      // Assess
      expect(publishedAt).toEqual(expected);
    },
  );

  it('returns an alert whose publish failed again when the object is retried', async () => {
    // Prepare
    const { a } = freshKeys();
    const policy = policyWith();
    const input = {
      objectId: 's3://logs/unacked#e',
      source: 'falcon' as const,
      groups: [group(a, 2, T0)],
    };

    // Act
    const first = await policy.decide(input); // the SNS publish fails: no ack
    const retry = await policy.decide(input);
    for (const d of retry) await d.ack();
    const afterAck = await policy.decide(input);

    // Assess
    expect(first.map(summary)).toEqual(retry.map(summary));
    expect(retry.map((d) => [d.activity, d.group.count])).toEqual([['create', 2]]);
    expect(afterAck).toEqual([]);
    expect((await storedWindow(db.client, tableName, RULE_ID, a, WINDOW_0)).count).toBe(2);
  });

  it('keeps the larger count when two racing publishers acknowledge', async () => {
    // Prepare: two objects decide before either publisher acknowledged.
    const { a } = freshKeys();
    const policy = policyWith();
    const decideOne = (n: number) =>
      policy.decide({
        objectId: `s3://logs/race-${n}#e`,
        source: 'sysmon',
        groups: [group(a, 1, T0 + n)],
      });
    const [one] = await decideOne(1);
    const [two] = await decideOne(2);

    // Act: the publisher of count 2 acknowledges first, then the one of count 1.
    await two?.ack();
    await one?.ack();
    const three = await decideOne(3);
    const four = await decideOne(4);

    // Assess
    expect([one?.activity, one?.group.count, two?.activity, two?.group.count]).toEqual([
      'create',
      1,
      'create',
      2,
    ]);
    expect(three).toEqual([]); // 3 < 2 × 2: the stale ack of 1 did not lower the record
    expect(four.map((d) => [d.activity, d.group.count])).toEqual([['update', 4]]);
  });
});

describe('Alert policy: event-time windows', () => {
  const rule = defaultRule();
  const aid = '3a1ffb9e518ceb7760a187aef5f7a457';
  const line = (fields: Record<string, string>) => JSON.stringify({ aid, ...fields });
  // A powershell process, its aidmaster host, and DNS requests on 2020-10-22 and a day earlier.
  const falcon = [
    line({ ComputerName: 'WORKSTATION5', event_platform: 'Win' }),
    line({
      event_simpleName: 'ProcessRollup2',
      TargetProcessId: '22013773145188',
      ImageFileName:
        '\\Device\\HarddiskVolume2\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      UserName: 'wardog',
      timestamp: '1603266700000',
    }),
    ...['1603353124.335', '1603353130.500', '1603266724.100'].map((t) =>
      line({
        event_simpleName: 'DnsRequest',
        DomainName: 'raw.githubusercontent.com.',
        ContextProcessId: '22013773145188',
        ContextTimeStamp: t,
        timestamp: String(Math.round(Number(t) * 1000)),
      }),
    ),
  ].join('\n');

  it('opens its own window, with its own finding id, for an event a day older than the rest', async () => {
    // Prepare
    const scan = await scanObject(
      (async function* () {
        yield Buffer.from(falcon);
      })(),
      { origin: 'test://late', sources: SOURCE_PLUGINS, rule, windowMs: DAY_MS },
    );
    const policy = createDynamoAlertPolicy({
      client: db.client,
      tableName,
      ruleId: rule.rule.id,
      windowMs: DAY_MS,
    });

    // Act
    const decisions = await policy.decide({
      objectId: 'test://late#1',
      source: 'falcon',
      groups: scan.groups,
    });
    const uids = decisions.map(
      (d) =>
        buildFinding(rule.rule, d.group, { activity: d.activity, window: d.window as string })
          .finding_info.uid,
    );

    // Assess
    expect(decisions.map(summary).sort((x, y) => x.firstSeen - y.firstSeen)).toEqual([
      {
        activity: 'create',
        count: 1,
        firstSeen: Date.parse('2020-10-21T07:52:04.100Z'),
        lastSeen: Date.parse('2020-10-21T07:52:04.100Z'),
        window: '2020-10-21T00:00:00.000Z',
      },
      {
        activity: 'create',
        count: 2,
        firstSeen: Date.parse('2020-10-22T07:52:04.335Z'),
        lastSeen: Date.parse('2020-10-22T07:52:10.500Z'),
        window: '2020-10-22T00:00:00.000Z',
      },
    ]);
    expect(new Set(uids).size).toBe(2);
  });

  it.each([
    ['spans two windows', { ...group(KEY_A, 2, T0), lastSeen: T0 + DAY_MS }],
    [
      'has a window start the policy does not use',
      { ...group(KEY_A, 1, T0), windowStart: WINDOW_0 + 1 },
    ],
  ])('rejects a group that %s', async (_, bad) => {
    // Act
    const result = policyWith().decide({ objectId: 'o', source: 'sysmon', groups: [bad] });

    // Assess
    await expect(result).rejects.toBeInstanceOf(StateInputError);
  });
});

describe('Alert policy: expiry', () => {
  /** The `expiresAt` of a window's first item, read straight from the table. */
  async function expiresAt(key: typeof KEY_A, windowStart: number): Promise<number> {
    const res = await db.client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: {
          pk: { S: alertPk(RULE_ID, key) },
          sk: { S: windowSk(new Date(windowStart).toISOString(), 0) },
        },
        ConsistentRead: true,
      }),
    );
    return Number(res.Item?.expiresAt?.N);
  }

  it('dates the expiry of a backfill of old events from when it is written, not from the events', async () => {
    // Prepare: events 30 days before "now", a TTL of 7 days.
    const { a } = freshKeys();
    const now = T0 + 30 * DAY_MS;
    const policy = policyWith({ now: () => now, ttlSeconds: 7 * 86_400 });

    // Act
    await policy.decide({ objectId: 'backfill#1', source: 'sysmon', groups: [group(a, 1, T0)] });

    // Assess
    expect(await expiresAt(a, WINDOW_0)).toBe(Math.ceil(now / 1000) + 7 * 86_400);
  });

  it('keeps the expiry of a current window at the end of the window plus the TTL', async () => {
    // Prepare
    const { a } = freshKeys();
    const policy = policyWith({ now: () => T0, ttlSeconds: 3_600 });

    // Act
    await policy.decide({ objectId: 'current#1', source: 'sysmon', groups: [group(a, 1, T0)] });

    // Assess
    expect(await expiresAt(a, WINDOW_0)).toBe((WINDOW_0 + DAY_MS) / 1000 + 3_600);
  });
});
