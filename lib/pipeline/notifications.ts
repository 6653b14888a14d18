/**
 * Every notification shape the functions accept, reduced to the objects to scan. Pure: no I/O.
 *
 * - S3 event notifications (`{"Records":[{"eventSource":"aws:s3",...}]}`), delivered directly,
 *   inside SQS messages (the CDK app's wiring), inside SNS messages, or SNS inside SQS;
 * - EventBridge "Object Created" events (directly or as an SQS/SNS target);
 * - the CrowdStrike Falcon Data Replicator queue message (`{"bucket":...,"files":[{"path":...}]}`).
 */
import { NotificationError } from './errors.ts';

/** How deep envelopes may nest (SQS > SNS > S3 is 3); anything deeper is not a real delivery. */
export const MAX_ENVELOPE_DEPTH = 4;

/** The notification an object came from. */
export type NotificationShape = 's3' | 'eventbridge' | 'fdr';
/** Envelopes around it, outermost first. */
export type Envelope = 'sqs' | 'sns';

export interface ObjectRef {
  bucket: string;
  /** Decoded: exactly the key to pass to GetObject. */
  key: string;
  size?: number;
  etag?: string;
  versionId?: string;
  shape: NotificationShape;
  via: Envelope[];
}

export type IgnoreReason =
  | 'test-event'
  | 'not-object-created'
  | 'empty-object'
  | 'folder-marker'
  | 'quarantine-output';

export interface IgnoredNotification {
  reason: IgnoreReason;
  bucket?: string;
  key?: string;
}

/** One unit of success or failure: an SQS message, or the whole direct invocation. */
export interface NotificationItem {
  /** The SQS messageId (what `batchItemFailures` names); undefined for direct invocations. */
  itemId: string | undefined;
  objects: ObjectRef[];
  ignored: IgnoredNotification[];
  /** Set when the message cannot be read at all: the item fails, so the DLQ keeps it. */
  error?: NotificationError;
}

export interface ParsedInvocation {
  /** `sqs`: report partial failures; `direct`: throw when anything failed. */
  kind: 'sqs' | 'direct';
  items: NotificationItem[];
}

export interface ParseOptions {
  /** Keys under these prefixes are the pipeline's own output (quarantine) and never scanned. */
  ignorePrefixes?: readonly string[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  // FDR sends sizes as numbers, but a string is harmless to accept.
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
};

/**
 * S3 event notifications URL-encode the key, with `+` for a space ("red flower.jpg" arrives as
 * "red+flower.jpg"): https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
 */
export function decodeS3EventKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch (err) {
    throw new NotificationError(`S3 event key is not URL-encoded UTF-8: ${JSON.stringify(key)}`, {
      cause: err,
    });
  }
}

/** A stable id for one version of an object: what the alert policy keys cross-object state on. */
export function objectId(ref: Pick<ObjectRef, 'bucket' | 'key' | 'etag' | 'versionId'>): string {
  const version = ref.versionId ?? ref.etag;
  return `s3://${ref.bucket}/${ref.key}${version === undefined ? '' : `#${version}`}`;
}

class Collector {
  readonly objects: ObjectRef[] = [];
  readonly ignored: IgnoredNotification[] = [];
  constructor(private readonly ignorePrefixes: readonly string[]) {}

  /** An object a notification names; its optional fields may be read as undefined. */
  add(found: {
    bucket: string;
    key: string;
    size?: number | undefined;
    etag?: string | undefined;
    versionId?: string | undefined;
    shape: NotificationShape;
    via: Envelope[];
  }): void {
    const { bucket, key, size, etag, versionId, shape, via } = found;
    const ref: ObjectRef = {
      bucket,
      key,
      ...(size === undefined ? {} : { size }),
      ...(etag === undefined ? {} : { etag }),
      ...(versionId === undefined ? {} : { versionId }),
      shape,
      via,
    };
    if (ref.size === 0) this.ignored.push({ reason: 'empty-object', bucket, key });
    else if (key.endsWith('/')) this.ignored.push({ reason: 'folder-marker', bucket, key });
    else if (this.ignorePrefixes.some((p) => key.startsWith(p))) {
      this.ignored.push({ reason: 'quarantine-output', bucket, key });
    } else this.objects.push(ref);
  }
}

function s3Records(records: unknown[], via: Envelope[], out: Collector): void {
  for (const [i, record] of records.entries()) {
    if (!isObject(record) || record.eventSource !== 'aws:s3' || !isObject(record.s3)) {
      throw new NotificationError(`Records[${i}] is not an S3 event record`);
    }
    const s3 = record.s3;
    const bucket = isObject(s3.bucket) ? str(s3.bucket.name) : undefined;
    const object = isObject(s3.object) ? s3.object : undefined;
    const rawKey = object ? str(object.key) : undefined;
    if (bucket === undefined || object === undefined || rawKey === undefined) {
      throw new NotificationError(`Records[${i}] has no s3.bucket.name or s3.object.key`);
    }
    const key = decodeS3EventKey(rawKey);
    const eventName = str(record.eventName) ?? '';
    if (!eventName.startsWith('ObjectCreated:')) {
      out.ignored.push({ reason: 'not-object-created', bucket, key });
      continue;
    }
    const size = num(object.size);
    const etag = str(object.eTag);
    const versionId = str(object.versionId);
    out.add({ bucket, key, size, etag, versionId, shape: 's3', via });
  }
}

