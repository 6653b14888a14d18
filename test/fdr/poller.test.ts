import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lib/cli/local-stack.ts';
import {
  COPY_MAX_ATTEMPTS,
  COPY_METADATA,
  copyFdrObject,
  createFdrHandler,
  DEFAULT_DESTINATION_PREFIX,
  type FdrHandler,
  FdrSecretError,
  MAX_FDR_OBJECT_BYTES,
} from '../../lib/fdr/index.ts';
import { type ProtocolServer, startProtocolServer } from '../helpers/aws-protocol-server.ts';
import { type LocalStack, startTestStack } from '../helpers/fauxqs.ts';
import { type FaultProxy, S3_SLOW_DOWN, startFaultProxy } from '../helpers/s3-fault-proxy.ts';

/** Stands in for CrowdStrike's bucket and queue, in the same emulator as the stack's bucket. */
const CS_BUCKET = 'cs-prod-cannon-test';
const CS_QUEUE = 'cs-prod-fdr-queue';
const SECRET_NAME = 't1102/crowdstrike-fdr';

let stack: LocalStack;
let proxy: FaultProxy;
let secrets: ProtocolServer;
let queueUrl: string;

/** A recording logger: the poller's log lines are part of what it promises. */
function recorder() {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (message: unknown, ...extra: unknown[]): void => {
      const fields = (extra[0] ?? {}) as Record<string, unknown>;
      lines.push({ level, message: String(message), fields });
    };
  return {
    lines,
    logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
  };
}
const noMetrics = { addMetric: () => undefined, publishStoredMetrics: () => undefined };

function handlerFor(env: Record<string, string> = {}) {
  const log = recorder();
  const handler: FdrHandler = createFdrHandler({
    env: {
      FDR_QUEUE_URL: queueUrl,
      FDR_SECRET_ID: SECRET_NAME,
      DESTINATION_BUCKET: stack.bucket,
      AWS_REGION: LOCAL_REGION,
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      // Redelivery after a kept message is tested; a second is enough to wait for.
      FDR_VISIBILITY_TIMEOUT_SECONDS: '1',
      ...env,
    },
    logger: log.logger,
    metrics: noMetrics,
  });
  return { handler, log };
}

/** Puts a file in "CrowdStrike's" bucket and returns the FDR files[] entry for it. */
async function putFdrFile(path: string, body: string) {
  await stack.s3.send(new PutObjectCommand({ Bucket: CS_BUCKET, Key: path, Body: body }));
  return { path, size: Buffer.byteLength(body), checksum: 'unused' };
}

async function sendFdrMessage(files: Array<{ path: string; size: number }>): Promise<void> {
  await stack.sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify({
        cid: 'test-cid',
        timestamp: Date.now(),
        fileCount: files.length,
        totalSize: files.reduce((a, f) => a + f.size, 0),
        bucket: CS_BUCKET,
        pathPrefix: 'data/x',
        files,
      }),
    }),
  );
}

async function queueDepth(): Promise<number> {
  const attrs = await stack.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

async function readCopy(path: string): Promise<string> {
  const got = await stack.s3.send(
    new GetObjectCommand({ Bucket: stack.bucket, Key: `${DEFAULT_DESTINATION_PREFIX}${path}` }),
  );
  return got.Body!.transformToString();
}

const copyPuts = () =>
  proxy.seen.filter((r) => r.startsWith(`PUT /${stack.bucket}/${DEFAULT_DESTINATION_PREFIX}`));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  // The stack's own clients (destination bucket, Secrets Manager) use the default chain.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  });
  stack = await startTestStack();
  proxy = await startFaultProxy(stack.endpoint);
  secrets = await startProtocolServer({
    'secretsmanager.GetSecretValue': ({ body }) =>
      body.SecretId === SECRET_NAME
        ? {
            body: {
              ARN: `arn:aws:secretsmanager:${LOCAL_REGION}:123456789012:secret:${SECRET_NAME}-AbCdEf`,
              Name: SECRET_NAME,
              SecretString: JSON.stringify({
                accessKeyId: 'AKIAFDR',
                secretAccessKey: 'fdr-secret',
              }),
              VersionId: 'v1',
              VersionStages: ['AWSCURRENT'],
            },
          }
        : {
            error: {
              code: 'ResourceNotFoundException',
              message: "Secrets Manager can't find the specified secret.",
              status: 400,
            },
          },
  });
  await stack.s3.send(new CreateBucketCommand({ Bucket: CS_BUCKET }));
});

afterAll(async () => {
  await proxy?.stop();
  await secrets?.stop();
  await stack?.stop();
});

// A queue per test: a message a test leaves behind on purpose must not reach the next one.
let queueCount = 0;
beforeEach(async () => {
  const QueueName = `${CS_QUEUE}-${++queueCount}`;
  queueUrl = (await stack.sqs.send(new CreateQueueCommand({ QueueName }))).QueueUrl!;
});
afterEach(() => proxy.clear());

