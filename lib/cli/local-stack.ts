/**
 * The pipeline's AWS side on this machine: fauxqs (real S3, SNS and SQS HTTP APIs) in-process on
 * loopback, the bucket, the alert topic and a queue subscribed to it, plus what Lambda would do
 * around the handlers (S3 notifications into an SQS queue, polled in batches, partial failures
 * left on the queue). Used by `npm start` and by the integration tests; never by the functions.
 */

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type {
  Context,
  S3Event,
  S3EventRecord,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import dynalite from 'dynalite';
import type { AlertGroup, DetectionFinding } from '../alert/index.ts';

/** Any region works against the emulator; this is the one ARNs and URLs are made in. */
export const LOCAL_REGION = 'us-east-1';
/** fauxqs accepts any credentials; the SDK still needs some to sign with. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;
export const LOCAL_BUCKET = 't1102-detection-local';
export const LOCAL_TOPIC = 't1102-alerts';
export const LOCAL_ALERT_QUEUE = 't1102-alerts-inbox';
/** Messages per handler invocation, as the CDK app's event source mapping sends them. */
export const LOCAL_BATCH_SIZE = 5;
/** SQS ReceiveMessage returns at most 10 messages per call. */
const MAX_RECEIVE = 10;
/** How long to wait for alerts that are expected but not yet on the queue. */
export const ALERT_WAIT_MS = 5_000;
const ALERT_POLL_MS = 50;

const EVENTS_DIR = new URL('../../events/notifications/', import.meta.url);

let fauxqsModule: Promise<typeof import('fauxqs')> | undefined;

/**
 * fauxqs 2.x imports `node:sqlite` (for its optional persistence, unused here), which exists
 * only from Node 22.5. On older Node the import alone fails; a loader hook hands fauxqs a stub
 * instead, so the emulator runs on the Node 20 this project also supports.
 */
export function loadFauxqs(): Promise<typeof import('fauxqs')> {
  fauxqsModule ??= (async () => {
    const sqlite = 'node:sqlite';
    try {
      await import(sqlite);
    } catch {
      const stub =
        'export class DatabaseSync { constructor() { throw new Error("fauxqs persistence needs node:sqlite (Node >= 22.5)"); } }';
      const hooks = `export async function resolve(specifier, context, next) {
        if (specifier === 'node:sqlite') return { url: ${JSON.stringify(`data:text/javascript,${encodeURIComponent(stub)}`)}, shortCircuit: true };
        return next(specifier, context);
      }`;
      register(`data:text/javascript,${encodeURIComponent(hooks)}`);
    }
    return import('fauxqs');
  })();
  return fauxqsModule;
}

export interface LocalStack {
  /** `http://127.0.0.1:<port>`: AWS_ENDPOINT_URL for the handlers and `--endpoint-url` for the CLI. */
  endpoint: string;
  port: number;
  region: string;
  bucket: string;
  topicArn: string;
  /** The queue subscribed to the alert topic. */
  alertQueueUrl: string;
  s3: S3Client;
  sns: SNSClient;
  sqs: SQSClient;
  /** The cross-object state table in dynalite (absent when started without state). */
  state?: { endpoint: string; table: string };
  /** Creates (once) the queue S3 would notify for a source, and returns its URL and ARN. */
  notificationQueue(source: string): Promise<{ url: string; arn: string }>;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  bucket?: string;
  /** RawMessageDelivery on the alert subscription (default false: the SNS envelope). */
  rawDelivery?: boolean;
  /** Also start dynalite (DynamoDB) with the state table, as the deployed stack has. */
  state?: boolean;
}

export const LOCAL_STATE_TABLE = 't1102-state';

/** Creates the state table as infra/ defines it (pk/sk strings, on demand) and waits for it. */
export async function createStateTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  // dynalite is told to take 0 ms for CREATING -> ACTIVE; real DynamoDB takes seconds.
  await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 1 }, { TableName: tableName });
}

/** dynalite on loopback with the state table (pk/sk strings), as infra/ creates it. */
async function startDynalite(): Promise<{
  endpoint: string;
  table: string;
  stop(): Promise<void>;
}> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const stop = async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  try {
    await createStateTable(client, LOCAL_STATE_TABLE);
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint, table: LOCAL_STATE_TABLE, stop };
}