// https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html: the key is not encoded.
function eventBridge(event: Json, via: Envelope[], out: Collector): void {
  const detail = isObject(event.detail) ? event.detail : undefined;
  const bucket = detail && isObject(detail.bucket) ? str(detail.bucket.name) : undefined;
  const object = detail && isObject(detail.object) ? detail.object : undefined;
  const key = object ? str(object.key) : undefined;
  if (event['detail-type'] !== 'Object Created') {
    out.ignored.push({
      reason: 'not-object-created',
      ...(bucket === undefined ? {} : { bucket }),
      ...(key === undefined ? {} : { key }),
    });
    return;
  }
  if (bucket === undefined || object === undefined || key === undefined) {
    throw new NotificationError(
      'EventBridge Object Created event has no detail.bucket.name or detail.object.key',
    );
  }
  const size = num(object.size);
  const etag = str(object.etag);
  const versionId = str(object['version-id']);
  out.add({ bucket, key, size, etag, versionId, shape: 'eventbridge', via });
}

// The Falcon Data Replicator queue message: paths are plain keys in CrowdStrike's bucket.
function fdr(message: Json, via: Envelope[], out: Collector): void {
  const bucket = str(message.bucket);
  const files = message.files;
  if (bucket === undefined || !Array.isArray(files)) {
    throw new NotificationError('Falcon Data Replicator message has no bucket or files');
  }
  for (const [i, file] of files.entries()) {
    const key = isObject(file) ? str(file.path) : undefined;
    if (key === undefined) throw new NotificationError(`FDR files[${i}] has no path`);
    const size = isObject(file) ? num(file.size) : undefined;
    out.add({ bucket, key, size, shape: 'fdr', via });
  }
}

function describe(value: unknown): string {
  if (isObject(value))
    return `an object with keys ${Object.keys(value).slice(0, 8).join(', ') || '(none)'}`;
  return Array.isArray(value) ? 'an array' : typeof value;
}

/** One message body (a string or parsed JSON) and whatever envelopes it carries. */
function parseMessage(value: unknown, via: Envelope[], out: Collector, depth: number): void {
  if (depth > MAX_ENVELOPE_DEPTH) throw new NotificationError('envelopes nested too deep');
  let message = value;
  if (typeof value === 'string') {
    try {
      message = JSON.parse(value);
    } catch (err) {
      throw new NotificationError(`message is not JSON: ${JSON.stringify(value.slice(0, 80))}`, {
        cause: err,
      });
    }
  }
  if (!isObject(message)) throw new NotificationError(`message is ${describe(message)}`);

  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html:
  // S3 sends one s3:TestEvent when a notification configuration is saved.
  if (message.Event === 's3:TestEvent') {
    const bucket = str(message.Bucket);
    out.ignored.push({ reason: 'test-event', ...(bucket === undefined ? {} : { bucket }) });
    return;
  }
  if (Array.isArray(message.Records)) {
    s3Records(message.Records, via, out);
    return;
  }
  if (message.Type === 'Notification' && typeof message.Message === 'string') {
    parseMessage(message.Message, [...via, 'sns'], out, depth + 1);
    return;
  }
  if (message.source === 'aws.s3' && typeof message['detail-type'] === 'string') {
    eventBridge(message, via, out);
    return;
  }
  if ('files' in message && 'bucket' in message) {
    fdr(message, via, out);
    return;
  }
  throw new NotificationError(`unrecognised notification: ${describe(message)}`);
}

function parseItem(
  itemId: string | undefined,
  value: unknown,
  via: Envelope[],
  ignorePrefixes: readonly string[],
): NotificationItem {
  const out = new Collector(ignorePrefixes);
  try {
    parseMessage(value, via, out, 0);
  } catch (err) {
    const error =
      err instanceof NotificationError
        ? err
        : new NotificationError((err as Error).message, { cause: err });
    return { itemId, objects: [], ignored: out.ignored, error };
  }
  return { itemId, objects: out.objects, ignored: out.ignored };
}

/**
 * Splits a Lambda invocation into items. An SQS batch gives one item per message (partial
 * failures name them); anything else is one item per SNS record, or one for the whole event.
 */
export function parseInvocation(event: unknown, options: ParseOptions = {}): ParsedInvocation {
  const ignorePrefixes = options.ignorePrefixes ?? [];
  const records = isObject(event) && Array.isArray(event.Records) ? event.Records : undefined;
  const first = records?.[0];
  if (records && isObject(first) && first.eventSource === 'aws:sqs') {
    return {
      kind: 'sqs',
      items: records.map((record, i) => {
        const itemId = isObject(record) ? str(record.messageId) : undefined;
        if (!isObject(record) || itemId === undefined) {
          return {
            itemId: itemId ?? `Records[${i}]`,
            objects: [],
            ignored: [],
            error: new NotificationError(`Records[${i}] is not an SQS message`),
          };
        }
        return parseItem(itemId, record.body, ['sqs'], ignorePrefixes);
      }),
    };
  }
  if (records && isObject(first) && first.EventSource === 'aws:sns') {
    return {
      kind: 'direct',
      items: records.map((record) => {
        const sns = isObject(record) && isObject(record.Sns) ? record.Sns : undefined;
        return parseItem(undefined, sns?.Message, ['sns'], ignorePrefixes);
      }),
    };
  }
  return { kind: 'direct', items: [parseItem(undefined, event, [], ignorePrefixes)] };
}
