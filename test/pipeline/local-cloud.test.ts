/**
 * The running local stack (`npm start -- --watch DIR`) behaves as the deployed one: an object
 * written by any S3 client, of any size, is announced once by the bucket, processed once, and its
 * alerts reach a subscription the user made themselves exactly once, in the body SNS delivers.
 * Large batches come from the bench generator, which records the groups it planted.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertGroup, DetectionFinding } from '../../lib/alert/index.ts';
import { groupOfFinding, LOCAL_CREDENTIALS } from '../../lib/cli/local-stack.ts';
import { type ObjectResult, startWatch, type Watcher } from '../../lib/cli/start.ts';
import { type BatchManifest, generateBatch, type PlantedGroup } from '../bench/generate.ts';
import { sysmonDns, sysmonGroup } from '../engine/fixtures.ts';
import { SPEC_HIGH_DOMAINS, SPEC_MEDIUM_DOMAINS } from '../rule/spec-lists.ts';

const MIB = 1024 * 1024;
/** Time for a file to settle, upload and go through the pipeline. */
const FILE_TIMEOUT_MS = 60_000;

interface Batch {
  path: string;
  bytes: number;
  groups: PlantedGroup[];
}

let dir: string;
let watcher: Watcher;
let falcon50: Batch;
let sysmon10: Batch;
const results = new Map<string, ObjectResult[]>();
let user: { s3: S3Client; sns: SNSClient; sqs: SQSClient };
let envelopeQueue: string;
let rawQueue: string;

/** A generated batch, gunzipped: the plain text is the size the test asks for. */
async function plainBatch(source: 'falcon' | 'sysmon', mb: number, seed: number): Promise<Batch> {
  const generated = await generateBatch({ source, mb, seed });
  const path = join(dir, `${source}-${mb}mib.${source === 'falcon' ? 'ndjson' : 'xml'}`);
  await pipeline(createReadStream(generated.path), createGunzip(), createWriteStream(path));
  const manifest: BatchManifest = generated.manifest;
  return { path, bytes: manifest.bytes, groups: manifest.groups };
}

/** Creates a queue and subscribes it to the topic, as a user does with the AWS CLI. */
async function userSubscription(name: string, topicArn: string, raw: boolean): Promise<string> {
  const url = (await user.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  const attrs = await user.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  await user.sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: attrs.Attributes!.QueueArn!,
      Attributes: { RawMessageDelivery: String(raw) },
    }),
  );
  return url;
}

/** Every message on a queue now (received and left to expire: a read-only look for the test). */
async function drain(queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const got = await user.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        VisibilityTimeout: 600,
      }),
    );
    if (!got.Messages?.length) return all;
    all.push(...got.Messages);
  }
}

