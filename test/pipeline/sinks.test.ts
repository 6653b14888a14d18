import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DetectionFinding } from '../../lib/alert/index.ts';
import {
  handlerEnv,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  localContext,
} from '../../lib/cli/local-stack.ts';
import {
  type AlertMessage,
  buildAlertMessage,
  ConfigError,
  createS3BatchHandler,
  type PublishResult,
} from '../../lib/pipeline/index.ts';
import {
  type AlertSink,
  EventBridgeSink,
  FINDING_DETAIL_TYPE,
  FINDING_EVENT_SOURCE,
  fanOut,
  loadSinkConfig,
  MAX_ASFF_DESCRIPTION_CHARS,
  MAX_ASFF_TITLE_CHARS,
  MAX_IMPORT_FINDING_BYTES,
  MAX_IMPORT_FINDINGS,
  MAX_PUT_EVENTS_BYTES,
  MAX_PUT_EVENTS_ENTRIES,
  packEntries,
  SecurityHubSink,
  SINK_MAX_ATTEMPTS,
  toAsff,
} from '../../lib/pipeline/sinks/index.ts';
import { defaultRule } from '../../lib/rule/index.ts';
import { sampleGroup } from '../helpers/alerts.ts';
import {
  type ProtocolRequest,
  type ProtocolServer,
  startProtocolServer,
} from '../helpers/aws-protocol-server.ts';
import { operationOf, startFaultProxy } from '../helpers/fault-proxy.ts';
import { datasetFile, type LocalStack, putObject, startTestStack } from '../helpers/fauxqs.ts';
import { s3EventFor, sqsBatch } from '../helpers/notifications.ts';

const rule = defaultRule().rule;
const ACCOUNT = '123456789012';
const PRODUCT_ARN = `arn:aws:securityhub:${LOCAL_REGION}:${ACCOUNT}:product/${ACCOUNT}/default`;
const BUS = 'soc-findings';

const group = (domain = 'pastebin.com', count = 3) => sampleGroup({ domain }, count);

const alert = (domain = 'pastebin.com', activity: 'create' | 'update' = 'create', count = 3) =>
  buildAlertMessage(rule, group(domain, count), { activity, source: 'sysmon' });
const alerts = (n: number) => Array.from({ length: n }, (_, i) => alert(`c2-${i}.example`));

const noWait = { sleep: async () => undefined, random: () => 0 };
const client = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };

let server: ProtocolServer;
beforeAll(async () => {
  server = await startProtocolServer();
});
afterAll(async () => {
  await server?.stop();
});
beforeEach(() => {
  server.requests.length = 0;
  server.on('AWSEvents.PutEvents', ({ body }) => ({
    body: {
      FailedEntryCount: 0,
      Entries: (body.Entries as unknown[]).map((_, i) => ({ EventId: `e-${i}` })),
    },
  }));
  server.on('POST /findings/import', ({ body }) => ({
    body: { FailedCount: 0, SuccessCount: (body.Findings as unknown[]).length, FailedFindings: [] },
  }));
});

const putEvents = () => server.requests.filter((r) => r.operation === 'AWSEvents.PutEvents');
const imports = () => server.requests.filter((r) => r.operation === 'POST /findings/import');
type Entry = { Source: string; DetailType: string; Detail: string; EventBusName: string };
const entriesOf = (r: ProtocolRequest) => r.body.Entries as Entry[];
type Imported = Record<string, unknown> & { Id: string; CreatedAt: string; UpdatedAt: string };
const findingsOf = (r: ProtocolRequest) => r.body.Findings as Imported[];

