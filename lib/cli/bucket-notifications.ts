/**
 * S3 event notifications for the local bucket, which the emulator does not have: every object
 * write it answers with success, whoever made it (the AWS CLI, an SDK, `npm start`), becomes one
 * `ObjectCreated:*` event on the queue whose prefix filter matches the key, as S3 sends it to the
 * queues the CDK app subscribes (infra/grants.ts, bindPrefixNotifications).
 *
 * It watches the emulator's HTTP answers rather than its storage, so it sees writes exactly as S3
 * counts them: a PutObject, a CopyObject or a CompleteMultipartUpload is one event; the parts of a
 * multipart upload are none.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The S3 event types this emulation sends (the ones S3 sends for a new object over HTTP). */
export type ObjectCreatedEventName =
  | 'ObjectCreated:Put'
  | 'ObjectCreated:Copy'
  | 'ObjectCreated:CompleteMultipartUpload';

/** A bucket notification rule: objects created under `prefix` are announced on `queueUrl`. */
export interface NotificationRule {
  prefix: string;
  queueUrl: string;
}

export interface CreatedObject {
  bucket: string;
  key: string;
  eventName: ObjectCreatedEventName;
}

export interface BucketNotifierDeps {
  /** The rules of a bucket (none: the bucket notifies nothing, as an unconfigured S3 bucket). */
  rules(bucket: string): readonly NotificationRule[];
  /** Size and ETag of an object as stored now. */
  head(bucket: string, key: string): Promise<{ size: number; etag: string }>;
  /** Sends the S3 event JSON (`{"Records":[...]}`) to a queue. */
  send(
    queueUrl: string,
    body: string,
    object: CreatedObject & { size: number; etag: string },
  ): Promise<void>;
  /** A notification that could not be sent (the write itself succeeded, as with S3). */
  onError(error: Error, object: CreatedObject): void;
}

export interface BucketNotifier {
  /** Notifications sent so far to a queue. */
  sent(queueUrl: string): number;
  /** Resolves when every write answered so far has had its notifications sent. */
  settled(): Promise<void>;
}

type S3Request = Pick<FastifyRequest, 'method' | 'params' | 'query' | 'headers'>;

/**
 * Which object an emulator answer created, if any. Routes as the emulator routes them: `PUT
 * /bucket/key` is PutObject (CopyObject with `x-amz-copy-source`) unless it uploads a part;
 * `POST /bucket/key?uploadId=` completes a multipart upload.
 */
export function createdObject(request: S3Request, statusCode: number): CreatedObject | undefined {
  if (statusCode !== 200) return undefined;
  const params = request.params as { bucket?: string; '*'?: string } | undefined;
  const bucket = params?.bucket;
  const key = params?.['*'];
  if (!bucket || !key) return undefined;
  const query = (request.query ?? {}) as Record<string, unknown>;
  if (request.method === 'PUT') {
    if ('renameObject' in query || (query.uploadId && query.partNumber)) return undefined;
    const copy = request.headers['x-amz-copy-source'] !== undefined;
    return { bucket, key, eventName: copy ? 'ObjectCreated:Copy' : 'ObjectCreated:Put' };
  }
  if (request.method === 'POST' && query.uploadId && !('uploads' in query)) {
    return { bucket, key, eventName: 'ObjectCreated:CompleteMultipartUpload' };
  }
  return undefined;
}

/**
 * Hooks the notifications into the emulator (call before it listens). `event` builds the S3
 * event JSON of one object.
 */
export function emulateBucketNotifications(
  app: Pick<FastifyInstance, 'addHook'>,
  deps: BucketNotifierDeps,
  event: (object: CreatedObject & { size: number; etag: string }) => unknown,
): BucketNotifier {
  const counts = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  const notify = async (object: CreatedObject) => {
    const rules = deps.rules(object.bucket).filter((r) => object.key.startsWith(r.prefix));
    if (rules.length === 0) return;
    try {
      const stored = { ...object, ...(await deps.head(object.bucket, object.key)) };
      const body = JSON.stringify(event(stored));
      for (const rule of rules) {
        await deps.send(rule.queueUrl, body, stored);
        counts.set(rule.queueUrl, (counts.get(rule.queueUrl) ?? 0) + 1);
      }
    } catch (err) {
      deps.onError(err instanceof Error ? err : new Error(String(err)), object);
    }
  };
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const object = createdObject(request, reply.statusCode);
    if (object) {
      const p = notify(object).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    done();
  });
  return {
    sent: (queueUrl) => counts.get(queueUrl) ?? 0,
    settled: async () => {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}
