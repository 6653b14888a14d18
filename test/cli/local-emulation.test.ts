/**
 * What the local stack adds to the emulator so that it behaves as AWS: S3 bucket notifications
 * for every object write, and SNS delivering a message structure's entry, not the structure.
 */
import { CopyObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { PublishBatchCommand, PublishCommand } from '@aws-sdk/client-sns';
import {
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_RECEIVE_COUNT } from '../../infra/stack.ts';
import { createdObject } from '../../lib/cli/bucket-notifications.ts';
import {
  LOCAL_MAX_RECEIVE_COUNT,
  LOCAL_VISIBILITY_TIMEOUT_SECONDS,
  type LocalStack,
  startLocalStack,
} from '../../lib/cli/local-stack.ts';
import { deliverAsSns, sqsEntry } from '../../lib/cli/sns-delivery.ts';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ port: 0 });
});
afterAll(async () => {
  await stack?.stop();
});

async function receiveAll(queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const got = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 60,
      }),
    );
    if (!got.Messages?.length) return all;
    all.push(...got.Messages);
  }
}

const records = (messages: Message[]) =>
  messages.flatMap((m) => (JSON.parse(m.Body!) as S3Event).Records);

describe('Local stack: bucket notifications', () => {
  it('announces every write under a source prefix once, named as S3 names it', async () => {
    // Prepare
    const { bucket } = stack;
    const big = Buffer.alloc(6 * 1024 * 1024, 'x');

    // Act
    await stack.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'sysmon/a b+c.xml', Body: 'x' }),
    );
    await stack.s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'sysmon/copy.xml',
        CopySource: `${bucket}/sysmon/a b+c.xml`,
      }),
    );
    await new Upload({
      client: stack.s3,
      params: { Bucket: bucket, Key: 'falcon/big.ndjson', Body: big },
      partSize: 5 * 1024 * 1024,
    }).done();
    await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'quarantine/x', Body: 'x' }));
    await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'other/x', Body: 'x' }));
    await stack.notifier.settled();

    // Assess
    const sysmon = records(await receiveAll(stack.notificationQueues.sysmon.url));
    const falcon = records(await receiveAll(stack.notificationQueues.falcon.url));
    expect(sysmon.map((r) => [r.eventName, r.s3.object.key, r.s3.object.size])).toEqual([
      ['ObjectCreated:Put', 'sysmon/a+b%2Bc.xml', 1],
      ['ObjectCreated:Copy', 'sysmon/copy.xml', 1],
    ]);
    expect(falcon.map((r) => [r.eventName, r.s3.object.key, r.s3.object.size])).toEqual([
      ['ObjectCreated:CompleteMultipartUpload', 'falcon/big.ndjson', big.length],
    ]);
    expect(sysmon[0]!.s3.bucket.name).toBe(bucket);
    expect(sysmon[0]!.s3.object.sequencer < sysmon[1]!.s3.object.sequencer).toBe(true);
    expect(stack.notifier.sent(stack.notificationQueues.sysmon.url)).toBe(2);
  });

  it('redrives a notification that keeps failing to a dead-letter queue after as many receives as the deployed queues', async () => {
    // Act
    const got = await stack.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.notificationQueues.falcon.url,
        AttributeNames: ['VisibilityTimeout', 'RedrivePolicy'],
      }),
    );

    // Assess
    expect(Number(got.Attributes?.VisibilityTimeout)).toBe(LOCAL_VISIBILITY_TIMEOUT_SECONDS);
    expect(JSON.parse(got.Attributes?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: expect.stringMatching(/:t1102-falcon-notifications-dlq$/),
      maxReceiveCount: LOCAL_MAX_RECEIVE_COUNT,
    });
    expect(LOCAL_MAX_RECEIVE_COUNT).toBe(MAX_RECEIVE_COUNT);
  });

  it.each([
    ['an uploaded part', 'PUT', { uploadId: 'u', partNumber: '1' }, {}],
    ['a started multipart upload', 'POST', { uploads: '' }, {}],
    ['a read', 'GET', {}, {}],
    ['a bucket', 'PUT', {}, { '*': '' }],
  ])('announces nothing for %s', (_what, method, query, params) => {
    // Act
    const created = createdObject(
      { method, query, headers: {}, params: { bucket: 'b', '*': 'k', ...params } },
      200,
    );
    // Assess
    expect(created).toBeUndefined();
  });

  it('announces nothing for a write the emulator refused', () => {
    const request = { method: 'PUT', query: {}, headers: {}, params: { bucket: 'b', '*': 'k' } };
    expect(createdObject(request, 403)).toBeUndefined();
    expect(createdObject(request, 200)).toEqual({
      bucket: 'b',
      key: 'k',
      eventName: 'ObjectCreated:Put',
    });
  });
});

describe('Local stack: SNS delivery of a message structure', () => {
  it('delivers the sqs entry, else the default entry', () => {
    expect(sqsEntry('{"default":"d","email":"e"}')).toBe('d');
    expect(sqsEntry('{"default":"d","sqs":"s"}')).toBe('s');
    expect(sqsEntry('{"email":"e"}')).toBeUndefined();
    expect(sqsEntry('not json')).toBeUndefined();
  });

  it('rewrites each structured entry of a PublishBatch and leaves plain ones alone', () => {
    // Prepare
    const p = 'PublishBatchRequestEntries.member';
    const form: Record<string, unknown> = {
      Action: 'PublishBatch',
      [`${p}.1.Message`]: '{"default":"one","email":"long"}',
      [`${p}.1.MessageStructure`]: 'json',
      [`${p}.2.Message`]: '{"default":"as is"}',
    };
    // Act
    deliverAsSns(form);
    // Assess
    expect(form).toEqual({
      Action: 'PublishBatch',
      [`${p}.1.Message`]: 'one',
      [`${p}.2.Message`]: '{"default":"as is"}',
    });
  });

  it('gives a subscriber the default entry of a structured Publish and PublishBatch', async () => {
    // Prepare
    const Message = JSON.stringify({ default: '{"a":1}', email: 'Dear SOC' });

    // Act
    await stack.sns.send(
      new PublishCommand({ TopicArn: stack.topicArn, Message, MessageStructure: 'json' }),
    );
    await stack.sns.send(
      new PublishBatchCommand({
        TopicArn: stack.topicArn,
        PublishBatchRequestEntries: [{ Id: 'x', Message, MessageStructure: 'json' }],
      }),
    );
    const got = await receiveAll(stack.alertQueueUrl);

    // Assess
    expect(got.map((m) => JSON.parse(m.Body!).Message)).toEqual(['{"a":1}', '{"a":1}']);
  });
});
