/**
 * Context that waits: a Falcon export split over two objects, the powershell process and its
 * `aidmaster` host in A, its DNS requests in B, run by the real handler with STATE_TABLE against
 * fauxqs and dynalite behind fault-injecting proxies, in every order. Each ends with the one
 * expected alert delivered exactly once.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ReceivedAlert, receiveAlerts } from '../../lib/cli/local-stack.ts';
import { createS3BatchHandler } from '../../lib/pipeline/index.ts';
import { aidmaster, dnsRequest, FDR_T0, powershell } from '../helpers/falcon-records.ts';
import { dynamo, type FaultProxy, rejectPublishEntries, sns } from '../helpers/fault-proxy.ts';
import {
  type FaultStack,
  type LoggedLine,
  recordingLogger,
  startFaultStack,
} from '../helpers/fault-stack.ts';
import { type LocalStack, putObject } from '../helpers/fauxqs.ts';
import { s3EventFor, sqsBatch } from '../helpers/notifications.ts';
import { deliverUntilDone } from '../helpers/redelivery.ts';

/** A: the process and its host. B: three DNS requests of that process to pastebin.com. */
const A = `${[aidmaster('a1', 'WKS-7'), powershell('a1', '4242')].join('\n')}\n`;
const B = `${[0, 1, 2].map((i) => dnsRequest('a1', '4242', 'pastebin.com', FDR_T0 + 1_000 + i)).join('\n')}\n`;

let faults: FaultStack;
let stack: LocalStack;
let ddb: FaultProxy;
let env: Record<string, string>;
let logged: LoggedLine[];

beforeAll(async () => {
  faults = await startFaultStack();
  ({ stack, ddb } = faults);
});
afterAll(async () => {
  await faults?.stop();
});
beforeEach(async () => {
  logged = [];
  env = await faults.reset();
  await receiveAlerts(stack);
});

function handler() {
  return createS3BatchHandler({
    source: 'falcon',
    env,
    logger: recordingLogger(logged),
    metrics: { addMetric() {}, publishStoredMetrics() {} },
  });
}

let run = 0;
/** Puts A and B under keys of their own and returns each one's notification body. */
async function putExport(): Promise<{ a: string; b: string }> {
  run++;
  const [a, b] = await Promise.all([
    putObject(stack, `falcon/export-${run}/part-a.ndjson`, A),
    putObject(stack, `falcon/export-${run}/part-b.ndjson`, B),
  ]);
  return { a: JSON.stringify(s3EventFor(a)), b: JSON.stringify(s3EventFor(b)) };
}

/** The one alert the export should give, as WKS-7's powershell querying pastebin.com 3 times. */
function expectTheAlert(alerts: ReceivedAlert[]): void {
  expect(alerts).toHaveLength(1);
  const f = alerts[0]!.finding;
  expect([f.device.hostname, f.actor.user.name, f.actor.process.name, f.unmapped.domain]).toEqual([
    'WKS-7',
    'jdoe',
    'powershell.exe',
    'pastebin.com',
  ]);
  expect(f.count).toBe(3);
  expect(f.unmapped.provenance[0]!.origin).toMatch(/part-b\.ndjson$/);
}

