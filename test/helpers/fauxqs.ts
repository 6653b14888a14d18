/**
 * Integration-test plumbing: the emulator (fauxqs, in-process, random loopback port) with the
 * pipeline's bucket, topic and subscribed queue, objects put into it, and the real handlers
 * pointed at it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  handlerEnv,
  type LocalStack,
  type LocalStackOptions,
  startLocalStack,
} from '../../lib/cli/local-stack.ts';
import type { S3BatchHandler } from '../../lib/pipeline/index.ts';
import { DATASET_DIRS } from './datasets.ts';
import type { TestObject } from './notifications.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export type { LocalStack };

export function startTestStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  return startLocalStack({ port: 0, ...options });
}

/** Puts `body` at `key` and returns what a notification about it says. */
export async function putObject(
  stack: LocalStack,
  key: string,
  body: Buffer | string,
): Promise<TestObject> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const put = await stack.s3.send(
    new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: bytes }),
  );
  return {
    bucket: stack.bucket,
    key,
    size: bytes.length,
    etag: (put.ETag ?? '').replace(/"/g, ''),
  };
}

/**
 * Imports the real functions/*.ts handlers after pointing the environment at `stack`, as Lambda
 * would set it. They read it once, at import: call this once per test file.
 */
export async function importHandlers(
  stack: LocalStack,
): Promise<Record<'sysmon' | 'falcon', S3BatchHandler>> {
  Object.assign(process.env, handlerEnv(stack), {
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  const [sysmon, falcon] = await Promise.all([
    import('../../functions/sysmon.ts'),
    import('../../functions/falcon.ts'),
  ]);
  return { sysmon: sysmon.handler, falcon: falcon.handler };
}

/** Where a dataset file is: ../shared/datasets when beside the clone, else the project's copy. */
function datasetPath(path: string): string | undefined {
  return DATASET_DIRS.map((d) => join(d, path)).find(existsSync);
}

/** A file of the datasets (`sysmon/...`, `falcon/...`), or undefined when absent. */
export function datasetFile(path: string): Buffer | undefined {
  const full = datasetPath(path);
  return full === undefined ? undefined : readFileSync(full);
}

/**
 * The rows of datasets/expected-v2/<file>.csv (header dropped), as the scan CLI prints them. The
 * expected files are named without the `.gz` of their input.
 */
export function expectedRows(file: string): string[] {
  const name = file.replace(/\.gz$/, '');
  const path = datasetPath(join('expected-v2', `${name}.csv`));
  if (path === undefined) throw new Error(`no expected output for ${file}`);
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(1);
}

/** Splits a CSV row of the scan output (quoted fields per RFC 4180). */
export function csvFields(row: string): string[] {
  const out: string[] = [];
  const re = /("(?:[^"]|"")*"|[^,]*)(,|$)/g;
  for (let m = re.exec(row); m && m[0] !== ''; m = re.exec(row)) {
    const f = m[1] ?? '';
    out.push(f.startsWith('"') ? f.slice(1, -1).replace(/""/g, '"') : f);
    if (m[2] === '') break;
  }
  return out;
}

/** Keys under `prefix` in the stack's bucket. */
export async function listKeys(stack: LocalStack, prefix: string): Promise<string[]> {
  const out = await stack.s3.send(
    new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: prefix }),
  );
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

/** The lines of a quarantine file, parsed. */
export async function readQuarantine(
  stack: LocalStack,
  key: string,
): Promise<Array<Record<string, unknown>>> {
  const got = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
  const text = gunzipSync(Buffer.from(await got.Body!.transformToByteArray())).toString('utf8');
  return text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