describe('FDR poller: copying', () => {
  it('streams every listed object under falcon/fdr/ with the source key, then deletes the message', async () => {
    // Prepare
    const id = randomUUID();
    const files = [
      await putFdrFile(`data/${id}/part-00000.gz`, 'first file'),
      await putFdrFile(`data/${id}/part-00001.gz`, 'second file, longer'),
    ];
    await sendFdrMessage(files);
    const { handler } = handlerFor();

    // Act
    const summary = await handler({});

    // Assess
    expect(summary).toMatchObject({ messagesReceived: 1, messagesDeleted: 1, objectsCopied: 2 });
    expect(summary.bytesCopied).toBe(files[0]!.size + files[1]!.size);
    expect(await readCopy(files[0]!.path)).toBe('first file');
    expect(await readCopy(files[1]!.path)).toBe('second file, longer');
    expect(await queueDepth()).toBe(0);
  });

  it('reads the key from the secret and signs CrowdStrike requests with it, not its own role', async () => {
    // Prepare
    await sendFdrMessage([await putFdrFile(`data/${randomUUID()}/a.gz`, 'x')]);
    const { handler } = handlerFor();
    const before = secrets.requests.length;
    const seenBefore = proxy.seen.length;

    // Act
    await handler({});

    // Assess
    expect(secrets.requests.slice(before).map((r) => r.body.SecretId)).toEqual([SECRET_NAME]);
    const calls = proxy.seen.map((call, i) => ({ call, key: proxy.signedBy[i] })).slice(seenBefore);
    const crowdStrike = calls.filter(
      (c) => c.call.includes(CS_BUCKET) || c.call.includes(CS_QUEUE) || c.call === 'POST /',
    );
    const ours = calls.filter((c) => c.call.startsWith(`PUT /${stack.bucket}/`));
    expect(crowdStrike.length).toBeGreaterThan(0);
    expect(new Set(crowdStrike.map((c) => c.key))).toEqual(new Set(['AKIAFDR']));
    expect(new Set(ours.map((c) => c.key))).toEqual(new Set([LOCAL_CREDENTIALS.accessKeyId]));
  });

  it('takes at most FDR_MAX_MESSAGES_PER_RUN messages per run and leaves the rest for the next', async () => {
    // Prepare
    for (let i = 0; i < 3; i++)
      await sendFdrMessage([await putFdrFile(`data/${randomUUID()}/p.gz`, `m${i}`)]);
    const { handler } = handlerFor({ FDR_MAX_MESSAGES_PER_RUN: '2' });

    // Act
    const first = await handler({});
    const second = await handler({});

    // Assess
    expect(first.messagesReceived).toBe(2);
    expect(second.messagesReceived).toBe(1);
    expect(await queueDepth()).toBe(0);
  });
});

describe('FDR poller: redelivery', () => {
  it('copies nothing twice when a message comes again: size and ETag match the copy', async () => {
    // Prepare
    const files = [await putFdrFile(`data/${randomUUID()}/part-00000.gz`, 'once only')];
    await sendFdrMessage(files);
    const { handler } = handlerFor();
    await handler({});
    const putsAfterFirst = copyPuts().length;
    await sendFdrMessage(files);

    // Act
    const again = await handler({});

    // Assess
    expect(again).toMatchObject({ objectsCopied: 0, objectsSkipped: 1, messagesDeleted: 1 });
    expect(copyPuts().length).toBe(putsAfterFirst);
    const head = await stack.s3.send(
      new HeadObjectCommand({
        Bucket: stack.bucket,
        Key: `${DEFAULT_DESTINATION_PREFIX}${files[0]!.path}`,
      }),
    );
    expect(head.Metadata?.[COPY_METADATA.source]).toBe(`s3://${CS_BUCKET}/${files[0]!.path}`);
  });

  it('copies again when the source changed since (a different ETag)', async () => {
    // Prepare
    const path = `data/${randomUUID()}/part-00000.gz`;
    await sendFdrMessage([await putFdrFile(path, 'version one')]);
    const { handler } = handlerFor();
    await handler({});
    await sendFdrMessage([await putFdrFile(path, 'version two')]);

    // Act
    const again = await handler({});

    // Assess
    expect(again.objectsCopied).toBe(1);
    expect(await readCopy(path)).toBe('version two');
  });
});