describe('Alert routes: EventBridge', () => {
  const sink = () =>
    new EventBridgeSink(
      new EventBridgeClient({ ...client, endpoint: server.endpoint }),
      BUS,
      noWait,
    );

  it('puts each finding on the bus with detail-type "T1102 Detection Finding" and the OCSF finding as detail', async () => {
    // Prepare
    const message = alert();

    // Act
    const result = await sink().publish([message]);

    // Assess
    expect(result).toEqual({ published: 1, accepted: [0], failures: [], requests: 1 });
    const [entry] = entriesOf(putEvents()[0]!);
    expect(entry).toMatchObject({
      EventBusName: BUS,
      Source: FINDING_EVENT_SOURCE,
      DetailType: 'T1102 Detection Finding',
    });
    expect(FINDING_DETAIL_TYPE).toBe('T1102 Detection Finding');
    const detail = JSON.parse(entry!.Detail) as DetectionFinding;
    expect(detail.class_uid).toBe(2004);
    expect(detail.finding_info.uid).toBe(message.uid);
    expect(detail).toEqual(message.finding);
  });

  it('sends at most 10 entries per PutEvents request', async () => {
    // Act
    const result = await sink().publish(alerts(23));

    // Assess
    expect(result.published).toBe(23);
    expect(putEvents().map((r) => entriesOf(r).length)).toEqual([MAX_PUT_EVENTS_ENTRIES, 10, 3]);
  });

  it('retries an entry EventBridge throttled, and only that entry', async () => {
    // Prepare
    let calls = 0;
    server.on('AWSEvents.PutEvents', ({ body }) => {
      calls++;
      const entries = body.Entries as unknown[];
      return {
        body: {
          FailedEntryCount: calls === 1 ? 1 : 0,
          Entries: entries.map((_, i) =>
            calls === 1 && i === 1
              ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }
              : { EventId: `e-${calls}-${i}` },
          ),
        },
      };
    });

    // Act
    const result = await sink().publish(alerts(3));

    // Assess
    expect(result).toEqual({ published: 3, accepted: [0, 1, 2], failures: [], requests: 2 });
    expect(putEvents().map((r) => entriesOf(r).length)).toEqual([3, 1]);
  });

  it("reports an entry EventBridge rejects as the sender's fault as a failure, without retrying it", async () => {
    // Prepare
    server.on('AWSEvents.PutEvents', ({ body }) => ({
      body: {
        FailedEntryCount: 1,
        Entries: (body.Entries as unknown[]).map((_, i) =>
          i === 0
            ? { ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized' }
            : { EventId: `e-${i}` },
        ),
      },
    }));

    // Act
    const result = await sink().publish(alerts(2));

    // Assess
    expect(result.published).toBe(1);
    expect(result.failures).toEqual([
      {
        id: 'alert-0',
        index: 0,
        code: 'AccessDeniedException',
        message: 'not authorized',
        retryable: false,
      },
    ]);
    expect(putEvents()).toHaveLength(1);
  });

  it('fails every entry of a request EventBridge refuses whole (the bus does not exist)', async () => {
    // Prepare
    server.on('AWSEvents.PutEvents', () => ({
      error: {
        code: 'ResourceNotFoundException',
        message: 'Event bus soc-findings does not exist.',
        status: 400,
      },
    }));

    // Act
    const result = await sink().publish(alerts(2));

    // Assess
    expect(result.published).toBe(0);
    expect(result.failures.map((f) => [f.id, f.code, f.retryable])).toEqual([
      ['alert-0', 'ResourceNotFoundException', false],
      ['alert-1', 'ResourceNotFoundException', false],
    ]);
  });
});

