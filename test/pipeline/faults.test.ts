/**
 * The functions under faults: the real handler with STATE_TABLE, its own AWS clients pointed at
 * fault-injecting proxies in front of fauxqs (S3, SNS) and dynalite (DynamoDB), and SQS-style
 * redelivery of what `batchItemFailures` names. Each scenario ends with every expected alert
 * delivered exactly once.
 */
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localContext, type ReceivedAlert, receiveAlerts } from '../../lib/cli/local-stack.ts';
import { createS3BatchHandler, type S3BatchHandler } from '../../lib/pipeline/index.ts';
import { powershellQuerying } from '../helpers/falcon-records.ts';
import {
  DYNAMO_THROTTLE,
  dynamo,
  type FaultProxy,
  rejectPublishEntries,
  sns,
} from '../helpers/fault-proxy.ts';
import {
  type FaultStack,
  type LoggedLine,
  recordingLogger,
  startFaultStack,
} from '../helpers/fault-stack.ts';
import { type LocalStack, putObject } from '../helpers/fauxqs.ts';
import { runHandlerProcess } from '../helpers/handler-process.ts';
import { s3EventFor, sqsBatch } from '../helpers/notifications.ts';
import { deliverUntilDone } from '../helpers/redelivery.ts';

let faults: FaultStack;
let stack: LocalStack;
let aws: FaultProxy;
let ddb: FaultProxy;
let env: Record<string, string>;
let logged: LoggedLine[];

beforeAll(async () => {
  faults = await startFaultStack();
  ({ stack, aws, ddb } = faults);
});
afterAll(async () => {
  await faults?.stop();
});
beforeEach(async () => {
  logged = [];
  env = await faults.reset();
  await receiveAlerts(stack);
});

function handlerWith(extra: Partial<Parameters<typeof createS3BatchHandler>[0]> = {}) {
  return createS3BatchHandler({
    source: 'falcon',
    env,
    logger: recordingLogger(logged),
    metrics: { addMetric() {}, publishStoredMetrics() {} },
    publish: { baseDelayMs: 1 },
    ...extra,
  });
}

/** Puts a Falcon object with one powershell group per domain; returns its one-message batch. */
async function objectQuerying(key: string, domains: readonly string[]): Promise<SQSEvent> {
  const object = await putObject(stack, key, powershellQuerying(domains));
  return sqsBatch([JSON.stringify(s3EventFor(object))]);
}