/** Resolves with the results of `key` once it was processed (and everything else is idle). */
async function processed(key: string): Promise<ObjectResult[]> {
  const deadline = Date.now() + FILE_TIMEOUT_MS;
  while (!results.has(key)) {
    if (Date.now() > deadline) throw new Error(`${key} was not processed`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await watcher.idle();
  return results.get(key)!;
}

const keyOf = (g: Pick<AlertGroup, 'key'>) =>
  `${g.key.host}|${g.key.user}|${g.key.process}|${g.key.domain}`;
const summary = (g: PlantedGroup | AlertGroup) =>
  `${keyOf(g)}|${g.count}|${new Date(g.firstSeen).toISOString()}|${new Date(g.lastSeen).toISOString()}`;
const planted = (b: Batch) => b.groups.map(summary).sort();

/** The severity of docs/detection.md for a domain: its longest listed suffix's tier. */
function severityOfDomain(domain: string): 'High' | 'Medium' {
  const labels = domain.split('.');
  for (let i = 0; i < labels.length; i++) {
    const suffix = labels.slice(i).join('.');
    if ((SPEC_HIGH_DOMAINS as readonly string[]).includes(suffix)) return 'High';
    if ((SPEC_MEDIUM_DOMAINS as readonly string[]).includes(suffix)) return 'Medium';
  }
  throw new Error(`${domain} is not listed`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 't1102-local-cloud-'));
  [falcon50, sysmon10] = await Promise.all([
    plainBatch('falcon', 50, 20),
    plainBatch('sysmon', 10, 21),
  ]);
  watcher = await startWatch({
    dir: join(dir, 'drop'),
    out: new PassThrough().resume(),
    settleMs: 100,
    onResult: (r) => results.set(r.key, [...(results.get(r.key) ?? []), r]),
  });
  const { endpoint, region, topicArn } = watcher.stack;
  const common = { endpoint, region, credentials: LOCAL_CREDENTIALS };
  user = {
    s3: new S3Client({ ...common, forcePathStyle: true }),
    sns: new SNSClient(common),
    sqs: new SQSClient(common),
  };
  envelopeQueue = await userSubscription('soc-inbox', topicArn, false);
  rawQueue = await userSubscription('soc-raw', topicArn, true);
}, 120_000);
afterAll(async () => {
  for (const c of Object.values(user ?? {})) c.destroy();
  await watcher?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Local stack: any S3 client', () => {
  it('delivers the alerts of a 50 MiB batch uploaded with the SDK once, as SNS delivers them', async () => {
    // Prepare
    expect(falcon50.bytes).toBeGreaterThanOrEqual(50 * MIB);
    expect(falcon50.groups.length).toBeGreaterThan(0);
    const key = 'falcon/sdk/batch-50mib.ndjson';
    const queue = watcher.stack.notificationQueues.falcon.url;
    const notified = watcher.stack.notifier.sent(queue);

    // Act: lib-storage's Upload sends it in parts, as `aws s3 cp` does for large files
    await new Upload({
      client: user.s3,
      params: { Bucket: watcher.stack.bucket, Key: key, Body: createReadStream(falcon50.path) },
    }).done();
    const [result, ...again] = await processed(key);
    const envelopes = await drain(envelopeQueue);
    const raws = await drain(rawQueue);

    // Assess: announced once, processed once, every planted group alerted once on each subscription
    expect(watcher.stack.notifier.sent(queue)).toBe(notified + 1);
    expect(again).toEqual([]);
    expect(result!.failed).toBe(false);
    expect(envelopes).toHaveLength(falcon50.groups.length);
    expect(raws).toHaveLength(falcon50.groups.length);
    const findings = envelopes.map((m) => {
      const envelope = JSON.parse(m.Body!) as Record<string, unknown>;
      expect(envelope).toMatchObject({
        Type: 'Notification',
        TopicArn: watcher.stack.topicArn,
        MessageAttributes: {
          source: { Type: 'String', Value: 'falcon' },
          technique: { Type: 'String', Value: 'T1102' },
        },
      });
      expect(envelope.Subject).toMatch(/^T1102 web service C2: /);
      // The default entry itself, not the {"default":…,"email":…} structure
      const finding = JSON.parse(envelope.Message as string) as DetectionFinding;
      const severity = (envelope.MessageAttributes as Record<string, { Value: string }>).severity;
      expect(severity?.Value).toBe(severityOfDomain(finding.unmapped.domain));
      return finding;
    });
    for (const f of findings) expect(f.class_uid).toBe(2004);
    expect(findings.map((f) => summary(groupOfFinding(f))).sort()).toEqual(planted(falcon50));
    for (const m of raws) {
      const finding = JSON.parse(m.Body!) as DetectionFinding;
      expect(finding.class_uid).toBe(2004);
      expect(m.MessageAttributes?.host?.StringValue).toBe(finding.device.hostname);
    }
  });
});

describe('Local stack: the watch folder', () => {
  it.each([
    ['1 KiB', 'sysmon', 'small.xml'],
    ['10 MiB', 'sysmon', 'batch-10mib.xml'],
    ['50 MiB', 'falcon', 'batch-50mib.ndjson'],
  ] as const)(
    'processes a %s file once and alerts on what it holds',
    async (_size, source, name) => {
      // Prepare
      const target = join(dir, 'drop', source, name);
      let expected: string[];
      if (name === 'small.xml') {
        writeFileSync(target, sysmonDns('pastebin.com').padEnd(1024, '\n'));
        expected = [summary({ ...sysmonGroup, lastSeen: sysmonGroup.firstSeen, key: sysmonGroup })];
      } else {
        const batch = source === 'falcon' ? falcon50 : sysmon10;
        expected = planted(batch);
        // Act: written in 1 MiB pieces, as a slow copy would, each piece an event of its own
        const out = createWriteStream(target);
        for await (const chunk of createReadStream(batch.path, { highWaterMark: MIB })) {
          if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
          await new Promise((r) => setTimeout(r, 10));
        }
        await new Promise<void>((r) => out.end(() => r()));
      }
      const processedOnce = await processed(`${source}/${name}`);
      const envelopes = await drain(envelopeQueue);
      await drain(rawQueue);

      // Assess
      expect(processedOnce).toHaveLength(1);
      expect(processedOnce[0]!.failed).toBe(false);
      expect(
        processedOnce[0]!.alerts.map((a) => summary(groupOfFinding(a.finding))).sort(),
      ).toEqual(expected);
      expect(envelopes).toHaveLength(expected.length);
    },
  );
});