describe('Alert routes: bounds', () => {
  it('packs entries by count and by bytes, never splitting an entry', () => {
    // Prepare
    const entries = [5, 5, 5, 9, 1].map((bytes, i) => ({ id: `alert-${i}`, item: bytes }));

    // Act
    const batches = packEntries(entries, (e) => e.item, 3, 10);

    // Assess
    expect(batches.map((b) => b.map((e) => e.item))).toEqual([[5, 5], [5], [9, 1]]);
    expect(MAX_PUT_EVENTS_BYTES).toBe(256 * 1024);
  });

  it('gives up on an entry still throttled after SINK_MAX_ATTEMPTS requests, as a retryable failure', async () => {
    // Prepare
    server.on('AWSEvents.PutEvents', ({ body }) => ({
      body: {
        FailedEntryCount: 1,
        Entries: (body.Entries as unknown[]).map(() => ({
          ErrorCode: 'ThrottlingException',
          ErrorMessage: 'Rate exceeded',
        })),
      },
    }));
    const sink = new EventBridgeSink(
      new EventBridgeClient({ ...client, endpoint: server.endpoint }),
      BUS,
      noWait,
    );

    // Act
    const result = await sink.publish([alert()]);

    // Assess
    expect(SINK_MAX_ATTEMPTS).toBe(5);
    expect(putEvents()).toHaveLength(SINK_MAX_ATTEMPTS);
    expect(result.failures).toEqual([
      {
        id: 'alert-0',
        index: 0,
        code: 'ThrottlingException',
        message: 'Rate exceeded',
        retryable: true,
      },
    ]);
  });

  it("cuts ASFF title and description to Security Hub's limits", () => {
    // Prepare
    const finding = {
      ...alert().finding,
      finding_info: {
        ...alert().finding.finding_info,
        title: 'T'.repeat(5_000),
        desc: 'D'.repeat(5_000),
      },
    };

    // Act
    const asff = toAsff(finding, { productArn: PRODUCT_ARN, accountId: ACCOUNT, now: new Date(0) });

    // Assess
    expect(asff.Title?.length).toBe(MAX_ASFF_TITLE_CHARS);
    expect(asff.Description?.length).toBe(MAX_ASFF_DESCRIPTION_CHARS);
  });

  it('fails an alert whose ASFF finding is over 240 KB without sending it', async () => {
    // Prepare: a process path no real host has, longer than Security Hub takes.
    const big = alert();
    big.finding.actor.process.file.path = 'C:\\'.padEnd(MAX_IMPORT_FINDING_BYTES + 1, 'x');
    const sink = new SecurityHubSink(
      new SecurityHubClient({ ...client, endpoint: server.endpoint }),
      PRODUCT_ARN,
      noWait,
    );

    // Act
    const result = await sink.publish([big, alert('ok.example')]);

    // Assess
    expect(result.published).toBe(1);
    expect(result.failures.map((f) => [f.id, f.code, f.retryable])).toEqual([
      ['alert-0', 'FindingTooLarge', false],
    ]);
    expect(imports().flatMap(findingsOf)).toHaveLength(1);
  });
});

