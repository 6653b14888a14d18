/**
 * Floods of alert groups in one object, run by the real handler in a node process started with
 * the heap flags of a 1,024 MB Lambda function, against fauxqs behind a proxy that gives every
 * PublishBatch a realistic latency: the object succeeds, memory stays bounded, and what is published is the capped findings plus one summary per host,
 * process and listed domain.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handlerEnv, type ReceivedAlert, receiveAlerts } from '../../lib/cli/local-stack.ts';
import { DEFAULT_MAX_ALERT_GROUPS } from '../../lib/pipeline/index.ts';
import { lambdaHeapFlags } from '../bench/lambda-heap.ts';
import { aidmaster, dnsRequest, FDR_T0, powershell } from '../helpers/falcon-records.ts';
import { type FaultProxy, sns, startFaultProxy } from '../helpers/fault-proxy.ts';
import { type LocalStack, putObject, startTestStack } from '../helpers/fauxqs.ts';
import { runHandlerProcess } from '../helpers/handler-process.ts';
import { s3EventFor, sqsBatch } from '../helpers/notifications.ts';

/** Matches in each flood. */
const FLOOD = 100_000;
/**
 * Peak RSS allowed for the whole function process (runtime, SDK, emulator clients, engine):
 * half the 1,024 MB function. Without the cap, 100,000 groups ran it out of heap.
 */
const MAX_RSS_MIB = 512;

/** Latency the proxy adds to every PublishBatch, ms: SNS's, roughly, in one region. */
const PUBLISH_LATENCY_MS = 20;

let stack: LocalStack;
let proxy: FaultProxy;

beforeAll(async () => {
  stack = await startTestStack();
  proxy = await startFaultProxy(stack.endpoint);
  proxy.add({
    match: sns('PublishBatch'),
    fault: { kind: 'delay', ms: PUBLISH_LATENCY_MS },
    times: Number.POSITIVE_INFINITY,
  });
});
afterAll(async () => {
  await proxy?.stop();
  await stack?.stop();
});
beforeEach(async () => {
  await receiveAlerts(stack);
});

/** A deterministic stand-in for random names: 8 letters from a linear congruential sequence. */
function randomLabel(i: number): string {
  let x = (i * 2_654_435_761) >>> 0;
  let s = '';
  for (let k = 0; k < 8; k++) {
    x = (x * 1_103_515_245 + 12_345) >>> 0;
    s += String.fromCharCode(97 + (x % 26));
  }
  return `${s}${i.toString(36)}`;
}

async function runFlood(key: string, text: string) {
  const object = await putObject(stack, key, gzipSync(Buffer.from(text)));
  const run = await runHandlerProcess(
    {
      source: 'falcon',
      env: { ...handlerEnv(stack), AWS_ENDPOINT_URL: proxy.endpoint },
      event: sqsBatch([JSON.stringify(s3EventFor(object))]),
    },
    lambdaHeapFlags(1024),
  );
  return run;
}

const isSummary = (a: ReceivedAlert) => a.finding.unmapped.summary !== undefined;

describe('Floods: bounded output and memory under a 1,024 MB function', () => {
  it('caps 100,000 random names under one listed domain from one process at the cap plus one summary', async () => {
    // Prepare
    const lines = [aidmaster('a1', 'WKS-7'), powershell('a1', '1000')];
    for (let i = 0; i < FLOOD; i++) {
      lines.push(dnsRequest('a1', '1000', `${randomLabel(i)}.firebaseio.com`, FDR_T0 + 500 + i));
    }

    // Act
    const run = await runFlood('falcon/firebase-flood.ndjson.gz', `${lines.join('\n')}\n`);
    const alerts = await receiveAlerts(stack, {
      expected: DEFAULT_MAX_ALERT_GROUPS + 1,
      waitMs: 60_000,
    });

    // Assess
    expect(run.error).toBeUndefined();
    expect(run.response).toEqual({ batchItemFailures: [] });
    expect(run.maxRssMiB).toBeLessThan(MAX_RSS_MIB);
    expect(alerts).toHaveLength(DEFAULT_MAX_ALERT_GROUPS + 1);
    const summaries = alerts.filter(isSummary);
    expect(summaries).toHaveLength(1);
    const [summary] = summaries;
    expect(summary!.finding.unmapped.domain).toBe('*.firebaseio.com');
    expect(summary!.finding.device.hostname).toBe('WKS-7');
    expect(summary!.finding.actor.process.name).toBe('powershell.exe');
    expect(summary!.finding.count).toBe(FLOOD - DEFAULT_MAX_ALERT_GROUPS);
    const total = alerts.reduce((n, a) => n + a.finding.count, 0);
    expect(total).toBe(FLOOD);
  }, 180_000);

  it('caps 100,000 distinct groups over 100 hosts at the cap plus one summary per host and listed domain', async () => {
    // Prepare: 100 hosts, one powershell each, 1,000 names each under two listed domains.
    const lines: string[] = [];
    const listed = ['pastebin.com', 'discord.com'];
    for (let h = 0; h < 100; h++) {
      lines.push(aidmaster(`aid${h}`, `HOST-${h}`), powershell(`aid${h}`, '1000'));
    }
    for (let i = 0; i < FLOOD; i++) {
      const h = i % 100;
      const domain = `n${i}.${listed[Math.floor(i / 100) % 2]}`;
      lines.push(dnsRequest(`aid${h}`, '1000', domain, FDR_T0 + 500 + i));
    }

    // Act
    const run = await runFlood('falcon/group-flood.ndjson.gz', `${lines.join('\n')}\n`);
    const alerts = await receiveAlerts(stack, {
      expected: DEFAULT_MAX_ALERT_GROUPS + 200,
      waitMs: 60_000,
    });

    // Assess
    expect(run.error).toBeUndefined();
    expect(run.response).toEqual({ batchItemFailures: [] });
    expect(run.maxRssMiB).toBeLessThan(MAX_RSS_MIB);
    const summaries = alerts.filter(isSummary);
    expect(alerts.length - summaries.length).toBe(DEFAULT_MAX_ALERT_GROUPS);
    expect(summaries).toHaveLength(200);
    expect(new Set(summaries.map((a) => a.finding.unmapped.domain))).toEqual(
      new Set(['*.pastebin.com', '*.discord.com']),
    );
    expect(alerts.reduce((n, a) => n + a.finding.count, 0)).toBe(FLOOD);
  }, 180_000);
});
