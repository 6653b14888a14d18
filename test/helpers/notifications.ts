/**
 * The captured notification JSON in events/notifications/, loaded by name with its real type and
 * cloned on every load, so a test can change it freely.
 */
import { readFileSync } from 'node:fs';
import type { EventBridgeEvent, S3Event, SNSEvent, SQSEvent } from 'aws-lambda';
import { encodeS3EventKey } from '../../lib/cli/local-stack.ts';

/** EventBridge "Object Created" detail (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html). */
export interface ObjectCreatedDetail {
  version: string;
  bucket: { name: string };
  object: { key: string; size?: number; etag?: string; 'version-id'?: string; sequencer?: string };
  'request-id': string;
  requester: string;
  'source-ip-address': string;
  reason: string;
}

/** CrowdStrike Falcon Data Replicator queue message. */
export interface FdrMessage {
  cid: string;
  timestamp: number;
  fileCount: number;
  totalSize: number;
  bucket: string;
  pathPrefix: string;
  files: Array<{ path: string; size: number; checksum: string }>;
}

export interface S3TestEvent {
  Service: string;
  Event: 's3:TestEvent';
  Time: string;
  Bucket: string;
  RequestId: string;
  HostId: string;
}

interface Fixtures {
  's3-object-created': S3Event;
  's3-test-event': S3TestEvent;
  'sqs-s3': SQSEvent;
  'sqs-s3-test-event': SQSEvent;
  'sqs-sns-s3': SQSEvent;
  'sns-s3': SNSEvent;
  'eventbridge-object-created': EventBridgeEvent<'Object Created', ObjectCreatedDetail>;
  'sqs-eventbridge': SQSEvent;
  'fdr-message': FdrMessage;
  'sqs-fdr': SQSEvent;
}
export type FixtureName = keyof Fixtures;

const cache = new Map<string, unknown>();

export function loadNotification<N extends FixtureName>(name: N): Fixtures[N] {
  if (!cache.has(name)) {
    const url = new URL(`../../events/notifications/${name}.json`, import.meta.url);
    cache.set(name, JSON.parse(readFileSync(url, 'utf8')));
  }
  return structuredClone(cache.get(name)) as Fixtures[N];
}

export interface TestObject {
  bucket: string;
  key: string;
  size: number;
  etag: string;
}

/** Every way an object's notification can reach a function. */
export const SHAPES = [
  's3',
  'sqs-s3',
  'sns-s3',
  'sqs-sns-s3',
  'eventbridge',
  'sqs-eventbridge',
  'sqs-fdr',
] as const;
export type Shape = (typeof SHAPES)[number];

/** The captured S3 event, rewritten for `o` (key URL-encoded as S3 does, no version id). */
export function s3EventFor(o: TestObject): S3Event {
  const event = loadNotification('s3-object-created');
  const record = event.Records[0]!;
  const { versionId: _none, ...object } = record.s3.object;
  record.s3.bucket.name = o.bucket;
  record.s3.bucket.arn = `arn:aws:s3:::${o.bucket}`;
  record.s3.object = { ...object, key: encodeS3EventKey(o.key), size: o.size, eTag: o.etag };
  return event;
}

export function eventBridgeEventFor(o: TestObject): Fixtures['eventbridge-object-created'] {
  const event = loadNotification('eventbridge-object-created');
  event.resources = [`arn:aws:s3:::${o.bucket}`];
  event.detail.bucket.name = o.bucket;
  // EventBridge carries the key as it is, not URL-encoded.
  event.detail.object = { ...event.detail.object, key: o.key, size: o.size, etag: o.etag };
  return event;
}

export function fdrMessageFor(o: TestObject): FdrMessage {
  const message = loadNotification('fdr-message');
  message.bucket = o.bucket;
  message.totalSize = o.size;
  message.files = [{ ...message.files[0]!, path: o.key, size: o.size }];
  return message;
}

/** Replaces the body of a captured single-message SQS event. */
function inSqs(
  name: 'sqs-s3' | 'sqs-sns-s3' | 'sqs-eventbridge' | 'sqs-fdr',
  body: string,
): SQSEvent {
  const event = loadNotification(name);
  event.Records[0]!.body = body;
  return event;
}

/** The Lambda event that announces `o` in the given shape. */
export function notificationFor(shape: Shape, o: TestObject): unknown {
  const s3 = JSON.stringify(s3EventFor(o));
  switch (shape) {
    case 's3':
      return s3EventFor(o);
    case 'sqs-s3':
      return inSqs('sqs-s3', s3);
    case 'sns-s3': {
      const event = loadNotification('sns-s3');
      event.Records[0]!.Sns.Message = s3;
      return event;
    }
    case 'sqs-sns-s3': {
      const envelope = JSON.parse(loadNotification('sqs-sns-s3').Records[0]!.body) as Record<
        string,
        unknown
      >;
      return inSqs('sqs-sns-s3', JSON.stringify({ ...envelope, Message: s3 }));
    }
    case 'eventbridge':
      return eventBridgeEventFor(o);
    case 'sqs-eventbridge':
      return inSqs('sqs-eventbridge', JSON.stringify(eventBridgeEventFor(o)));
    case 'sqs-fdr':
      return inSqs('sqs-fdr', JSON.stringify(fdrMessageFor(o)));
  }
}

/** One SQS event carrying several messages (ids `msg-0`, `msg-1`, ...). */
export function sqsBatch(bodies: readonly string[]): SQSEvent {
  const template = loadNotification('sqs-s3').Records[0]!;
  return {
    Records: bodies.map((body, i) => ({
      ...structuredClone(template),
      messageId: `msg-${i}`,
      body,
    })),
  };
}
