/**
 * The functions end to end against the emulator: an object in the bucket, a notification of each
 * shape, the real handler, and the alert as a subscriber of the topic receives it.
 */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import type { PublishBatchCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handlerEnv, localContext, receiveAlerts } from '../../lib/cli/local-stack.ts';
import {
  createS3BatchHandler,
  InvocationFailedError,
  MAX_SNS_MESSAGE_BYTES,
  type S3BatchHandler,
} from '../../lib/pipeline/index.ts';
import { S3_SLOW_DOWN, startFaultProxy } from '../helpers/fault-proxy.ts';
import {
  csvFields,
  datasetFile,
  expectedRows,
  importHandlers,
  type LocalStack,
  listKeys,
  putObject,
  readQuarantine,
  startTestStack,
} from '../helpers/fauxqs.ts';
import {
  notificationFor,
  SHAPES,
  type Shape,
  s3EventFor,
  sqsBatch,
} from '../helpers/notifications.ts';

// OTRF Security-Datasets (MIT), as converted in shared/datasets: one alert each.
const SYSMON_FILE = 'otrf-psh-mshta.wevtutil.xml.gz';
const FALCON_FILE = 'otrf-wmic-xsl.fdr.ndjson';
const sysmonBody = () => datasetFile(`sysmon/${SYSMON_FILE}`)!;
const falconBody = () => datasetFile(`falcon/${FALCON_FILE}`)!;