/** Starts the emulator on loopback and creates the bucket, topic and subscribed queue. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const { buildApp } = await loadFauxqs();
  const app = buildApp({ logger: false });
  // fauxqs's own startFauxqs listens on every interface; this listens on loopback only.
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  const common = { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  const sns = new SNSClient(common);
  const sqs = new SQSClient(common);
  const state = options.state ? await startDynalite() : undefined;
  const stop = async () => {
    s3.destroy();
    sns.destroy();
    sqs.destroy();
    await Promise.all([app.close(), state?.stop()]);
  };
  try {
    const bucket = options.bucket ?? LOCAL_BUCKET;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: LOCAL_TOPIC }))).TopicArn!;
    const createQueue = async (name: string) => {
      const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
      const attrs = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
      );
      return { url, arn: attrs.Attributes!.QueueArn! };
    };
    const alertQueue = await createQueue(LOCAL_ALERT_QUEUE);
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: alertQueue.arn,
        Attributes: { RawMessageDelivery: options.rawDelivery ? 'true' : 'false' },
      }),
    );
    const queues = new Map<string, Promise<{ url: string; arn: string }>>();
    return {
      endpoint,
      port,
      region: LOCAL_REGION,
      bucket,
      topicArn,
      alertQueueUrl: alertQueue.url,
      ...(state ? { state: { endpoint: state.endpoint, table: state.table } } : {}),
      s3,
      sns,
      sqs,
      notificationQueue: (source) => {
        let q = queues.get(source);
        if (!q) {
          q = createQueue(`t1102-${source}-notifications`);
          queues.set(source, q);
        }
        return q;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The environment the real handlers read, pointed at the local stack. */
export function handlerEnv(
  stack: Pick<LocalStack, 'endpoint' | 'region' | 'topicArn' | 'state'>,
): Record<string, string> {
  return {
    ...(stack.state
      ? { STATE_TABLE: stack.state.table, AWS_ENDPOINT_URL_DYNAMODB: stack.state.endpoint }
      : {}),
    ALERT_TOPIC_ARN: stack.topicArn,
    QUARANTINE_PREFIX: 'quarantine/',
    AWS_ENDPOINT_URL: stack.endpoint,
    AWS_REGION: stack.region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    POWERTOOLS_METRICS_NAMESPACE: 'T1102Detection',
  };
}

/** S3 event notifications URL-encode keys, with `+` for spaces and `/` kept. */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

function loadEventFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, EVENTS_DIR), 'utf8')) as T;
}

/**
 * The S3 event notification S3 sends for a new object, made from a captured one
 * (events/notifications/s3-object-created.json) with this object's bucket, key, size and ETag.
 */
export function s3ObjectCreatedEvent(object: {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  region?: string;
  time?: Date;
}): S3Event {
  const event = loadEventFixture<S3Event>('s3-object-created.json');
  const record = event.Records[0] as S3EventRecord;
  const { versionId: _unversioned, ...captured } = record.s3.object;
  record.awsRegion = object.region ?? LOCAL_REGION;
  record.eventTime = (object.time ?? new Date()).toISOString();
  record.s3.bucket = {
    ...record.s3.bucket,
    name: object.bucket,
    arn: `arn:aws:s3:::${object.bucket}`,
  };
  record.s3.object = {
    ...captured,
    key: encodeS3EventKey(object.key),
    size: object.size,
    eTag: object.etag.replace(/"/g, ''),
    sequencer: Date.now().toString(16).toUpperCase().padStart(18, '0'),
  };
  return event;
}

/** The Lambda event for SQS messages, as the event source mapping builds it. */
export function sqsEventFromMessages(messages: readonly Message[], queueArn: string): SQSEvent {
  const template = loadEventFixture<SQSEvent>('sqs-s3.json').Records[0] as SQSRecord;
  return {
    Records: messages.map((m) => ({
      ...template,
      messageId: m.MessageId ?? '',
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
      md5OfBody: m.MD5OfBody ?? '',
      attributes: { ...template.attributes, ...(m.Attributes ?? {}) },
      messageAttributes: {},
      eventSourceARN: queueArn,
      awsRegion: queueArn.split(':')[3] ?? LOCAL_REGION,
    })),
  };
}

/** A Lambda context good enough for Powertools Logger. */
export function localContext(functionName: string): Context {
  const deadline = Date.now() + 300_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface PollResult {
  /** SQS messages handed to the handler. */
  messages: number;
  /** messageIds the handler reported as failed (left on the queue, as Lambda would). */
  failed: string[];
}

/**
 * Does what Lambda's SQS event source mapping does, until the queue is empty: receive up to
 * `batchSize` messages, invoke the handler, delete the messages it did not report as failed.
 * Failed messages are left in flight (they would reappear after the visibility timeout).
 */
export async function pollNotifications(
  sqs: SQSClient,
  queue: { url: string; arn: string },
  handler: Handler,
  functionName: string,
  batchSize = LOCAL_BATCH_SIZE,
): Promise<PollResult> {
  const result: PollResult = { messages: 0, failed: [] };
  for (;;) {
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: batchSize,
        MessageSystemAttributeNames: ['All'],
        WaitTimeSeconds: 0,
      }),
    );
    const messages = got.Messages ?? [];
    if (messages.length === 0) return result;
    result.messages += messages.length;
    const response = await handler(
      sqsEventFromMessages(messages, queue.arn),
      localContext(functionName),
    );
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    result.failed.push(...failed);
    const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  }
}

