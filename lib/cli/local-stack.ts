/**
 * The pipeline's AWS side on this machine: fauxqs (real S3, SNS and SQS HTTP APIs) in-process on
 * loopback with what the CDK app deploys (the bucket notifying a queue per source prefix, the
 * alert topic and a queue subscribed to it, the state table in dynalite), and what the emulator
 * lacks to behave as AWS: bucket notifications (bucket-notifications.ts) and SNS's delivery of a
 * message structure (sns-delivery.ts). Lambda's side is event-source.ts. Used by `npm start` and
 * by the integration tests; never by the functions.
 */

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
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
import {
  DEFAULT_BATCH_SIZE,
  type DetectionSource,
  SOURCE_PREFIXES,
  SOURCES,
} from '../../infra/config.ts';
import type { AlertGroup, DetectionFinding } from '../alert/index.ts';
import { ENV, type FunctionEnvironment } from '../config/env.ts';
import {
  type BucketNotifier,
  type CreatedObject,
  emulateBucketNotifications,
  type NotificationRule,
  type ObjectCreatedEventName,
} from './bucket-notifications.ts';
import { emulateSnsDelivery } from './sns-delivery.ts';

/** Any region works against the emulator; this is the one ARNs and URLs are made in. */
export const LOCAL_REGION = 'us-east-1';
/** fauxqs accepts any credentials; the SDK still needs some to sign with. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;
export const LOCAL_BUCKET = 't1102-detection-local';
export const LOCAL_TOPIC = 't1102-alerts';
export const LOCAL_ALERT_QUEUE = 't1102-alerts-inbox';
/** Messages per handler invocation, as the CDK app's event source mapping sends them. */
export const LOCAL_BATCH_SIZE = DEFAULT_BATCH_SIZE;
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
  /** The queue subscribed to the alert topic for the user (and tests) to read; nothing else reads it. */
  alertQueueUrl: string;
  s3: S3Client;
  sns: SNSClient;
  sqs: SQSClient;
  /** The cross-object state table in dynalite (absent when started without state). */
  state?: { endpoint: string; table: string };
  /** The queue S3 notifies for each source prefix, as the CDK app routes them. */
  notificationQueues: Readonly<Record<DetectionSource, { url: string; arn: string }>>;
  /** Counts the bucket's notifications and tells when those of every write so far are sent. */
  notifier: BucketNotifier;
  /** Creates a queue subscribed to the alert topic (another subscriber, as `aws sns subscribe`). */
  subscribe(
    name: string,
    attributes?: Record<string, string>,
  ): Promise<{ url: string; arn: string }>;
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
  /** Where a notification that could not be sent is reported (default: standard error). */
  onNotificationError?: (error: Error, object: CreatedObject) => void;
}

export const LOCAL_STATE_TABLE = 't1102-state';
/** Receives before a notification that keeps failing moves to its dead-letter queue (as infra/). */
export const LOCAL_MAX_RECEIVE_COUNT = 5;
/** Seconds a failed notification stays invisible before its retry (Lambda's is 6x the timeout). */
export const LOCAL_VISIBILITY_TIMEOUT_SECONDS = 30;
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

type QueueRef = { url: string; arn: string };
type Clients = { s3: S3Client; sns: SNSClient; sqs: SQSClient };

/**
 * Hooks S3 notifications and SNS delivery into the emulator before it listens. The notifications
 * reach the bucket's `rules` through `clients`, which exist once it listens.
 */
function emulateAws(
  app: Parameters<typeof emulateSnsDelivery>[0],
  bucket: string,
  rules: readonly NotificationRule[],
  clients: Partial<Clients>,
  onError: LocalStackOptions['onNotificationError'],
): BucketNotifier {
  emulateSnsDelivery(app);
  return emulateBucketNotifications(
    app,
    {
      rules: (b) => (b === bucket ? rules : []),
      head: async (b, key) => {
        const head = await clients.s3!.send(new HeadObjectCommand({ Bucket: b, Key: key }));
        return { size: head.ContentLength ?? 0, etag: head.ETag ?? '' };
      },
      send: async (queueUrl, body) => {
        await clients.sqs!.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      },
      onError:
        onError ??
        ((err, o) =>
          process.stderr.write(
            `s3://${o.bucket}/${o.key}: no notification sent: ${err.message}\n`,
          )),
    },
    (o) => s3ObjectCreatedEvent(o),
  );
}

/** The bucket, the topic, the user's subscription and a notification queue per source. */
async function createResources(
  { s3, sns, sqs }: Clients,
  bucket: string,
  rawDelivery: boolean,
): Promise<{
  topicArn: string;
  alertQueue: QueueRef;
  notificationQueues: Record<DetectionSource, QueueRef>;
  subscribe: LocalStack['subscribe'];
}> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: LOCAL_TOPIC }))).TopicArn!;
  const createQueue = async (name: string, attributes?: Record<string, string>) => {
    const url = (
      await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))
    ).QueueUrl!;
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
    );
    return { url, arn: attrs.Attributes!.QueueArn! };
  };
  const subscribe = async (name: string, attributes: Record<string, string> = {}) => {
    const queue = await createQueue(name);
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: queue.arn,
        Attributes: attributes,
      }),
    );
    return queue;
  };
  const alertQueue = await subscribe(LOCAL_ALERT_QUEUE, {
    RawMessageDelivery: String(rawDelivery),
  });
  const notificationQueues = {} as Record<DetectionSource, QueueRef>;
  for (const source of SOURCES) {
    const dlq = await createQueue(`t1102-${source}-notifications-dlq`);
    notificationQueues[source] = await createQueue(`t1102-${source}-notifications`, {
      VisibilityTimeout: String(LOCAL_VISIBILITY_TIMEOUT_SECONDS),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: dlq.arn,
        maxReceiveCount: LOCAL_MAX_RECEIVE_COUNT,
      }),
    });
  }
  return { topicArn, alertQueue, notificationQueues, subscribe };
}