/** A Falcon FDR batch where one powershell group has `n` distinct command lines of `size` chars. */
function falconBatch(n: number, size: number): string {
  const lines = [
    JSON.stringify({ aid: 'a1', ComputerName: 'WKS-7', event_platform: 'Win', cid: 'c1' }),
  ];
  for (let i = 0; i < n; i++) {
    const pid = String(1000 + i);
    const t = 1_709_630_062_000 + i * 1000;
    lines.push(
      JSON.stringify({
        event_simpleName: 'ProcessRollup2',
        aid: 'a1',
        TargetProcessId: pid,
        ImageFileName:
          '\\Device\\HarddiskVolume2\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
        CommandLine: `powershell.exe -nop -enc ${String.fromCharCode(65 + i).repeat(size)}`,
        ParentBaseFileName: 'explorer.exe',
        UserName: 'jdoe',
        timestamp: String(t),
      }),
      JSON.stringify({
        event_simpleName: 'DnsRequest',
        aid: 'a1',
        ContextProcessId: pid,
        DomainName: 'pastebin.com.',
        timestamp: String(t + 500),
        ContextTimeStamp: `${(t + 500) / 1000}`,
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

let stack: LocalStack;
let handlers: Record<'sysmon' | 'falcon', S3BatchHandler>;

beforeAll(async () => {
  stack = await startTestStack();
  handlers = await importHandlers(stack);
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  await receiveAlerts(stack); // leave nothing from an earlier test on the subscription
});

describe('Functions: every notification shape', () => {
  it.each(SHAPES)(
    'alerts on an object announced by %s, key with spaces, + and non-ASCII',
    async (shape: Shape) => {
      // Prepare
      const source = shape === 'sqs-fdr' ? 'falcon' : 'sysmon';
      const [file, body] =
        source === 'falcon' ? [FALCON_FILE, falconBody()] : [SYSMON_FILE, sysmonBody()];
      const key =
        source === 'falcon'
          ? `data/${shape}/part 1+1 Ünïcode.gz`
          : `sysmon/${shape}/batch 1+1 Ünïcode ✓.xml.gz`;
      const object = await putObject(stack, key, body);
      const [host, user, process, domain, count, first, last] = csvFields(expectedRows(file)[0]!);

      // Act
      const response = await handlers[source](notificationFor(shape, object));
      const alerts = await receiveAlerts(stack, { expected: 1 });

      // Assess
      expect(response).toEqual({ batchItemFailures: [] });
      expect(alerts).toHaveLength(1);
      const [alert] = alerts;
      expect(alert!.attributes).toEqual({
        rule: 't1102-web-service',
        severity: 'High',
        technique: 'T1102',
        source,
        host,
        process,
        domain,
      });
      const f = alert!.finding;
      expect(f.class_uid).toBe(2004);
      expect(f.class_name).toBe('Detection Finding');
      expect(f.attacks[0]!.technique.uid).toBe('T1102');
      expect([
        f.device.hostname,
        f.actor.user.name,
        f.actor.process.name,
        f.unmapped.domain,
      ]).toEqual([host, user, process, domain]);
      expect(f.count).toBe(Number(count));
      expect(new Date(f.finding_info.first_seen_time).toISOString()).toBe(first);
      expect(new Date(f.finding_info.last_seen_time).toISOString()).toBe(last);
      expect(f.unmapped.provenance[0]!.origin).toBe(`s3://${stack.bucket}/${key}`);
      expect(alert!.subject).toBe(
        `T1102 web service C2: ${process} -> ${domain} on ${host} (${count}x)`,
      );
    },
  );

  it('reads the same delivery with raw message delivery on the subscription', async () => {
    // Prepare
    const raw = await startTestStack({ rawDelivery: true });
    try {
      const handler = createS3BatchHandler({
        source: 'sysmon',
        env: handlerEnv(raw),
        logger: quietLogger(),
        metrics: quietMetrics(),
      });
      const object = await putObject(raw, 'sysmon/raw.xml.gz', sysmonBody());

      // Act
      await handler(notificationFor('sqs-s3', object));
      const alerts = await receiveAlerts(raw, { expected: 1 });

      // Assess
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.attributes.process).toBe('powershell.exe');
      expect(alerts[0]!.finding.class_uid).toBe(2004);
    } finally {
      await raw.stop();
    }
  });
});

describe('Functions: limits', () => {
  it('trims an alert whose evidence would exceed 262,144 bytes', async () => {
    // Prepare: ten distinct 40,000-character command lines in one group; the publish is recorded
    // as sent, since a subscriber only sees the entry SNS delivers to it.
    const object = await putObject(stack, 'falcon/huge evidence.ndjson', falconBatch(10, 40_000));
    const published: Array<{ message: string; bytes: number }> = [];
    const handler = createS3BatchHandler({
      source: 'falcon',
      env: handlerEnv(stack),
      logger: quietLogger(),
      metrics: quietMetrics(),
      sns: {
        send: (command: PublishBatchCommand) => {
          for (const e of command.input.PublishBatchRequestEntries ?? []) {
            const attributes = Object.entries(e.MessageAttributes ?? {});
            const bytes =
              Buffer.byteLength(e.Message ?? '') +
              attributes.reduce(
                (n, [k, v]) =>
                  n + Buffer.byteLength(k + (v.DataType ?? '') + (v.StringValue ?? '')),
                0,
              );
            published.push({ message: e.Message ?? '', bytes });
          }
          return stack.sns.send(command);
        },
      } as unknown as typeof stack.sns,
    });

    // Act
    const response = await handler(notificationFor('sqs-s3', object));
    const alerts = await receiveAlerts(stack, { expected: 1 });

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(alerts).toHaveLength(1);
    const [alert] = alerts;
    expect(published).toHaveLength(1);
    expect(published[0]!.bytes).toBeLessThan(MAX_SNS_MESSAGE_BYTES);
    expect(JSON.parse(published[0]!.message).email).toContain('Evidence trimmed');
    expect(alert!.finding.unmapped.evidence_trimmed).toBe(true);
    expect(alert!.finding.count).toBe(10);
  });

  it('sends a large object group in full when it fits', async () => {
    // Prepare: the same group with short command lines.
    const object = await putObject(stack, 'falcon/small evidence.ndjson', falconBatch(10, 100));

    // Act
    await handlers.falcon(notificationFor('sqs-s3', object));
    const alerts = await receiveAlerts(stack, { expected: 1 });

    // Assess
    expect(alerts[0]!.finding.unmapped.evidence_trimmed).toBeUndefined();
    expect(alerts[0]!.finding.unmapped.command_lines).toHaveLength(10);
  });
});

describe('Functions: partial failure', () => {
  it('does not retry a missing object (NoSuchKey is permanent) and still publishes the good one', async () => {
    // Prepare
    const good = await putObject(stack, 'sysmon/good one.xml.gz', sysmonBody());
    const missing = { bucket: stack.bucket, key: 'sysmon/vanished.xml.gz', size: 10, etag: 'e' };
    const event = sqsBatch([JSON.stringify(s3EventFor(missing)), JSON.stringify(s3EventFor(good))]);

    // Act
    const response = await handlers.sysmon(event);
    const alerts = await receiveAlerts(stack, { expected: 1 });

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(alerts.map((a) => a.finding.unmapped.provenance[0]!.origin)).toEqual([
      `s3://${stack.bucket}/sysmon/good one.xml.gz`,
    ]);
  });

  it('reports only the message of an object S3 fails to serve, and still publishes the good one', async () => {
    // Prepare: every GetObject of one key answered 503 by the fault proxy.
    const proxy = await startFaultProxy(stack.endpoint);
    try {
      const bad = await putObject(stack, 'sysmon/unavailable.xml.gz', sysmonBody());
      const good = await putObject(stack, 'sysmon/served.xml.gz', sysmonBody());
      proxy.add({
        match: (r) => r.method === 'GET' && r.url.includes('unavailable'),
        fault: S3_SLOW_DOWN,
        times: Number.POSITIVE_INFINITY,
      });
      const handler = createS3BatchHandler({
        source: 'sysmon',
        env: { ...handlerEnv(stack), AWS_ENDPOINT_URL: proxy.endpoint },
        logger: quietLogger(),
        metrics: quietMetrics(),
      });
      const event = sqsBatch([JSON.stringify(s3EventFor(bad)), JSON.stringify(s3EventFor(good))]);

      // Act
      const response = await handler(event);
      const alerts = await receiveAlerts(stack, { expected: 1 });

      // Assess
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-0' }] });
      expect(alerts.map((a) => a.finding.unmapped.provenance[0]!.origin)).toEqual([
        `s3://${stack.bucket}/sysmon/served.xml.gz`,
      ]);

      // Act: a direct invocation (not SQS) throws instead, so Lambda retries it
      const direct = handler(notificationFor('s3', bad));

      // Assess
      await expect(direct).rejects.toBeInstanceOf(InvocationFailedError);
    } finally {
      await proxy.stop();
    }
  });

  it('fails a message that is not a notification, and only that one', async () => {
    // Prepare
    const good = await putObject(stack, 'sysmon/another good.xml.gz', sysmonBody());
    const event = sqsBatch(['{"hello":"world"}', JSON.stringify(s3EventFor(good))]);

    // Act
    const response = await handlers.sysmon(event);

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-0' }] });
    expect(await receiveAlerts(stack, { expected: 1 })).toHaveLength(1);
  });

  it('scans an object named twice in one batch once', async () => {
    // Prepare
    const object = await putObject(stack, 'sysmon/twice.xml.gz', sysmonBody());
    const body = JSON.stringify(s3EventFor(object));

    // Act
    const response = await handlers.sysmon(sqsBatch([body, body]));
    const alerts = await receiveAlerts(stack, { expected: 2, waitMs: 300 });

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(alerts).toHaveLength(1);
  });
});

/**
 * S3 that is the emulator's, except that the body of `stalledKey` sends its first chunk and then
 * nothing, never ending: a stalled connection, which a real server cannot be made to do on cue.
 * Like the SDK's body, it is a Node.js stream.
 */
function stallingS3(stalledKey: string) {
  const send = async (command: Parameters<typeof stack.s3.send>[0], options?: object) => {
    const out = await stack.s3.send(command as GetObjectCommand, options);
    if (!(command instanceof GetObjectCommand) || command.input.Key !== stalledKey) return out;
    const body = (out as GetObjectCommandOutput).Body as AsyncIterable<Uint8Array>;
    const first = (await body[Symbol.asyncIterator]().next()).value as Uint8Array;
    (body as { destroy?: () => void }).destroy?.(); // the real one is not read further
    let sent = false;
    const stalled = new Readable({
      read() {
        if (!sent) this.push(first);
        sent = true;
      },
    });
    return { ...out, Body: stalled };
  };
  return { send } as unknown as typeof stack.s3;
}

/** SNS that throttles the first `failures` PublishBatch calls, then is the emulator's. */
function throttlingSns(failures: number) {
  const calls: number[] = [];
  return {
    calls,
    send: async (command: PublishBatchCommand) => {
      calls.push(command.input.PublishBatchRequestEntries?.length ?? 0);
      if (calls.length <= failures) {
        return {
          Successful: [],
          Failed: (command.input.PublishBatchRequestEntries ?? []).map((e) => ({
            Id: e.Id,
            Code: 'Throttled',
            SenderFault: false,
            Message: 'Rate exceeded',
          })),
          $metadata: {},
        };
      }
      return stack.sns.send(command);
    },
  };
}

const quietLogger = () => ({ debug() {}, info() {}, warn() {}, error() {} });
const quietMetrics = () => ({ addMetric() {}, publishStoredMetrics() {} });

describe('Functions: the invocation deadline', () => {
  /** A handler reading through stallingS3, its logged errors, and a batch: stalled object first. */
  async function arrange(env: Record<string, string> = {}) {
    const errors: Array<{ key?: string; error?: Error }> = [];
    const handler = createS3BatchHandler({
      source: 'sysmon',
      env: { ...handlerEnv(stack), ...env },
      s3: stallingS3('sysmon/stalled.xml.gz'),
      logger: {
        ...quietLogger(),
        error: (_message: unknown, ...extra: unknown[]) => {
          errors.push(extra[0] as (typeof errors)[0]);
        },
      },
      metrics: quietMetrics(),
    });
    const stalled = await putObject(stack, 'sysmon/stalled.xml.gz', sysmonBody());
    const good = await putObject(stack, 'sysmon/on time.xml.gz', sysmonBody());
    const event = sqsBatch([JSON.stringify(s3EventFor(stalled)), JSON.stringify(s3EventFor(good))]);
    // 1.5 s left: reading stops at 1.2 s, keeping a fifth back (less than the 30 s cap).
    const context = { ...localContext('t1102-sysmon'), getRemainingTimeInMillis: () => 1_500 };
    return { handler, errors, event, context };
  }
  const DEADLINE_MESSAGE =
    /time ran out before the object was read to its end \(reading stops 300 ms before the function's timeout\)/;

  it('stops reading a stalled object before the timeout, fails it alone and publishes the others', async () => {
    // Prepare
    const { handler, errors, event, context } = await arrange();

    // Act
    const response = await handler(event, context);
    const alerts = await receiveAlerts(stack, { expected: 1 });

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-0' }] });
    expect(alerts.map((a) => a.finding.unmapped.provenance[0]!.origin)).toEqual([
      `s3://${stack.bucket}/sysmon/on time.xml.gz`,
    ]);
    expect(errors.map((e) => e.key)).toEqual(['sysmon/stalled.xml.gz']);
    expect(errors[0]!.error?.message).toMatch(DEADLINE_MESSAGE);
  });

  it('fails an object whose turn comes after the deadline, without reading it', async () => {
    // Prepare: one object at a time, so the second waits for the stalled first.
    const { handler, errors, event, context } = await arrange({ OBJECT_CONCURRENCY: '1' });

    // Act
    const response = await handler(event, context);

    // Assess
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: 'msg-0' },
      { itemIdentifier: 'msg-1' },
    ]);
    expect(errors.map((e) => e.key)).toEqual(['sysmon/stalled.xml.gz', 'sysmon/on time.xml.gz']);
    for (const e of errors) expect(e.error?.message).toMatch(DEADLINE_MESSAGE);
    expect(await receiveAlerts(stack)).toEqual([]);
  });
});

describe('Functions: publishing', () => {
  it('retries throttled publishes until the alert is on the topic', async () => {
    // Prepare
    const sns = throttlingSns(2);
    const handler = createS3BatchHandler({
      source: 'sysmon',
      env: handlerEnv(stack),
      sns,
      s3: stack.s3,
      logger: quietLogger(),
      metrics: quietMetrics(),
      publish: { baseDelayMs: 1 },
    });
    const object = await putObject(stack, 'sysmon/throttled.xml.gz', sysmonBody());

    // Act
    const response = await handler(notificationFor('sqs-s3', object));
    const alerts = await receiveAlerts(stack, { expected: 1 });

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(sns.calls).toEqual([1, 1, 1]);
    expect(alerts).toHaveLength(1);
  });

  it('fails the object when publishing never succeeds', async () => {
    // Prepare
    const sns = throttlingSns(Number.POSITIVE_INFINITY);
    const handler = createS3BatchHandler({
      source: 'sysmon',
      env: handlerEnv(stack),
      sns,
      s3: stack.s3,
      logger: quietLogger(),
      metrics: quietMetrics(),
      publish: { baseDelayMs: 1 },
    });
    const object = await putObject(stack, 'sysmon/never published.xml.gz', sysmonBody());
    const event = notificationFor('sqs-s3', object) as { Records: Array<{ messageId: string }> };

    // Act
    const response = await handler(event);

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(await receiveAlerts(stack)).toEqual([]);
  });
});

describe('Functions: quarantine and damage', () => {
  const now = () => new Date('2024-03-05T10:00:00Z');
  const handler = () =>
    createS3BatchHandler({
      source: 'falcon',
      env: { ...handlerEnv(stack), MAX_QUARANTINE_RECORDS: '2' },
      logger: quietLogger(),
      metrics: quietMetrics(),
      now,
    });

  it('quarantines records that cannot be parsed, with reason and position, and still alerts', async () => {
    // Prepare: the good batch with three broken lines before it.
    const body = `{"broken": \nnot json at all\n{"also": broken\n${falconBody().toString('utf8')}`;
    const object = await putObject(stack, 'falcon/with bad lines.ndjson', body);

    // Act
    const response = await handler()(notificationFor('sqs-s3', object));
    const alerts = await receiveAlerts(stack, { expected: 1 });

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(alerts).toHaveLength(1);
    const key = 'quarantine/falcon/2024/03/05/falcon/with bad lines.ndjson.jsonl.gz';
    expect(await listKeys(stack, 'quarantine/falcon/2024/03/05/falcon/with')).toEqual([key]);
    const lines = await readQuarantine(stack, key);
    expect(lines.map((l) => [l.type, l.reason, l.record, l.offset])).toEqual([
      ['skipped', 'invalid-json', 1, 0],
      ['skipped', 'invalid-json', 2, 12],
      ['truncated', undefined, undefined, undefined],
    ]);
    expect(lines[2]).toMatchObject({ droppedRecords: 1, droppedByReason: { 'invalid-json': 1 } });
    expect(lines[0]!.origin).toBe(`s3://${stack.bucket}/falcon/with bad lines.ndjson`);
  });

  it('publishes what precedes a truncated gzip, quarantines the damage, and does not retry', async () => {
    // Prepare
    const gz = gzipSync(Buffer.from(falconBatch(3, 50).repeat(200)));
    const object = await putObject(
      stack,
      'falcon/cut short.ndjson.gz',
      gz.subarray(0, gz.length - 40),
    );

    // Act
    const response = await handler()(notificationFor('sqs-s3', object));
    const alerts = await receiveAlerts(stack, { expected: 1 });

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(alerts).toHaveLength(1);
    const lines = await readQuarantine(
      stack,
      'quarantine/falcon/2024/03/05/falcon/cut short.ndjson.gz.jsonl.gz',
    );
    expect(lines.at(-1)).toMatchObject({ type: 'damage', reason: 'truncated-gzip' });
  });

  it('publishes what precedes the decompression bound, quarantines the damage, and does not retry', async () => {
    // Prepare: ~1.1 MB of text (600 processes that each query pastebin.com), read up to 300 kB
    const text = falconBatch(3, 50).repeat(200);
    const object = await putObject(stack, 'falcon/bomb.ndjson.gz', gzipSync(Buffer.from(text)));
    const bounded = createS3BatchHandler({
      source: 'falcon',
      env: handlerEnv(stack),
      logger: quietLogger(),
      metrics: quietMetrics(),
      scanLimits: { maxDecompressedBytes: 300_000 },
      now,
    });

    // Act
    const response = await bounded(notificationFor('sqs-s3', object));
    const alerts = await receiveAlerts(stack, { expected: 1 });

    // Assess: a retry would stop at the same byte, so the object succeeds with what it read
    expect(response.batchItemFailures).toEqual([]);
    expect(alerts).toHaveLength(1);
    const count = alerts[0]!.finding.count;
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(600);
    const lines = await readQuarantine(
      stack,
      'quarantine/falcon/2024/03/05/falcon/bomb.ndjson.gz.jsonl.gz',
    );
    expect(lines.at(-1)).toMatchObject({ type: 'damage', reason: 'too-large' });
  });

  it('quarantines a Sysmon batch dropped where Falcon was expected, without retrying', async () => {
    // Prepare
    const object = await putObject(stack, 'falcon/wrong place.xml.gz', sysmonBody());

    // Act
    const response = await handler()(notificationFor('sqs-s3', object));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(await receiveAlerts(stack)).toEqual([]);
    const lines = await readQuarantine(
      stack,
      'quarantine/falcon/2024/03/05/falcon/wrong place.xml.gz.jsonl.gz',
    );
    expect(lines).toEqual([
      expect.objectContaining({
        type: 'damage',
        reason: 'not-a-log',
        message: 'expected falcon content but the object looks like sysmon-xml',
        origin: `s3://${stack.bucket}/falcon/wrong place.xml.gz`,
        head: expect.stringMatching(/^<Event xmlns=/),
      }),
    ]);
  });

  it('quarantines a JSON log of no known shape instead of reporting nothing found', async () => {
    // Prepare: web-server access logs as JSON lines, dropped under the sysmon prefix
    const body =
      `${JSON.stringify({ ts: '2024-03-05T10:00:00Z', path: '/', status: 200 })}\n`.repeat(50);
    const object = await putObject(stack, 'sysmon/access.ndjson', body);
    const errors: unknown[] = [];
    const warnings: Array<Record<string, unknown>> = [];
    const sysmon = createS3BatchHandler({
      source: 'sysmon',
      env: handlerEnv(stack),
      logger: {
        ...quietLogger(),
        warn: (_m: unknown, ...extra: unknown[]) =>
          warnings.push(extra[0] as Record<string, unknown>),
        error: (...args: unknown[]) => errors.push(args),
      },
      metrics: quietMetrics(),
      now: () => new Date('2024-03-05T12:00:00Z'),
    });

    // Act
    const response = await sysmon(notificationFor('sqs-s3', object));

    // Assess: not retried, not "0 findings": damage, logged and quarantined with the head
    expect(response.batchItemFailures).toEqual([]);
    expect(errors).toEqual([]);
    expect(warnings).toContainEqual(
      expect.objectContaining({
        key: 'sysmon/access.ndjson',
        damage: expect.objectContaining({
          reason: 'not-a-log',
          message: expect.stringMatching(
            /^not a log of any shape this reads \(tried sysmon-xml, evtx, nxlog, winlogbeat, cwl-firehose\)/,
          ),
        }),
      }),
    );
    const lines = await readQuarantine(
      stack,
      'quarantine/sysmon/2024/03/05/sysmon/access.ndjson.jsonl.gz',
    );
    expect(lines).toEqual([
      expect.objectContaining({
        type: 'damage',
        reason: 'not-a-log',
        head: expect.stringContaining('"status":200'),
      }),
    ]);
  });

  it('writes no quarantine file for a clean object', async () => {
    // Prepare
    const object = await putObject(stack, 'falcon/clean.ndjson', falconBody());

    // Act
    await handler()(notificationFor('sqs-s3', object));

    // Assess
    expect(await listKeys(stack, 'quarantine/falcon/2024/03/05/falcon/clean')).toEqual([]);
  });
});

describe('Functions: deployment exceptions (EXCEPTIONS_URI)', () => {
  it('leaves out what the exceptions file covers and counts it in the object log', async () => {
    // Prepare: the OTRF PowerShell recording, excepted for its host and domain
    await putObject(
      stack,
      'config/exceptions.json',
      JSON.stringify({
        exceptions: [{ host: 'WORKSTATION5', domain: 'raw.githubusercontent.com' }],
      }),
    );
    const logged: Array<Record<string, unknown>> = [];
    const handler = createS3BatchHandler({
      source: 'sysmon',
      env: { ...handlerEnv(stack), EXCEPTIONS_URI: `s3://${stack.bucket}/config/exceptions.json` },
      logger: {
        ...quietLogger(),
        info: (_message: unknown, ...extra: unknown[]) => {
          logged.push(extra[0] as Record<string, unknown>);
        },
      },
      metrics: quietMetrics(),
    });
    const object = await putObject(stack, 'sysmon/excepted.xml.gz', sysmonBody());

    // Act
    const response = await handler(notificationFor('sqs-s3', object));
    const alerts = await receiveAlerts(stack);

    // Assess: expected-v2 has one group of 2 events for this file; both are excepted
    expect(response.batchItemFailures).toEqual([]);
    expect(alerts).toEqual([]);
    expect(logged).toContainEqual(expect.objectContaining({ exceptions: 1 }));
    expect(logged).toContainEqual(
      expect.objectContaining({
        key: 'sysmon/excepted.xml.gz',
        matched: 2,
        excepted: 2,
        groups: 0,
      }),
    );
  });

  it('refuses to run with an invalid exceptions file, naming the problem', async () => {
    // Prepare
    await putObject(
      stack,
      'config/bad.json',
      '{"exceptions": [{"domain": "https://pastebin.com"}]}',
    );
    const errors: unknown[] = [];
    const handler = createS3BatchHandler({
      source: 'sysmon',
      env: { ...handlerEnv(stack), EXCEPTIONS_URI: `s3://${stack.bucket}/config/bad.json` },
      logger: { ...quietLogger(), error: (...args: unknown[]) => errors.push(args) },
      metrics: quietMetrics(),
    });
    const object = await putObject(stack, 'sysmon/refused.xml.gz', sysmonBody());

    // Act
    const failure = await handler(notificationFor('sqs-s3', object)).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(
      /^invalid exceptions file s3:\/\/.+\/config\/bad\.json \(1 problem\):\n {2}exceptions\[0\]\.domain: expected a hostname without a scheme/,
    );
    expect(errors).toHaveLength(1);
  });

  it('refuses an EXCEPTIONS_URI that is not an s3:// URI at configuration time', () => {
    // Act
    const build = () =>
      createS3BatchHandler({
        source: 'sysmon',
        env: { ...handlerEnv(stack), EXCEPTIONS_URI: 'exceptions.json' },
        logger: quietLogger(),
        metrics: quietMetrics(),
      });

    // Assess
    expect(build).toThrow(/EXCEPTIONS_URI is not an s3:\/\/bucket\/key URI: "exceptions.json"/);
  });
});