describe('Context that waits: a Falcon export split over two objects', () => {
  it('alerts when A (the context) comes first', async () => {
    // Prepare
    const { a, b } = await putExport();
    const h = handler();

    // Act
    await deliverUntilDone(h, sqsBatch([a]));
    await deliverUntilDone(h, sqsBatch([b]));

    // Assess
    expectTheAlert(await receiveAlerts(stack, { expected: 2, waitMs: 1_000 }));
  });

  it('alerts when B (the DNS requests) comes first: B waits, A resolves it', async () => {
    // Prepare
    const { a, b } = await putExport();
    const h = handler();

    // Act
    await deliverUntilDone(h, sqsBatch([b]));
    const before = await receiveAlerts(stack, { waitMs: 200 });
    await deliverUntilDone(h, sqsBatch([a]));

    // Assess
    expect(before).toEqual([]);
    expect(
      logged.find((l) => l.fields.key === `falcon/export-${run}/part-b.ndjson`)?.fields,
    ).toMatchObject({ candidatesWaiting: 3 });
    expectTheAlert(await receiveAlerts(stack, { expected: 2, waitMs: 1_000 }));
  });

  it.each([
    ['A, B', false],
    ['B, A', true],
  ])('alerts when %s come in one batch', async (_, reversed) => {
    // Prepare
    const { a, b } = await putExport();

    // Act
    const result = await deliverUntilDone(handler(), sqsBatch(reversed ? [b, a] : [a, b]));

    // Assess
    expect(result.receives).toBe(1);
    expectTheAlert(await receiveAlerts(stack, { expected: 2, waitMs: 1_000 }));
  });

  it('alerts when A and B go to parallel invocations', async () => {
    // Prepare: two functions (containers), each with its own clients and caches.
    const { a, b } = await putExport();

    // Act
    await Promise.all([
      deliverUntilDone(handler(), sqsBatch([a])),
      deliverUntilDone(handler(), sqsBatch([b])),
    ]);

    // Assess
    expectTheAlert(await receiveAlerts(stack, { expected: 2, waitMs: 1_000 }));
  });

  it("alerts when A's context save fails once: A is retried after B waited", async () => {
    // Prepare: every attempt of A's save (the SDK's retries too) answered 500 while `failing`.
    const { a, b } = await putExport();
    let failing = true;
    const serverError = {
      kind: 'status',
      status: 500,
      contentType: 'application/x-amz-json-1.0',
      body: JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
        message: 'injected',
      }),
    } as const;
    ddb.add({
      match: dynamo('BatchWriteItem', (r) => r.body.includes('process#')),
      fault: () => (failing ? serverError : undefined),
      times: Number.POSITIVE_INFINITY,
    });
    const h = handler();

    // Act
    const first = await h(sqsBatch([a]));
    failing = false;
    await deliverUntilDone(h, sqsBatch([b]));
    const retry = await deliverUntilDone(h, sqsBatch([a]));

    // Assess
    expect(first.batchItemFailures).toHaveLength(1);
    const failure = logged.find((l) => l.message.startsWith('object failed'));
    expect(failure?.fields).toMatchObject({ stage: 'context', failedService: 'DynamoDB' });
    expect(retry.responses[0]!.batchItemFailures).toEqual([]);
    expectTheAlert(await receiveAlerts(stack, { expected: 2, waitMs: 1_000 }));
  });
});

describe('Context that waits: retries', () => {
  it('does not resolve again, on its retry, candidates another object resolved after it failed', async () => {
    // Prepare: B also holds a group of its own (discord.com), whose publish fails five times,
    // so B fails after keeping its pastebin candidates waiting.
    run++;
    const own = [powershell('a1', '7'), dnsRequest('a1', '7', 'discord.com')];
    const bObject = await putObject(
      stack,
      `falcon/export-${run}/part-b.ndjson`,
      `${B}${own.join('\n')}\n`,
    );
    const aObject = await putObject(stack, `falcon/export-${run}/part-a.ndjson`, A);
    const b = JSON.stringify(s3EventFor(bObject));
    const a = JSON.stringify(s3EventFor(aObject));
    faults.aws.add({
      match: (r) => sns('PublishBatch')(r) && r.body.includes('discord.com'),
      fault: rejectPublishEntries((entries) => entries.map((e) => e.index)),
      times: 5,
    });
    const h = handler();

    // Act: B fails, A resolves B's candidates, B is retried
    const first = await h(sqsBatch([b]));
    await deliverUntilDone(h, sqsBatch([a]));
    const retry = await deliverUntilDone(h, sqsBatch([b]));
    const alerts = await receiveAlerts(stack, { expected: 3, waitMs: 1_000 });

    // Assess: pastebin once (count 3, resolved by A), discord once (B's retry)
    expect(first.batchItemFailures).toHaveLength(1);
    expect(retry.responses[0]!.batchItemFailures).toEqual([]);
    expect(alerts.map((x) => [x.finding.unmapped.domain, x.finding.count]).sort()).toEqual([
      ['discord.com', 1],
      ['pastebin.com', 3],
    ]);
  });
});

describe('Context that waits: without a state table', () => {
  it('says in the object line how many candidates were dropped for want of context', async () => {
    // Prepare
    const { b } = await putExport();
    const { STATE_TABLE: _none, ...stateless } = env;
    env = stateless;

    // Act
    await deliverUntilDone(handler(), sqsBatch([b]));

    // Assess
    const line = logged.find((l) => l.fields.key === `falcon/export-${run}/part-b.ndjson`);
    expect(line?.message).toBe(
      'object processed; 3 candidate(s) dropped for want of their process context (no state table to wait in)',
    );
    expect(line?.fields.candidatesDropped).toBe(3);
  });
});