describe('Alert routes: Security Hub', () => {
  let clock = Date.parse('2024-03-05T10:00:00.000Z');
  const sink = () =>
    new SecurityHubSink(
      new SecurityHubClient({ ...client, endpoint: server.endpoint }),
      PRODUCT_ARN,
      { ...noWait, now: () => new Date(clock) },
    );

  it("imports an ASFF finding mapped from the OCSF finding, under the account's default product", async () => {
    // Prepare
    const message = alert();

    // Act
    const result = await sink().publish([message]);

    // Assess
    expect(result).toEqual({ published: 1, accepted: [0], failures: [], requests: 1 });
    const [finding] = findingsOf(imports()[0]!);
    expect(finding).toMatchObject({
      SchemaVersion: '2018-10-08',
      Id: message.finding.finding_info.uid,
      ProductArn: PRODUCT_ARN,
      AwsAccountId: ACCOUNT,
      GeneratorId: 't1102-web-service',
      Types: ['TTPs/Command and Control/T1102 Web Service'],
      Severity: { Label: 'HIGH', Original: 'High' },
      FirstObservedAt: '2024-03-05T09:14:22.418Z',
      LastObservedAt: '2024-03-05T09:29:22.519Z',
      CreatedAt: '2024-03-05T09:14:22.418Z',
      UpdatedAt: '2024-03-05T10:00:00.000Z',
      Resources: [{ Type: 'Other', Id: 'WKS-7' }],
      Process: {
        Name: 'powershell.exe',
        Path: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      },
      Network: {
        Direction: 'OUT',
        DestinationDomain: 'pastebin.com',
        DestinationIpV4: '104.20.67.143',
        DestinationPort: 443,
      },
      RecordState: 'ACTIVE',
    });
  });

  it('gives every update of an alert group the same finding Id and CreatedAt, with a later UpdatedAt', async () => {
    // Act
    await sink().publish([alert('pastebin.com', 'create', 3)]);
    clock += 60_000;
    await sink().publish([alert('pastebin.com', 'update', 9)]);

    // Assess
    const [created, updated] = imports().map((r) => findingsOf(r)[0]!);
    expect(updated!.Id).toBe(created!.Id);
    expect(updated!.CreatedAt).toBe(created!.CreatedAt);
    expect(Date.parse(updated!.UpdatedAt)).toBeGreaterThan(Date.parse(created!.UpdatedAt));
    expect((updated!.ProductFields as Record<string, string>)['ocsf/count']).toBe('9');
  });

  it('sends at most 100 findings per BatchImportFindings request', async () => {
    // Act
    const result = await sink().publish(alerts(150));

    // Assess
    expect(result.published).toBe(150);
    expect(imports().map((r) => findingsOf(r).length)).toEqual([MAX_IMPORT_FINDINGS, 50]);
  });

  it('reports a finding Security Hub rejects as a failure of that alert only', async () => {
    // Prepare
    const messages = alerts(2);
    server.on('POST /findings/import', () => ({
      body: {
        FailedCount: 1,
        SuccessCount: 1,
        FailedFindings: [
          {
            Id: messages[1]!.finding.finding_info.uid,
            ErrorCode: 'InvalidInput',
            ErrorMessage: 'bad',
          },
        ],
      },
    }));

    // Act
    const result = await sink().publish(messages);

    // Assess
    expect(result.published).toBe(1);
    expect(result.failures).toEqual([
      { id: 'alert-1', index: 1, code: 'InvalidInput', message: 'bad', retryable: false },
    ]);
  });
});

describe('Alert routes: fan-out', () => {
  const fixed = (name: string, failIds: string[] = []): AlertSink & { seen: number } => {
    const sink = {
      name,
      seen: 0,
      async publish(messages: readonly AlertMessage[]): Promise<PublishResult> {
        sink.seen += messages.length;
        const failures = failIds.map((id) => ({
          id,
          index: Number(id.slice('alert-'.length)),
          code: 'X',
          message: 'x',
          retryable: false,
        }));
        const accepted = messages.map((_m, i) => i).filter((i) => !failIds.includes(`alert-${i}`));
        return { published: accepted.length, accepted, failures, requests: 1 };
      },
    };
    return sink;
  };

  it('sends every alert to every route and counts an alert published only when all took it', async () => {
    // Prepare
    const sns = fixed('sns');
    const eventBridge = fixed('eventbridge', ['alert-1']);
    const securityHub = fixed('securityhub', ['alert-1', 'alert-2']);

    // Act
    const result = await fanOut([sns, eventBridge, securityHub]).publish(alerts(3));

    // Assess
    expect([sns.seen, eventBridge.seen, securityHub.seen]).toEqual([3, 3, 3]);
    expect(result.published).toBe(1);
    expect(result.requests).toBe(3);
    expect(result.failures.map((f) => f.id)).toEqual([
      'eventbridge:alert-1',
      'securityhub:alert-1',
      'securityhub:alert-2',
    ]);
  });
});

describe('Alert routes: configuration', () => {
  it('turns each route on by its variable and rejects a malformed value', () => {
    expect(loadSinkConfig({})).toEqual({ eventBus: undefined, securityHubProductArn: undefined });
    expect(
      loadSinkConfig({
        ALERT_EVENT_BUS: `arn:aws:events:eu-west-1:${ACCOUNT}:event-bus/soc`,
        SECURITY_HUB_PRODUCT_ARN: PRODUCT_ARN,
      }),
    ).toEqual({
      eventBus: `arn:aws:events:eu-west-1:${ACCOUNT}:event-bus/soc`,
      securityHubProductArn: PRODUCT_ARN,
    });
    expect(() =>
      loadSinkConfig({
        ALERT_EVENT_BUS: 'bus with spaces',
        SECURITY_HUB_PRODUCT_ARN: `arn:aws:securityhub:us-east-1:${ACCOUNT}:product/999999999999/default`,
      }),
    ).toThrow(ConfigError);
  });
});

