import type { Readable } from 'node:stream';
import {
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  PutObjectCommand,
  type PutObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { isRetryableError, ObjectReadError, openObject, type S3Reader } from '../pipeline/index.ts';
import type { ObjectRef } from '../pipeline/notifications.ts';
import { FdrCopyError } from './errors.ts';

/**
 * PutObject takes at most 5 GiB in one request; FDR files are tens of MiB, so a larger one is a
 * surprise worth failing on rather than a reason to buffer multipart parts.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html
 */
export const MAX_FDR_OBJECT_BYTES = 5 * 1024 ** 3;

/** User metadata on each copy: what it was copied from, to recognise it on a redelivery. */
export const COPY_METADATA = { etag: 'fdr-etag', size: 'fdr-size', source: 'fdr-source' } as const;

/**
 * Attempts per object. The SDK cannot retry a PutObject whose body is a stream it has already
 * sent, so a throttled or failed copy is retried here, from a fresh GetObject.
 */
export const COPY_MAX_ATTEMPTS = 3;
/** Backoff before copy attempt n+1: a random delay up to min(cap, base * 2^(n-1)). */
export const COPY_BASE_DELAY_MS = 200;
export const COPY_MAX_DELAY_MS = 2_000;

export interface S3Head {
  send(command: HeadObjectCommand): Promise<HeadObjectCommandOutput>;
}
export interface S3Put {
  send(command: PutObjectCommand): Promise<PutObjectCommandOutput>;
}

export type CopyOutcome =
  | { status: 'copied'; bytes: number; key: string }
  /** Already in the destination with the source's size and ETag: a redelivered message. */
  | { status: 'skipped'; key: string }
  /** CrowdStrike's bucket no longer has it (FDR keeps files 7 days); it never will again. */
  | { status: 'missing'; key: string };

export interface CopyTarget {
  bucket: string;
  /** Ends with `/`; the source key is appended as it is. */
  prefix: string;
  maxBytes?: number;
}

const isNotFound = (err: unknown): boolean => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
};

/** HeadObject, with "not there" as undefined instead of an error. */
async function head(
  s3: S3Head,
  bucket: string,
  key: string,
): Promise<HeadObjectCommandOutput | undefined> {
  try {
    return await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Whether the destination already holds this source object: the copy records the source's ETag
 * and size, which a HEAD of each side compares (the copy's own ETag differs under SSE-KMS).
 */
async function alreadyCopied(
  source: S3Head,
  destination: S3Head,
  ref: ObjectRef,
  target: CopyTarget,
  key: string,
): Promise<boolean> {
  const origin = `s3://${ref.bucket}/${ref.key}`;
  let copy: HeadObjectCommandOutput | undefined;
  try {
    copy = await head(destination, target.bucket, key);
  } catch (err) {
    throw new FdrCopyError(
      origin,
      'head',
      `HeadObject s3://${target.bucket}/${key}: ${(err as Error).name}`,
      { cause: err },
    );
  }
  const meta = copy?.Metadata;
  if (meta?.[COPY_METADATA.etag] === undefined) return false;
  let original: HeadObjectCommandOutput | undefined;
  try {
    original = await head(source, ref.bucket, ref.key);
  } catch (err) {
    throw new FdrCopyError(origin, 'head', `HeadObject: ${(err as Error).name}`, { cause: err });
  }
  // Gone from CrowdStrike's bucket but copied before: the copy is all there will ever be.
  if (original === undefined) return true;
  return (
    meta[COPY_METADATA.etag] === original.ETag &&
    meta[COPY_METADATA.size] === String(original.ContentLength)
  );
}

/**
 * Streams one FDR object from CrowdStrike's bucket into `target` under the same key, never holding
 * it in memory: the GetObject body is the PutObject body. Idempotent: a copy with the source's
 * size and ETag is left alone. Throws FdrCopyError for anything a retry may fix.
 */
export async function copyFdrObject(
  source: S3Reader & S3Head,
  destination: S3Head & S3Put,
  ref: ObjectRef,
  target: CopyTarget,
): Promise<CopyOutcome> {
  const key = `${target.prefix}${ref.key}`;
  const origin = `s3://${ref.bucket}/${ref.key}`;
  if (await alreadyCopied(source, destination, ref, target, key)) return { status: 'skipped', key };
  let opened: Awaited<ReturnType<typeof openObject>>;
  try {
    opened = await openObject(source, ref);
  } catch (err) {
    if (err instanceof ObjectReadError && err.missing) return { status: 'missing', key };
    throw new FdrCopyError(origin, 'read', (err as Error).message, { cause: err });
  }
  try {
    const bytes = opened.contentLength;
    const max = target.maxBytes ?? MAX_FDR_OBJECT_BYTES;
    if (bytes === undefined || bytes > max) {
      throw new FdrCopyError(
        origin,
        'read',
        `size ${bytes ?? 'unknown'} is not within 0-${max} bytes`,
      );
    }
    try {
      await destination.send(
        new PutObjectCommand({
          Bucket: target.bucket,
          Key: key,
          Body: opened.body as Readable,
          ContentLength: bytes,
          Metadata: {
            [COPY_METADATA.etag]: opened.etag ?? '',
            [COPY_METADATA.size]: String(bytes),
            [COPY_METADATA.source]: origin,
          },
        }),
      );
    } catch (err) {
      const e = err as Error;
      throw new FdrCopyError(
        origin,
        'write',
        `PutObject s3://${target.bucket}/${key}: ${e.name}: ${e.message}`,
        { cause: err },
      );
    }
    return { status: 'copied', bytes, key };
  } finally {
    opened.close();
  }
}

export interface CopyRetryOptions {
  maxAttempts?: number;
  /** Injected by tests; defaults to setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** copyFdrObject, again from the start while it fails in a way a retry may fix (throttling, 5xx). */
export async function copyWithRetries(
  source: S3Reader & S3Head,
  destination: S3Head & S3Put,
  ref: ObjectRef,
  target: CopyTarget,
  options: CopyRetryOptions = {},
): Promise<CopyOutcome> {
  const maxAttempts = options.maxAttempts ?? COPY_MAX_ATTEMPTS;
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await copyFdrObject(source, destination, ref, target);
    } catch (err) {
      const retryable = err instanceof FdrCopyError && isRetryableError(err.cause);
      if (!retryable || attempt >= maxAttempts) throw err;
      const cap = Math.min(COPY_MAX_DELAY_MS, COPY_BASE_DELAY_MS * 2 ** (attempt - 1));
      await sleep(Math.floor(Math.random() * cap));
    }
  }
}
