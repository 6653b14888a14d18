import {
  type CompiledExceptions,
  ExceptionsError,
  exceptionsFromText,
  MAX_EXCEPTIONS_FILE_BYTES,
  NO_EXCEPTIONS,
} from '../rule/index.ts';
import { openObject, type S3Reader } from './objects.ts';

/** `s3://bucket/key` split; undefined when it is not such a URI. */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
}

/**
 * Reads a deployment's exceptions file from S3 (EXCEPTIONS_URI), once per cold start. A file that
 * cannot be read or is invalid throws ExceptionsError: the function refuses to run rather than
 * alert without the tuning its operators asked for, or with half of it.
 */
export async function loadExceptionsFromS3(
  s3: S3Reader,
  uri: string | undefined,
): Promise<CompiledExceptions> {
  if (uri === undefined) return NO_EXCEPTIONS;
  const ref = parseS3Uri(uri);
  if (ref === undefined) throw ExceptionsError.unreadable(uri, 'is not an s3://bucket/key URI');
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    const opened = await openObject(s3, ref);
    try {
      for await (const chunk of opened.body) {
        bytes += chunk.byteLength;
        if (bytes > MAX_EXCEPTIONS_FILE_BYTES) {
          throw ExceptionsError.unreadable(
            uri,
            `is over MAX_EXCEPTIONS_FILE_BYTES (${MAX_EXCEPTIONS_FILE_BYTES})`,
          );
        }
        chunks.push(Buffer.from(chunk));
      }
    } finally {
      opened.close();
    }
  } catch (err) {
    if (err instanceof ExceptionsError) throw err;
    throw ExceptionsError.unreadable(uri, `cannot be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return exceptionsFromText(Buffer.concat(chunks).toString('utf8'), uri);
}