/** Sends one S3 notification for an object to a source's notification queue. */
export async function notifyObjectCreated(
  stack: LocalStack,
  source: string,
  object: { key: string; size: number; etag: string },
): Promise<void> {
  const queue = await stack.notificationQueue(source);
  await stack.sqs.send(
    new SendMessageCommand({
      QueueUrl: queue.url,
      MessageBody: JSON.stringify(s3ObjectCreatedEvent({ bucket: stack.bucket, ...object })),
    }),
  );
}

/** An alert as a subscriber receives it. */
export interface ReceivedAlert {
  subject: string | undefined;
  finding: DetectionFinding;
  /** The `email` body, when the delivery carried the whole message structure. */
  email: string | undefined;
  attributes: Record<string, string>;
  /** Bytes of the message body as published (the whole JSON structure). */
  publishedBytes: number;
}

type Json = Record<string, unknown>;
const parseJson = (s: string): unknown => {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
};
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads one SQS delivery from the alert subscription: an SNS envelope, or the raw message when
 * the subscription has RawMessageDelivery.
 */
export function parseAlertDelivery(message: Message): ReceivedAlert {
  const body = message.Body ?? '';
  let published = body;
  let subject: string | undefined;
  const attributes: Record<string, string> = {};
  for (const [name, a] of Object.entries(message.MessageAttributes ?? {})) {
    if (a.StringValue !== undefined) attributes[name] = a.StringValue;
  }
  const envelope = parseJson(body);
  if (
    isObject(envelope) &&
    envelope.Type === 'Notification' &&
    typeof envelope.Message === 'string'
  ) {
    published = envelope.Message;
    subject = typeof envelope.Subject === 'string' ? envelope.Subject : undefined;
    for (const [name, a] of Object.entries(
      isObject(envelope.MessageAttributes) ? envelope.MessageAttributes : {},
    )) {
      if (isObject(a) && typeof a.Value === 'string') attributes[name] = a.Value;
    }
  }
  // fauxqs 2.4 delivers a `MessageStructure: "json"` publish whole, where real SNS delivers only
  // its `sqs` (else `default`) entry: take that entry here, as a subscriber on AWS would get it.
  let text = published;
  let email: string | undefined;
  const structure = parseJson(published);
  if (isObject(structure) && typeof structure.default === 'string') {
    text = typeof structure.sqs === 'string' ? structure.sqs : structure.default;
    email = typeof structure.email === 'string' ? structure.email : undefined;
  }
  return {
    subject,
    finding: JSON.parse(text) as DetectionFinding,
    email,
    attributes,
    publishedBytes: Buffer.byteLength(published),
  };
}

/**
 * Receives and deletes alerts from the subscribed queue: everything there now, or, with
 * `expected`, until that many arrived or `waitMs` passed.
 */
export async function receiveAlerts(
  stack: Pick<LocalStack, 'sqs' | 'alertQueueUrl'>,
  options: { expected?: number; waitMs?: number } = {},
): Promise<ReceivedAlert[]> {
  const alerts: ReceivedAlert[] = [];
  const deadline = Date.now() + (options.waitMs ?? ALERT_WAIT_MS);
  for (;;) {
    const got = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.alertQueueUrl,
        MaxNumberOfMessages: MAX_RECEIVE,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 0,
      }),
    );
    const messages = got.Messages ?? [];
    if (messages.length > 0) {
      alerts.push(...messages.map(parseAlertDelivery));
      await stack.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: stack.alertQueueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
      continue;
    }
    if (
      options.expected === undefined ||
      alerts.length >= options.expected ||
      Date.now() > deadline
    ) {
      return alerts;
    }
    await new Promise((resolve) => setTimeout(resolve, ALERT_POLL_MS));
  }
}

/** The alert group a finding reports (key, count, first and last seen), for tables and CSV. */
export function groupOfFinding(f: DetectionFinding): AlertGroup {
  return {
    key: {
      host: f.device.hostname,
      user: f.actor.user.name,
      process: f.actor.process.name,
      domain: f.unmapped.domain,
    },
    tier: f.unmapped.tier,
    count: f.count,
    firstSeen: f.finding_info.first_seen_time,
    lastSeen: f.finding_info.last_seen_time,
    evidence: {
      commandLines: f.unmapped.command_lines,
      parents: f.unmapped.parent_processes,
      processPaths: f.unmapped.process_paths,
      dstIps: f.unmapped.dst_ips,
      dstPorts: f.unmapped.dst_ports,
      kinds: f.unmapped.event_kinds as AlertGroup['evidence']['kinds'],
      sources: f.unmapped.sources as AlertGroup['evidence']['sources'],
      provenance: f.unmapped.provenance,
    },
  };
}
