import { GetObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { ObjectReadError } from './errors.ts';
import type { ObjectRef } from './notifications.ts';

/** The one S3 call reading needs: narrow, so tests and other callers can pass any client. */
export interface S3Reader {
  send(
    command: GetObjectCommand,
    options?: { abortSignal?: AbortSignal },
  ): Promise<GetObjectCommandOutput>;
}

export interface OpenedObject {
  /** The object's bytes as they arrive from S3: never buffered whole. */
  body: AsyncIterable<Uint8Array>;
  contentLength: number | undefined;
  /** The ETag S3 answered with (quotes included, as S3 sends it). */
  etag: string | undefined;
  /** Releases the connection when the scan stopped before the end of the body. */
  close(): void;
}

const MISSING_CODES = new Set(['NoSuchKey', 'NoSuchVersion', 'NotFound', 'NoSuchBucket']);

/**
 * Opens one object for streaming with GetObject. The notified version is read when the
 * notification names one, so an overwrite between the event and the read cannot change what is
 * scanned. Throws ObjectReadError (`missing` when S3 answers that it does not exist).
 *
 * `signal` stops the read: the request, or the body part-way, which then throws the signal's
 * reason even while S3 sends nothing (a stalled connection never ends a read by itself).
 * `close()` must follow.
 */
export async function openObject(
  s3: S3Reader,
  ref: Pick<ObjectRef, 'bucket' | 'key' | 'versionId'>,
  signal?: AbortSignal,
): Promise<OpenedObject> {
  const origin = `s3://${ref.bucket}/${ref.key}`;
  let out: GetObjectCommandOutput;
  try {
    out = await s3.send(
      new GetObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        ...(ref.versionId === undefined ? {} : { VersionId: ref.versionId }),
      }),
      signal ? { abortSignal: signal } : undefined,
    );
  } catch (err) {
    if (signal?.aborted) throw aborted(origin, signal, err);
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const missing = MISSING_CODES.has(e.name ?? '') || e.$metadata?.httpStatusCode === 404;
    throw new ObjectReadError(
      origin,
      missing
        ? `does not exist (${e.name})`
        : `GetObject failed: ${e.name ?? 'Error'}: ${e.message ?? ''}`,
      { cause: err, missing },
    );
  }
  const body = out.Body as unknown;
  if (body === undefined || body === null || !(Symbol.asyncIterator in (body as object))) {
    throw new ObjectReadError(origin, 'GetObject returned no readable body');
  }
  const stream = body as AsyncIterable<Uint8Array> & { destroy?: (err?: Error) => void };
  if (signal?.aborted) {
    stream.destroy?.();
    throw aborted(origin, signal);
  }
  // The SDK's body is a Node.js stream: destroyed with the signal's reason, it rejects the read in
  // progress with it, even one waiting on a stalled connection. Nothing is added per chunk.
  const onAbort = () => stream.destroy?.(signal?.reason as Error);
  signal?.addEventListener('abort', onAbort, { once: true });
  return {
    body: stream,
    contentLength: out.ContentLength,
    etag: out.ETag,
    close: () => {
      signal?.removeEventListener('abort', onAbort);
      stream.destroy?.();
    },
  };
}

/** The read stopped by `signal`: its reason (the invocation's deadline) is the message. */
function aborted(origin: string, signal: AbortSignal, cause?: unknown): ObjectReadError {
  return new ObjectReadError(origin, (signal.reason as Error).message, { cause });
}
