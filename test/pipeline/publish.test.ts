import type { PublishBatchCommand, PublishBatchCommandOutput } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import {
  type AlertMessage,
  AlertPublisher,
  MAX_PUBLISH_BATCH_BYTES,
  MAX_PUBLISH_BATCH_ENTRIES,
  PUBLISH_MAX_ATTEMPTS,
  planBatches,
} from '../../lib/pipeline/index.ts';

const message = (bytes: number, n = 0) =>
  ({
    bytes,
    subject: `s${n}`,
    message: `{"default":"{}"}`,
    attributes: {},
  }) as unknown as AlertMessage;

type Answer = (entries: string[]) => PublishBatchCommandOutput | Error;

/**
 * A scripted SNS: throttling and server faults cannot be provoked on the emulator, so this is
 * the one place a fake stands in for it. Each call answers with the next script entry.
 */
function scriptedSns(script: Answer[]) {
  const calls: string[][] = [];
  return {
    calls,
    send: async (command: PublishBatchCommand) => {
      const ids = (command.input.PublishBatchRequestEntries ?? []).map((e) => e.Id!);
      calls.push(ids);
      const answer = (script[calls.length - 1] ?? ok)(ids);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}
const ok: Answer = (ids) => ({
  Successful: ids.map((Id) => ({ Id, MessageId: `m-${Id}` })),
  Failed: [],
  $metadata: {},
});
const failAll =
  (Code: string, SenderFault: boolean): Answer =>
  (ids) => ({
    Successful: [],
    Failed: ids.map((Id) => ({ Id, Code, SenderFault, Message: Code })),
    $metadata: {},
  });

describe('Publishing: batches', () => {
  it('puts at most 10 entries in a PublishBatch request', () => {
    // Act
    const batches = planBatches(Array.from({ length: 23 }, () => message(100)));

    // Assess
    expect(batches.map((b) => b.length)).toEqual([MAX_PUBLISH_BATCH_ENTRIES, 10, 3]);
  });

  it('keeps every request within 262,144 bytes in total', () => {
    // Prepare
    const sizes = [100_000, 100_000, 100_000, 262_144, 1, 62_143, 200_000];

    // Act
    const batches = planBatches(sizes.map((s) => message(s)));

    // Assess
    expect(batches.map((b) => b.map((m) => m.bytes))).toEqual([
      [100_000, 100_000],
      [100_000],
      [262_144],
      [1, 62_143, 200_000],
    ]);
    for (const b of batches)
      expect(b.reduce((n, m) => n + m.bytes, 0)).toBeLessThanOrEqual(MAX_PUBLISH_BATCH_BYTES);
  });
});

describe('Publishing: retries', () => {
  it('retries throttled entries with growing, jittered waits, then succeeds', async () => {
    // Prepare
    const sns = scriptedSns([failAll('Throttled', false), failAll('InternalError', false), ok]);
    const waits: number[] = [];
    const publisher = new AlertPublisher(sns, 'arn:aws:sns:us-east-1:000000000000:t', {
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.5,
      baseDelayMs: 100,
    });

    // Act
    const result = await publisher.publish([message(10, 0), message(10, 1)]);

    // Assess
    expect(result).toEqual({ published: 2, accepted: [0, 1], failures: [], requests: 3 });
    expect(sns.calls).toEqual([
      ['alert-0', 'alert-1'],
      ['alert-0', 'alert-1'],
      ['alert-0', 'alert-1'],
    ]);
    expect(waits).toEqual([50, 100]);
  });

  it('retries only the entries that failed', async () => {
    // Prepare
    const partial: Answer = () => ({
      Successful: [{ Id: 'alert-0', MessageId: 'm' }],
      Failed: [{ Id: 'alert-1', Code: 'Throttled', SenderFault: false, Message: 'Rate exceeded' }],
      $metadata: {},
    });
    const sns = scriptedSns([partial, ok]);
    const publisher = new AlertPublisher(sns, 'arn:aws:sns:us-east-1:000000000000:t', {
      sleep: async () => {},
    });

    // Act
    const result = await publisher.publish([message(10, 0), message(10, 1)]);

    // Assess
    expect(result.published).toBe(2);
    expect(result.accepted).toEqual([0, 1]);
    expect(sns.calls[1]).toEqual(['alert-1']);
  });

  it('retries a whole request that failed on the server side', async () => {
    // Prepare
    const outage = Object.assign(new Error('Service Unavailable'), {
      name: 'ServiceUnavailable',
      $metadata: { httpStatusCode: 503 },
    });
    const sns = scriptedSns([() => outage, ok]);
    const publisher = new AlertPublisher(sns, 'arn:aws:sns:us-east-1:000000000000:t', {
      sleep: async () => {},
    });

    // Act
    const result = await publisher.publish([message(10)]);

    // Assess
    expect(result).toEqual({ published: 1, accepted: [0], failures: [], requests: 2 });
  });

  it('gives up after the last attempt and reports the entries', async () => {
    // Prepare
    const sns = scriptedSns(Array.from({ length: 10 }, () => failAll('Throttled', false)));
    const publisher = new AlertPublisher(sns, 'arn:aws:sns:us-east-1:000000000000:t', {
      sleep: async () => {},
    });

    // Act
    const result = await publisher.publish([message(10)]);

    // Assess
    expect(sns.calls).toHaveLength(PUBLISH_MAX_ATTEMPTS);
    expect(result.published).toBe(0);
    expect(result.failures).toEqual([
      { id: 'alert-0', index: 0, code: 'Throttled', message: 'Throttled', retryable: true },
    ]);
  });

  it('does not retry what SNS rejects as the sender fault', async () => {
    // Prepare
    const sns = scriptedSns([failAll('InvalidParameter', true)]);
    const publisher = new AlertPublisher(sns, 'arn:aws:sns:us-east-1:000000000000:t', {
      sleep: async () => {},
    });

    // Act
    const result = await publisher.publish([message(10)]);

    // Assess
    expect(sns.calls).toHaveLength(1);
    expect(result.failures[0]).toMatchObject({ code: 'InvalidParameter', retryable: false });
  });

  it('caps the wait at the maximum delay', () => {
    // Prepare
    const publisher = new AlertPublisher(scriptedSns([]), 'arn:aws:sns:us-east-1:000000000000:t', {
      random: () => 0.999,
      baseDelayMs: 100,
      maxDelayMs: 1_000,
    });

    // Act
    const waits = [1, 2, 3, 4, 5, 6].map((n) => publisher.backoffMs(n));

    // Assess
    expect(waits).toEqual([99, 199, 399, 799, 999, 999]);
  });
});