describe('FDR poller: failures', () => {
  it("counts an object gone from CrowdStrike's bucket as missing, copies the rest and deletes the message", async () => {
    // Prepare
    const id = randomUUID();
    const present = await putFdrFile(`data/${id}/present.gz`, 'still here');
    await sendFdrMessage([present, { path: `data/${id}/expired.gz`, size: 10 }]);
    const { handler, log } = handlerFor();

    // Act
    const summary = await handler({});

    // Assess
    expect(summary).toMatchObject({
      objectsCopied: 1,
      objectsMissing: 1,
      objectsFailed: 0,
      messagesDeleted: 1,
    });
    expect(await readCopy(present.path)).toBe('still here');
    const lost = log.lines.find(
      (l) => l.level === 'error' && l.fields.key === `data/${id}/expired.gz`,
    );
    expect(lost?.message).toMatch(/no longer exists/);
    expect(await queueDepth()).toBe(0);
  });

  it('fails the run with a clear error when the secret does not exist, and leaves the message for a retry', async () => {
    // Prepare
    await sendFdrMessage([await putFdrFile(`data/${randomUUID()}/a.gz`, 'waiting')]);
    const { handler } = handlerFor({ FDR_SECRET_ID: 't1102/no-such-secret' });

    // Act
    const run = handler({});

    // Assess
    await expect(run).rejects.toBeInstanceOf(FdrSecretError);
    await expect(run).rejects.toThrow(
      /"t1102\/no-such-secret": does not exist; create it with \{"accessKeyId"/,
    );
    expect(await queueDepth()).toBe(1);
  });

  it('rides out a throttled copy: S3 answers 503 SlowDown once and the copy is retried from a fresh read', async () => {
    // Prepare
    const path = `data/${randomUUID()}/throttled.gz`;
    await sendFdrMessage([await putFdrFile(path, 'slow down')]);
    proxy.add({
      match: (r) =>
        r.method === 'PUT' && r.path.endsWith(path) && r.path.startsWith(`/${stack.bucket}/`),
      times: 1,
      ...S3_SLOW_DOWN,
    });
    const { handler, log } = handlerFor();

    // Act
    const summary = await handler({});

    // Assess
    expect(proxy.injected.filter((r) => r.endsWith(path))).toHaveLength(1);
    expect(summary).toMatchObject({ objectsCopied: 1, messagesDeleted: 1 });
    expect(await readCopy(path)).toBe('slow down');
    // The SDK's own word on the failed upload is a log line of the function, not console output.
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'AWS SDK: An error was encountered in a non-retryable streaming request.',
      }),
    );
  });

  it('keeps the message when the copy stays throttled past the retries, and copies it on redelivery', async () => {
    // Prepare
    const path = `data/${randomUUID()}/throttled-long.gz`;
    await sendFdrMessage([await putFdrFile(path, 'eventually')]);
    proxy.add({
      match: (r) => r.method === 'PUT' && r.path.endsWith(path),
      times: 100,
      ...S3_SLOW_DOWN,
    });
    const { handler, log } = handlerFor();
    const injectedBefore = proxy.injected.length;

    // Act
    const throttled = await handler({});
    proxy.clear();
    await sleep(1_100); // the visibility timeout (1 s) passes and SQS redelivers
    const retried = await handler({});

    // Assess
    expect(throttled).toMatchObject({ objectsFailed: 1, messagesKept: 1, messagesDeleted: 0 });
    // One PutObject per attempt: the SDK cannot resend a stream, the poller re-reads and retries.
    expect(proxy.injected.length - injectedBefore).toBe(COPY_MAX_ATTEMPTS);
    const failure = log.lines.find((l) => l.level === 'error' && l.fields.key === path);
    expect(String(failure?.fields.error)).toMatch(/write failed: PutObject .*SlowDown/);
    expect(retried).toMatchObject({ objectsCopied: 1, messagesDeleted: 1 });
    expect(await readCopy(path)).toBe('eventually');
  });

  it('leaves a message it cannot read on the queue and says so', async () => {
    // Prepare
    await stack.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"not":"fdr"}' }),
    );
    const { handler, log } = handlerFor();

    // Act
    const summary = await handler({});

    // Assess
    expect(summary).toMatchObject({ messagesReceived: 1, messagesKept: 1, messagesDeleted: 0 });
    expect(log.lines.some((l) => l.level === 'error' && /not understood/.test(l.message))).toBe(
      true,
    );
  });
});

describe('FDR poller: bounds', () => {
  it('refuses an object larger than the size bound before writing anything', async () => {
    // Prepare
    const file = await putFdrFile(`data/${randomUUID()}/big.gz`, '0123456789');
    const ref = { bucket: CS_BUCKET, key: file.path, shape: 'fdr' as const, via: [] };
    const putsBefore = copyPuts().length;

    // Act
    const copy = copyFdrObject(stack.s3, stack.s3, ref, {
      bucket: stack.bucket,
      prefix: DEFAULT_DESTINATION_PREFIX,
      maxBytes: 9,
    });

    // Assess
    await expect(copy).rejects.toThrow(/size 10 is not within 0-9 bytes/);
    expect(copyPuts().length).toBe(putsBefore);
    expect(MAX_FDR_OBJECT_BYTES).toBe(5 * 1024 * 1024 * 1024);
  });
});