describe('Alert routes: in the functions', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    // The handler's clients take credentials from the default chain, as in Lambda.
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    });
    stack = await startTestStack({ bucket: 't1102-sinks-test' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const noMetrics = { addMetric() {}, publishStoredMetrics() {} };
  const SYSMON_FILE = 'sysmon/otrf-psh-mshta.wevtutil.xml.gz';

  function handler(routes = server.endpoint, requestTimeoutMs?: number) {
    return createS3BatchHandler({
      source: 'sysmon',
      env: {
        ...handlerEnv(stack),
        ALERT_EVENT_BUS: BUS,
        AWS_ENDPOINT_URL_EVENTBRIDGE: routes,
        SECURITY_HUB_PRODUCT_ARN: PRODUCT_ARN,
        AWS_ENDPOINT_URL_SECURITYHUB: routes,
      },
      logger: quiet,
      metrics: noMetrics,
      publish: noWait,
      ...(requestTimeoutMs === undefined ? {} : { clientTimeouts: { requestTimeoutMs } }),
    });
  }

  it('publishes each alert to SNS, the bus and Security Hub', async () => {
    // Prepare
    const object = await putObject(stack, 'sysmon/routes.xml.gz', datasetFile(SYSMON_FILE)!);

    // Act
    const response = await handler()(
      sqsBatch([JSON.stringify(s3EventFor(object))]),
      localContext('t1102-sysmon'),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const events = putEvents().flatMap(entriesOf);
    const findings = imports().flatMap(findingsOf);
    expect(events).toHaveLength(1);
    expect(findings.map((f) => f.Id)).toEqual([
      (JSON.parse(events[0]!.Detail) as DetectionFinding).finding_info.uid,
    ]);
  });

  it('fails the object, as a failed SNS publish would, when the bus refuses the finding', async () => {
    // Prepare
    server.on('AWSEvents.PutEvents', () => ({
      error: { code: 'AccessDeniedException', message: 'not authorized to PutEvents', status: 400 },
    }));
    const object = await putObject(stack, 'sysmon/refused.xml.gz', datasetFile(SYSMON_FILE)!);
    const batch = sqsBatch([JSON.stringify(s3EventFor(object))]);

    // Act
    const response = await handler()(batch, localContext('t1102-sysmon'));

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: batch.Records[0]!.messageId }]);
    expect(putEvents()).toHaveLength(1);
    expect(imports()).toHaveLength(1);
  });

  it.each([
    ['EventBridge', 'PutEvents', putEvents],
    ['Security Hub', 'POST /findings/import', imports],
  ] as const)(
    'times out a stalled %s request with the function’s client timeouts and retries it: the finding arrives once',
    async (_route, operation, requests) => {
      // Prepare: the route's first request never answered (a silent network), as issue 21's
      // SNS, S3 and DynamoDB stalls.
      const proxy = await startFaultProxy(server.endpoint);
      proxy.add({ match: (r) => operationOf(r) === operation, fault: { kind: 'stall' } });
      const object = await putObject(
        stack,
        `sysmon/stalled-${operation.replace(/\W+/g, '-')}.xml.gz`,
        datasetFile(SYSMON_FILE)!,
      );
      const batch = sqsBatch([JSON.stringify(s3EventFor(object))]);

      // Act: well within the test's own timeout, which a call without one would reach.
      let timer: NodeJS.Timeout | undefined;
      const response = await Promise.race([
        handler(proxy.endpoint, 500)(batch, localContext('t1102-sysmon')),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error('the stalled request never timed out')),
            15_000,
          );
        }),
      ]).finally(() => {
        clearTimeout(timer);
        return proxy.stop();
      });

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(proxy.injected).toEqual([`${operation}:stall`]);
      expect(requests()).toHaveLength(1);
    },
  );
});
