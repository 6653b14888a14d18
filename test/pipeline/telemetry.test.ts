/**
 * One structured log line and one EMF document per object, from the real Powertools Logger and
 * Metrics, read back from standard output as CloudWatch would.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { handlerEnv, localContext } from '../../lib/cli/local-stack.ts';
import { createS3BatchHandler, type S3BatchHandler } from '../../lib/pipeline/index.ts';
import { S3_SLOW_DOWN, startFaultProxy } from '../helpers/fault-proxy.ts';
import { datasetFile, type LocalStack, putObject, startTestStack } from '../helpers/fauxqs.ts';
import { notificationFor, s3EventFor, sqsBatch } from '../helpers/notifications.ts';

let stack: LocalStack;
let handler: S3BatchHandler;
let written: string[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  // The SDK takes its credentials from the process environment, as on Lambda.
  Object.assign(process.env, handlerEnv(stack));
  handler = createS3BatchHandler({
    source: 'falcon',
    env: { ...handlerEnv(stack), POWERTOOLS_SERVICE_NAME: 't1102-falcon' },
    logger: new Logger({ serviceName: 't1102-falcon', logLevel: 'INFO' }),
    metrics: new Metrics({ namespace: 'T1102Detection', serviceName: 't1102-falcon' }),
  });
});
afterAll(async () => {
  await stack?.stop();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs `act` while collecting every JSON line written to standard output and error. */
async function capture(act: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  written = [];
  // Powertools writes INFO and EMF to standard output, WARN and ERROR to standard error.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(chunk.toString());
      return true;
    });
  }
  try {
    await act();
  } finally {
    vi.restoreAllMocks();
  }
  return written
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const emf = (lines: Array<Record<string, unknown>>) => lines.filter((l) => '_aws' in l);
const logs = (lines: Array<Record<string, unknown>>) => lines.filter((l) => 'message' in l);

describe('Telemetry: per object', () => {
  it('logs one line with the counts and emits them as EMF metrics', async () => {
    // Prepare: the OTRF WMIC batch with two lines that cannot be parsed after its first line.
    const [head, ...rest] = datasetFile('falcon/otrf-wmic-xsl.fdr.ndjson')!
      .toString('utf8')
      .split('\n');
    const body = [head, 'not json', '{"cut": ', ...rest].join('\n');
    const object = await putObject(stack, 'falcon/metrics.ndjson', body);

    // Act
    const lines = await capture(() =>
      handler(notificationFor('sqs-s3', object), localContext('t1102-falcon')),
    );

    // Assess
    const [log, ...moreLogs] = logs(lines);
    expect(moreLogs).toEqual([]);
    expect(log).toMatchObject({
      level: 'INFO',
      message: 'object processed',
      service: 't1102-falcon',
      function_name: 't1102-falcon',
      bucket: stack.bucket,
      key: 'falcon/metrics.ndjson',
      bytes: Buffer.byteLength(body),
      recordsRead: 11,
      recordsSkipped: 2,
      skipped: { 'invalid-json': 2 },
      groups: 1,
      alertsPublished: 1,
    });
    // The DNS query, the connection and WMIC's process start (expected-v2: count 3).
    expect(log!.matched).toBe(3);
    expect(typeof log!.durationMs).toBe('number');

    const [doc, ...moreDocs] = emf(lines);
    expect(moreDocs).toEqual([]);
    const meta = (
      doc!._aws as {
        CloudWatchMetrics: Array<{
          Namespace: string;
          Dimensions: string[][];
          Metrics: Array<{ Name: string; Unit: string }>;
        }>;
      }
    ).CloudWatchMetrics[0]!;
    expect(meta.Namespace).toBe('T1102Detection');
    expect(meta.Dimensions).toEqual([['service']]);
    expect(Object.fromEntries(meta.Metrics.map((m) => [m.Name, m.Unit]))).toEqual({
      ObjectsProcessed: 'Count',
      ObjectsFailed: 'Count',
      BytesRead: 'Bytes',
      RecordsRead: 'Count',
      RecordsSkipped: 'Count',
      RecordsMatched: 'Count',
      RecordsExcepted: 'Count',
      AlertGroups: 'Count',
      AlertsPublished: 'Count',
      AlertsToResend: 'Count',
      MatchesSummarized: 'Count',
      MatchesDropped: 'Count',
      ObjectsTakenOver: 'Count',
      CandidatesWaiting: 'Count',
      CandidatesDropped: 'Count',
      CandidatesResolved: 'Count',
      ObjectDurationMs: 'Milliseconds',
      'Skipped-invalid-json': 'Count',
    });
    expect(doc).toMatchObject({
      service: 't1102-falcon',
      ObjectsProcessed: 1,
      ObjectsFailed: 0,
      BytesRead: Buffer.byteLength(body),
      RecordsRead: 11,
      RecordsSkipped: 2,
      RecordsMatched: 3,
      RecordsExcepted: 0,
      AlertGroups: 1,
      AlertsPublished: 1,
      AlertsToResend: 0,
      'Skipped-invalid-json': 2,
    });
  });

  it('logs a missing object as a warning and does not retry it (NoSuchKey is permanent)', async () => {
    // Prepare
    const missing = { bucket: stack.bucket, key: 'falcon/gone.ndjson', size: 3, etag: 'e' };

    // Act
    let response: unknown;
    const lines = await capture(async () => {
      response = await handler(sqsBatch([JSON.stringify(s3EventFor(missing))]));
    });

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const [log] = logs(lines);
    expect(log).toMatchObject({
      level: 'WARN',
      message: 'object does not exist; not retried',
      key: 'falcon/gone.ndjson',
    });
    expect(JSON.stringify(log!.error)).toContain('does not exist (NoSuchKey)');
    expect(emf(lines)[0]).toMatchObject({ ObjectsProcessed: 1, ObjectsFailed: 0 });
  });

  it('logs a failed object as an error naming its stage and service, and counts it as failed', async () => {
    // Prepare: S3 answers 503 to every GetObject of the object, through the fault proxy.
    const proxy = await startFaultProxy(stack.endpoint);
    try {
      const object = await putObject(stack, 'falcon/unavailable.ndjson', '{}\n');
      proxy.add({
        match: (r) => r.method === 'GET' && r.url.includes('unavailable'),
        fault: S3_SLOW_DOWN,
        times: Number.POSITIVE_INFINITY,
      });
      const failing = createS3BatchHandler({
        source: 'falcon',
        env: { ...handlerEnv(stack), AWS_ENDPOINT_URL: proxy.endpoint },
        logger: new Logger({ serviceName: 't1102-falcon', logLevel: 'INFO' }),
        metrics: new Metrics({ namespace: 'T1102Detection', serviceName: 't1102-falcon' }),
      });

      // Act
      let response: unknown;
      const lines = await capture(async () => {
        response = await failing(sqsBatch([JSON.stringify(s3EventFor(object))]));
      });

      // Assess
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-0' }] });
      const [log] = logs(lines);
      expect(log).toMatchObject({
        level: 'ERROR',
        message: 'object failed at read',
        stage: 'read',
        failedService: 'S3',
        key: 'falcon/unavailable.ndjson',
        alertsToResend: 0,
      });
      expect(JSON.stringify(log!.error)).toContain('GetObject failed: SlowDown');
      expect(emf(lines)[0]).toMatchObject({ ObjectsProcessed: 1, ObjectsFailed: 1 });
    } finally {
      await proxy.stop();
    }
  });
});
