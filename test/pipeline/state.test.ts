/**
 * The functions with cross-object state: fauxqs for S3/SNS/SQS and dynalite for DynamoDB, both
 * real protocol servers on loopback, and the real handler.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handlerEnv, receiveAlerts } from '../../lib/cli/local-stack.ts';
import { createS3BatchHandler, type S3BatchHandler } from '../../lib/pipeline/index.ts';
import { FIXTURE_DATASETS } from '../helpers/datasets.ts';
import { type LocalStack, putObject, startTestStack } from '../helpers/fauxqs.ts';
import { s3EventFor, sqsBatch } from '../helpers/notifications.ts';
import { type Dynalite, startDynalite } from '../state/helpers.ts';

/** OTRF psh-mshta as FDR: the powershell process record is missing (shared/datasets/README.md). */
const PSH_FDR = readFileSync(`${FIXTURE_DATASETS}/falcon/otrf-psh-mshta.fdr.ndjson`, 'utf8');
/** What the object that is missing it would have said: powershell's ProcessRollup2 and the host. */
const PSH_CONTEXT = [
  JSON.stringify({
    event_simpleName: 'ProcessRollup2',
    aid: '3a1ffb9e518ceb7760a187aef5f7a457',
    TargetProcessId: '22013773145188',
    ImageFileName:
      '\\Device\\HarddiskVolume2\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
    CommandLine: 'powershell.exe',
    ParentBaseFileName: 'explorer.exe',
    UserName: 'wardog',
    timestamp: '1603353000000',
  }),
  PSH_FDR.split('\n').find((l) => l.includes('"ComputerName"'))!,
].join('\n');
/** The expected group: the LogScale export of the same activity, where the process is named. */
const EXPECTED = readFileSync(
  `${FIXTURE_DATASETS}/expected-v2/otrf-psh-mshta.logscale.json.csv`,
  'utf8',
)
  .trim()
  .split('\n')[1]!
  .split(',');

let stack: LocalStack;
let dynamo: Dynalite;
let handler: S3BatchHandler;

beforeAll(async () => {
  [stack, dynamo] = await Promise.all([startTestStack(), startDynalite()]);
  // As Lambda sets it: the SDK reads credentials and the log level from the process environment.
  Object.assign(process.env, handlerEnv(stack), {
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
});
afterAll(async () => {
  await Promise.all([stack?.stop(), dynamo?.stop()]);
});
beforeEach(async () => {
  const table = await dynamo.newTable();
  handler = createS3BatchHandler({
    source: 'falcon',
    env: { ...process.env, STATE_TABLE: table },
    dynamo: dynamo.client,
  });
  await receiveAlerts(stack);
});

const deliver = async (key: string, body: string) => {
  const object = await putObject(stack, key, Buffer.from(body));
  return handler(sqsBatch([JSON.stringify(s3EventFor(object))]));
};

describe('Functions with STATE_TABLE', () => {
  it('finds the FDR powershell alert once the object with its process record was processed', async () => {
    // Act
    await deliver('falcon/0001-context.ndjson', PSH_CONTEXT);
    const response = await deliver('falcon/0002-psh.ndjson', PSH_FDR);
    const alerts = await receiveAlerts(stack, { expected: 1 });
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(alerts).toHaveLength(1);
    const f = alerts[0]!.finding;
    const [host, user, process, domain, count, first, last] = EXPECTED;
    expect([f.device.hostname, f.actor.user.name, f.actor.process.name, f.unmapped.domain]).toEqual(
      [host, user, process, domain],
    );
    expect(f.count).toBe(Number(count));
    expect(new Date(f.finding_info.first_seen_time).toISOString()).toBe(first);
    expect(new Date(f.finding_info.last_seen_time).toISOString()).toBe(last);
    expect(f.activity_id).toBe(1);
  });

  it('finds nothing in the same FDR object without the earlier context', async () => {
    // Act
    await deliver('falcon/psh-alone.ndjson', PSH_FDR);
    const alerts = await receiveAlerts(stack, { waitMs: 300 });
    // Assess
    expect(alerts).toEqual([]);
  });

  it('publishes one Create for an object delivered twice (S3 delivers at least once)', async () => {
    // Prepare
    await deliver('falcon/ctx.ndjson', PSH_CONTEXT);
    const object = await putObject(stack, 'falcon/twice.ndjson', Buffer.from(PSH_FDR));
    const notification = JSON.stringify(s3EventFor(object));
    // Act
    await handler(sqsBatch([notification]));
    await handler(sqsBatch([notification]));
    const alerts = await receiveAlerts(stack, { expected: 2, waitMs: 1500 });
    // Assess
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.finding.count).toBe(2);
  });
});

describe('Functions with a STATE_TABLE that does not exist', () => {
  it('fails the object at the stage that first needs the table (the claim), naming the table, not the object read', async () => {
    // Prepare
    const errors: Array<Record<string, unknown>> = [];
    const missing = createS3BatchHandler({
      source: 'falcon',
      env: { ...process.env, STATE_TABLE: 'no-such-table' },
      dynamo: dynamo.client,
      logger: {
        debug() {},
        info() {},
        warn() {},
        error: (_m: string, fields: Record<string, unknown>) => errors.push(fields),
      } as never,
    });
    const object = await putObject(stack, 'falcon/psh.ndjson', Buffer.from(PSH_FDR));

    // Act
    const response = await missing(sqsBatch([JSON.stringify(s3EventFor(object))]));

    // Assess
    expect(response.batchItemFailures).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.stage).toBe('claim');
    const error = errors[0]!.error as Error;
    expect(error.name).toBe('StateStoreError');
    expect(error.message).toMatch(
      /^state table no-such-table \(STATE_TABLE\): \w+ failed: ResourceNotFoundException/,
    );
    expect(error.message).not.toContain('reading failed');
  });
});