/**
 * Starts the emulator on loopback and creates what the CDK app deploys: the bucket, whose writes
 * under each source prefix notify that source's queue (with a dead-letter queue), the alert topic
 * delivering as SNS does, and the user's queue subscribed to it.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const { buildApp } = await loadFauxqs();
  const app = buildApp({ logger: false });
  const bucket = options.bucket ?? LOCAL_BUCKET;
  const rules: NotificationRule[] = [];
  const clients: Partial<Clients> = {};
  const notifier = emulateAws(app, bucket, rules, clients, options.onNotificationError);
  // fauxqs's own startFauxqs listens on every interface; this listens on loopback only.
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  const common = { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  const sns = new SNSClient(common);
  const sqs = new SQSClient(common);
  Object.assign(clients, { s3, sns, sqs });
  const state = options.state ? await startDynalite() : undefined;
  const stop = async () => {
    await notifier.settled();
    s3.destroy();
    sns.destroy();
    sqs.destroy();
    await Promise.all([app.close(), state?.stop()]);
  };
  try {
    const created = await createResources({ s3, sns, sqs }, bucket, options.rawDelivery ?? false);
    for (const source of SOURCES) {
      rules.push({
        prefix: SOURCE_PREFIXES[source],
        queueUrl: created.notificationQueues[source].url,
      });
    }
    return {
      endpoint,
      port,
      region: LOCAL_REGION,
      bucket,
      topicArn: created.topicArn,
      alertQueueUrl: created.alertQueue.url,
      ...(state ? { state: { endpoint: state.endpoint, table: state.table } } : {}),
      s3,
      sns,
      sqs,
      notificationQueues: created.notificationQueues,
      notifier,
      subscribe: created.subscribe,
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
  const functions: FunctionEnvironment = {
    ...(stack.state
      ? { STATE_TABLE: stack.state.table, AWS_ENDPOINT_URL_DYNAMODB: stack.state.endpoint }
      : {}),
    ALERT_TOPIC_ARN: stack.topicArn,
    QUARANTINE_PREFIX: ENV.QUARANTINE_PREFIX.default,
    AWS_ENDPOINT_URL: stack.endpoint,
    AWS_REGION: stack.region,
    S3_FORCE_PATH_STYLE: 'true',
    POWERTOOLS_METRICS_NAMESPACE: ENV.POWERTOOLS_METRICS_NAMESPACE.default,
  };
  return {
    ...functions,
    // Read by the SDK's credential chain, as Lambda sets them for the function's role.
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  };
}

/** S3 event notifications URL-encode keys, with `+` for spaces and `/` kept. */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

let sequence = 0n;
/** S3's sequencer orders the events of one key: hexadecimal, growing with every write. */
function nextSequencer(): string {
  sequence = sequence + 1n > BigInt(Date.now()) << 12n ? sequence + 1n : BigInt(Date.now()) << 12n;
  return sequence.toString(16).toUpperCase().padStart(18, '0');
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
  eventName?: ObjectCreatedEventName;
  region?: string;
  time?: Date;
}): S3Event {
  const event = loadEventFixture<S3Event>('s3-object-created.json');
  const record = event.Records[0] as S3EventRecord;
  const { versionId: _unversioned, ...captured } = record.s3.object;
  record.awsRegion = object.region ?? LOCAL_REGION;
  record.eventTime = (object.time ?? new Date()).toISOString();
  record.eventName = object.eventName ?? 'ObjectCreated:Put';
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
    sequencer: nextSequencer(),
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

/** An alert as a subscriber receives it. */
export interface ReceivedAlert {
  subject: string | undefined;
  finding: DetectionFinding;
  /** The message attributes (of the SNS envelope, or of the SQS message with raw delivery). */
  attributes: Record<string, string>;
  /** The SQS message body as delivered: the SNS envelope, or the message itself when raw. */
  body: string;
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
  return { subject, finding: JSON.parse(published) as DetectionFinding, attributes, body };
}

/**
 * Receives and deletes alerts from a subscribed queue (the user's unless `queueUrl` names another):
 * everything there now, or, with `expected`, until that many arrived or `waitMs` passed.
 */
export async function receiveAlerts(
  stack: Pick<LocalStack, 'sqs' | 'alertQueueUrl'>,
  options: { expected?: number; waitMs?: number; queueUrl?: string } = {},
): Promise<ReceivedAlert[]> {
  const queueUrl = options.queueUrl ?? stack.alertQueueUrl;
  const alerts: ReceivedAlert[] = [];
  const deadline = Date.now() + (options.waitMs ?? ALERT_WAIT_MS);
  for (;;) {
    const got = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
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
          QueueUrl: queueUrl,
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