const domainsOf = (alerts: ReceivedAlert[]) => alerts.map((a) => a.finding.unmapped.domain).sort();
const names = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}.pastebin.com`);

describe('Faults: publishing exactly once', () => {
  it('retries a PublishBatch entry rejected once, alone; every alert arrives once', async () => {
    // Prepare
    const event = await objectQuerying('falcon/rejected-once.ndjson', names('r', 3));
    aws.add({ match: sns('PublishBatch'), fault: rejectPublishEntries((e) => [e[0]!.index]) });

    // Act
    const run = await deliverUntilDone(handlerWith(), event);
    const alerts = await receiveAlerts(stack, { expected: 3, waitMs: 1_000 });

    // Assess
    expect(aws.injected).toEqual(['PublishBatch:rewrite']);
    expect(run.receives).toBe(1);
    expect(domainsOf(alerts)).toEqual(names('r', 3));
  });

  it('fails an object whose entry fails five times; the retry re-sends only that entry', async () => {
    // Prepare: the entry for r1 fails with a server error on every one of the five attempts.
    const event = await objectQuerying('falcon/failing-entry.ndjson', names('r', 3));
    aws.add({
      match: (r) => sns('PublishBatch')(r) && r.body.includes('r1.pastebin.com'),
      fault: rejectPublishEntries((entries) =>
        entries.filter((e) => e.message.includes('r1.pastebin.com')).map((e) => e.index),
      ),
      times: 5,
    });

    // Act
    const run = await deliverUntilDone(handlerWith(), event);
    const alerts = await receiveAlerts(stack, { expected: 3, waitMs: 1_000 });

    // Assess
    expect(run.receives).toBe(2);
    expect(run.deadLettered).toEqual([]);
    expect(domainsOf(alerts)).toEqual(names('r', 3));
    const failure = logged.find((l) => l.level === 'error');
    expect(failure?.fields).toMatchObject({
      stage: 'publish',
      failedService: 'SNS',
      alerts: 3,
      alertsPublished: 2,
      alertsAcknowledged: 2,
      alertsToResend: 1,
    });
  });

  it('retries an acknowledgement write throttled ten times until it is recorded; nothing twice', async () => {
    // Prepare: the UpdateItem that records a publish (it sets #published) is throttled 10 times.
    const event = await objectQuerying('falcon/ack-throttled.ndjson', names('t', 3));
    ddb.add({
      match: dynamo('UpdateItem', (r) => r.body.includes('#published')),
      fault: DYNAMO_THROTTLE,
      times: 10,
    });

    // Act
    const run = await deliverUntilDone(handlerWith(), event);
    const alerts = await receiveAlerts(stack, { expected: 3, waitMs: 1_000 });

    // Assess
    expect(ddb.injected).toHaveLength(10);
    expect(run.receives).toBe(1);
    expect(domainsOf(alerts)).toEqual(names('t', 3));
  });

  it('re-sends a batch whose answer was lost with the same uid, activity and count (the dedup key)', async () => {
    // Prepare: SNS accepts the PublishBatch but the answer never reaches the function.
    const event = await objectQuerying('falcon/lost-answer.ndjson', names('l', 1));
    aws.add({ match: sns('PublishBatch'), fault: { kind: 'lose-response' } });

    // Act
    const run = await deliverUntilDone(handlerWith(), event);
    const alerts = await receiveAlerts(stack, { expected: 2, waitMs: 1_000 });

    // Assess: the one duplicate that cannot be known carries the same deduplication key
    expect(run.receives).toBe(1);
    expect(alerts).toHaveLength(2);
    const keys = alerts.map((a) => [
      a.finding.finding_info.uid,
      a.finding.activity_id,
      a.finding.count,
    ]);
    expect(keys[0]).toEqual(keys[1]);
  });

  it('times out a stalled PublishBatch and retries it; the alert arrives once', async () => {
    // Prepare
    const event = await objectQuerying('falcon/stalled-publish.ndjson', names('s', 1));
    aws.add({ match: sns('PublishBatch'), fault: { kind: 'stall' } });
    const started = Date.now();

    // Act
    const run = await deliverUntilDone(
      handlerWith({ clientTimeouts: { requestTimeoutMs: 500 } }),
      event,
    );
    const alerts = await receiveAlerts(stack, { expected: 1, waitMs: 1_000 });

    // Assess
    expect(run.receives).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(domainsOf(alerts)).toEqual(names('s', 1));
  });

  it('stops before a publish chunk the time left cannot cover; the retry sends the rest, once', async () => {
    // Prepare: 250 alerts (three chunks); after the first chunk's ten PublishBatch requests
    // the invocation has 1 s left, less than its 3 s step reserve (5% of 60 s).
    const event = await objectQuerying('falcon/short-of-time.ndjson', names('b', 250));
    let first = true;
    const context = () => {
      const ctx = localContext('t1102-falcon');
      if (!first) return ctx;
      first = false;
      const before = aws.seen.filter((op) => op === 'PublishBatch').length;
      const published = () => aws.seen.filter((op) => op === 'PublishBatch').length - before;
      return { ...ctx, getRemainingTimeInMillis: () => (published() >= 10 ? 1_000 : 60_000) };
    };

    // Act
    const run = await deliverUntilDone(handlerWith(), event, { context });
    const alerts = await receiveAlerts(stack, { expected: 250, waitMs: 2_000 });

    // Assess
    expect(run.receives).toBe(2);
    expect(alerts).toHaveLength(250);
    expect(domainsOf(alerts)).toEqual(names('b', 250).sort());
    const stop = logged.find((l) => l.level === 'error');
    expect(stop?.fields).toMatchObject({
      stage: 'publish',
      alerts: 250,
      alertsPublished: 100,
      alertsAcknowledged: 100,
      alertsToResend: 150,
    });
    expect(String(stop?.fields.error)).toMatch(/less than the 3000 ms one publish step may take/);
  }, 180_000);
});

/**
 * Holds the GetObject of `keyPart` until two invocations have tried to claim an object, so the
 * two deliveries overlap for certain.
 */
function holdReadUntilTwoClaims(keyPart: string, maxMs: number): void {
  let claims = 0;
  ddb.add({
    match: dynamo('UpdateItem', (r) => r.body.includes('INPROGRESS')),
    fault: () => {
      claims++;
      return undefined;
    },
    times: Number.POSITIVE_INFINITY,
  });
  aws.add({
    match: (r) => r.method === 'GET' && r.url.includes(keyPart),
    fault: { kind: 'hold', until: () => claims >= 2, maxMs },
  });
}

describe('Faults: one object, two deliveries at once', () => {
  it('publishes once when two invocations in one process get the same object', async () => {
    // Prepare: the object's GetObject waits until both invocations have tried to claim it.
    const event = await objectQuerying('falcon/twice-at-once.ndjson', names('c', 2));
    holdReadUntilTwoClaims('twice-at-once', 10_000);
    const handler = handlerWith();
    const second: SQSEvent = { Records: [{ ...event.Records[0]!, messageId: 'msg-dup' }] };

    // Act
    const runs = await Promise.all([
      deliverUntilDone(handler, event, { visibilityTimeoutMs: 500 }),
      deliverUntilDone(handler, second, { visibilityTimeoutMs: 500 }),
    ]);
    const alerts = await receiveAlerts(stack, { expected: 3, waitMs: 1_000 });

    // Assess: one backed off (it found the other's claim), was retried, and found it done
    const receives = runs.map((r) => r.receives).sort();
    expect(receives[0]).toBe(1);
    expect(receives[1]).toBeGreaterThanOrEqual(2);
    expect(runs.flatMap((r) => r.deadLettered)).toEqual([]);
    expect(domainsOf(alerts)).toEqual(names('c', 2));
    expect(logged.map((l) => l.message)).toContain(
      'object is being processed by another invocation; backing off',
    );
  });

  it('publishes once when two processes get the same object', async () => {
    // Prepare: as above, the other invocation running in a node process of its own.
    const event = await objectQuerying('falcon/two-processes.ndjson', names('p', 2));
    holdReadUntilTwoClaims('two-processes', 20_000);
    const handler: S3BatchHandler = handlerWith();

    // Act
    const [child, here] = await Promise.all([
      runHandlerProcess({ source: 'falcon', env, event }),
      deliverUntilDone(handler, event, { maxReceives: 1 }),
    ]);
    const childFailed = (child.response?.batchItemFailures.length ?? 0) > 0;
    const hereFailed = here.responses[0]!.batchItemFailures.length > 0;
    // SQS hands the message that failed to someone again, after its visibility timeout.
    const retry = await deliverUntilDone(handler, event);
    const alerts = await receiveAlerts(stack, { expected: 3, waitMs: 1_000 });

    // Assess
    expect(child.error).toBeUndefined();
    expect([childFailed, hereFailed].filter(Boolean)).toHaveLength(1);
    expect(retry.responses[0]!.batchItemFailures).toEqual([]);
    expect(domainsOf(alerts)).toEqual(names('p', 2));
  });
});
