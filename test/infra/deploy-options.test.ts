import { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPipelineConfig } from '../../infra/config.ts';
import { InvalidContextError } from '../../infra/errors.ts';
import {
  asArray,
  type CfnResource,
  type PolicyStatementJson,
  referencedLogicalId,
  renderArn,
  resourcesOfType,
  type Synthesized,
  synthesisFailure,
  synthesize,
} from './helpers.ts';

// Expected values come from issue 19 ("Deploy into a real estate") and the AWS pages it cites.
const ARCHIVE = 'org-log-archive';
const ARCHIVE_ACCOUNT = '111122223333';
const ARCHIVE_KEY = `arn:aws:kms:us-east-1:${ARCHIVE_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const PARTNER = 'partner-logs';
const PARTNER_ACCOUNT = '444455556666';
const LOCAL = 'local-logs';
const FDR_QUEUE = 'https://sqs.us-west-1.amazonaws.com/292230061137/cs-prod-cannon-q1';
const FDR_SECRET = 't1102/crowdstrike-fdr';
const EXISTING_BUCKETS = [
  {
    name: ARCHIVE,
    account: ARCHIVE_ACCOUNT,
    prefixes: { 'windows/sysmon/': 'sysmon', 'crowdstrike/': 'falcon' },
    kmsKeyArn: ARCHIVE_KEY,
  },
  { name: LOCAL, prefixes: { 'sysmon/': 'sysmon' }, delivery: 's3' },
  { name: PARTNER, account: PARTNER_ACCOUNT, prefixes: { 'edr/': 'falcon' }, delivery: 's3' },
];
const EVERYTHING = {
  existingBuckets: JSON.stringify(EXISTING_BUCKETS),
  fdrQueueUrl: FDR_QUEUE,
  fdrSecretName: FDR_SECRET,
  alertEventBus: 'soc-findings',
  securityHub: 'true',
  noDataHours: '6',
  maxConcurrency: '5',
  alertEmail: 'soc@example.com',
  opsEmail: 'ops@example.com',
};

type Props = Record<string, unknown>;
const props = (r: CfnResource | undefined): Props => r?.Properties ?? {};

/** The function whose environment has `name` = `value`, with its role's statements. */
function functionWhere(t: Template, name: string, value: string) {
  const entry = Object.entries(resourcesOfType(t, 'AWS::Lambda::Function')).find(
    ([, f]) =>
      (props(f).Environment as { Variables?: Props } | undefined)?.Variables?.[name] === value,
  );
  if (entry === undefined) return undefined;
  const [id, fn] = entry;
  const roleId = referencedLogicalId(props(fn).Role) ?? '';
  const statements = Object.values(resourcesOfType(t, 'AWS::IAM::Policy'))
    .filter((p) =>
      asArray(props(p).Roles as unknown[]).some((r) => referencedLogicalId(r) === roleId),
    )
    .flatMap((p) => (props(p).PolicyDocument as { Statement: PolicyStatementJson[] }).Statement);
  const variables = (props(fn).Environment as { Variables: Props }).Variables;
  return { id, fn, variables, statements };
}
const detector = (t: Template, source: 'sysmon' | 'falcon') => {
  const found = functionWhere(t, 'SOURCE', source);
  if (found === undefined) throw new Error(`no ${source} function`);
  return found;
};
const resourcesWith = (statements: PolicyStatementJson[], action: string): string[] =>
  statements
    .filter((s) => s.Effect === 'Allow' && asArray(s.Action).includes(action))
    .flatMap((s) => asArray(s.Resource).map(renderArn));
const queueId = (t: Template, source: 'sysmon' | 'falcon') =>
  referencedLogicalId(
    props(
      Object.values(resourcesOfType(t, 'AWS::Lambda::EventSourceMapping')).find(
        (m) => referencedLogicalId(props(m).FunctionName) === detector(t, source).id,
      ),
    ).EventSourceArn,
  );
const alarms = (t: Template) => resourcesOfType(t, 'AWS::CloudWatch::Alarm');
const queuePolicyStatements = (t: Template): PolicyStatementJson[] =>
  Object.values(resourcesOfType(t, 'AWS::SQS::QueuePolicy')).flatMap(
    (p) => (props(p).PolicyDocument as { Statement: PolicyStatementJson[] }).Statement,
  );

let defaults: Synthesized;
let everything: Synthesized;
let quiet: Synthesized;
beforeAll(() => {
  defaults = synthesize();
  everything = synthesize({ context: EVERYTHING });
  quiet = synthesize({ context: { noDataHours: '0', securityHub: 'true' } });
});
afterAll(() => {
  defaults?.dispose();
  everything?.dispose();
  quiet?.dispose();
});

describe('Existing buckets: a log archive in another account, through EventBridge', () => {
  it("matches the archive account's \"Object Created\" events under each source's prefixes and sends them to that source's queue", () => {
    // Prepare
    const t = everything.template;
    const rules = Object.values(resourcesOfType(t, 'AWS::Events::Rule')).filter(
      (r) => (props(r).EventPattern as Props | undefined)?.source !== undefined,
    );

    // Act
    const bySource = (source: 'sysmon' | 'falcon') =>
      rules.find(
        (r) => referencedLogicalId((props(r).Targets as Props[])[0]?.Arn) === queueId(t, source),
      );

    // Assess
    expect(props(bySource('sysmon')).EventPattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      account: [ARCHIVE_ACCOUNT],
      detail: { bucket: { name: [ARCHIVE] }, object: { key: [{ prefix: 'windows/sysmon/' }] } },
    });
    expect(
      (props(bySource('falcon')).EventPattern as { detail: { object: { key: unknown } } }).detail
        .object.key,
    ).toEqual([{ prefix: 'crowdstrike/' }]);
    for (const rule of [bySource('sysmon'), bySource('falcon')]) {
      expect((props(rule).Targets as Props[])[0]).toHaveProperty('DeadLetterConfig');
    }
  });

  it("lets only the archive account put S3 events on this account's default bus", () => {
    // Act
    const policies = Object.values(
      resourcesOfType(everything.template, 'AWS::Events::EventBusPolicy'),
    );

    // Assess
    expect(policies).toHaveLength(1);
    const statement = props(policies[0]).Statement as PolicyStatementJson & {
      Principal: { AWS: unknown };
    };
    expect(props(policies[0]).EventBusName).toBe('default');
    expect(renderArn(statement.Principal.AWS)).toBe(
      `arn:<AWS::Partition>:iam::${ARCHIVE_ACCOUNT}:root`,
    );
    expect(statement.Action).toBe('events:PutEvents');
    expect(statement.Condition).toEqual({ StringEquals: { 'events:source': 'aws.s3' } });
  });

  it.each([
    [
      'sysmon',
      [
        `arn:<AWS::Partition>:s3:::${ARCHIVE}/windows/sysmon/*`,
        `arn:<AWS::Partition>:s3:::${LOCAL}/sysmon/*`,
      ],
    ],
    [
      'falcon',
      [
        `arn:<AWS::Partition>:s3:::${ARCHIVE}/crowdstrike/*`,
        `arn:<AWS::Partition>:s3:::${PARTNER}/edr/*`,
      ],
    ],
  ] as const)(
    'lets the %s function read only its own prefixes of the existing buckets',
    (source, expected) => {
      // Act
      const reads = resourcesWith(
        detector(everything.template, source).statements,
        's3:GetObject',
      ).filter((arn) => arn.startsWith('arn:<AWS::Partition>:s3:::'));

      // Assess
      expect(reads.sort()).toEqual([...expected].sort());
    },
  );

  it('lets each function decrypt with the archive key only through S3 and only for its prefixes', () => {
    // Act
    const decrypt = detector(everything.template, 'sysmon').statements.filter(
      (s) => asArray(s.Action).includes('kms:Decrypt') && asArray(s.Resource).includes(ARCHIVE_KEY),
    );

    // Assess
    expect(decrypt).toHaveLength(1);
    expect(renderArn(decrypt[0]?.Condition?.StringEquals?.['kms:ViaService'])).toBe(
      's3.<AWS::Region>.<AWS::URLSuffix>',
    );
    expect(
      asArray(
        decrypt[0]?.Condition?.StringLike?.['kms:EncryptionContext:aws:s3:arn'] as unknown[],
      ).map(renderArn),
    ).toEqual([
      `arn:<AWS::Partition>:s3:::${ARCHIVE}`,
      `arn:<AWS::Partition>:s3:::${ARCHIVE}/windows/sysmon/*`,
    ]);
  });

  it("writes quarantine files to the stack's own bucket, never into the archive", () => {
    // Act
    const { variables } = detector(everything.template, 'sysmon');

    // Assess
    expect(referencedLogicalId(variables.QUARANTINE_BUCKET)).toBe(
      referencedLogicalId(Object.values(everything.template.findOutputs('BucketName'))[0]?.Value),
    );
  });

  it("outputs each function's role ARN for the archive's bucket and key policies", () => {
    // Act
    const outputs = Object.keys(everything.template.findOutputs('*'));

    // Assess
    expect(outputs).toEqual(expect.arrayContaining(['SysmonReaderRoleArn', 'FalconReaderRoleArn']));
  });
});

describe('Existing buckets: S3 event notifications', () => {
  it("adds a notification to a bucket of this account, keeping the bucket's other notifications", () => {
    // Act
    const notifications = Object.values(
      resourcesOfType(everything.template, 'Custom::S3BucketNotifications'),
    ).filter((n) => props(n).BucketName === LOCAL);

    // Assess
    expect(notifications).toHaveLength(1);
    expect(props(notifications[0]).Managed).toBe(false);
    const [queue] = (
      props(notifications[0]).NotificationConfiguration as {
        QueueConfigurations: Array<{ QueueArn: unknown; Filter: unknown }>;
      }
    ).QueueConfigurations;
    expect(referencedLogicalId(queue?.QueueArn)).toBe(queueId(everything.template, 'sysmon'));
    expect(queue?.Filter).toEqual({ Key: { FilterRules: [{ Name: 'prefix', Value: 'sysmon/' }] } });
  });

  it('lets S3 send from a bucket in another account to the queue, for that bucket and account only', () => {
    // Act
    const fromPartner = queuePolicyStatements(everything.template).filter(
      (s) => s.Condition?.StringEquals?.['aws:SourceAccount'] === PARTNER_ACCOUNT,
    );

    // Assess: the owner configures the notification; this stack cannot and does not try.
    expect(fromPartner).toHaveLength(1);
    expect(renderArn(fromPartner[0]?.Condition?.ArnLike?.['aws:SourceArn'])).toBe(
      `arn:<AWS::Partition>:s3:::${PARTNER}`,
    );
    expect(
      Object.values(resourcesOfType(everything.template, 'Custom::S3BucketNotifications')).some(
        (n) => props(n).BucketName === PARTNER,
      ),
    ).toBe(false);
  });

  it('attaches nothing by default: no rule, no bus policy, no foreign read', () => {
    // Act
    const foreign = [
      ...resourcesWith(detector(defaults.template, 'sysmon').statements, 's3:GetObject'),
    ].filter((arn) => arn.startsWith('arn:<AWS::Partition>:s3:::'));

    // Assess
    expect(Object.keys(resourcesOfType(defaults.template, 'AWS::Events::Rule'))).toHaveLength(0);
    expect(
      Object.keys(resourcesOfType(defaults.template, 'AWS::Events::EventBusPolicy')),
    ).toHaveLength(0);
    expect(foreign).toEqual([]);
  });
});

describe('Context: the new options', () => {
  const read = (context: Record<string, unknown>) => () => readPipelineConfig(new App({ context }));

  it('defaults to 3 per queue, a 24-hour no-data alarm, a one-year log retention, no route and no poller', () => {
    // Act
    const config = read({})();

    // Assess
    expect(config).toMatchObject({
      maxConcurrency: 3,
      noDataHours: 24,
      logRetentionDays: 365,
      existingBuckets: [],
      fdr: undefined,
      alertEventBus: undefined,
      securityHub: false,
    });
  });

  it.each([
    ['maxConcurrency', '1'],
    ['maxConcurrency', '1001'],
    ['noDataHours', '169'],
    ['fdrScheduleMinutes', '61'],
    ['alertEventBus', 'bus with spaces'],
    ['securityHub', 'yes'],
    ['fdrQueueUrl', 'http://sqs.us-west-1.amazonaws.com/292230061137/q'],
    ['fdrSecretName', 'has spaces'],
  ])('rejects %s=%s, naming the key', (key, value) => {
    expect(read({ [key]: value })).toThrow(InvalidContextError);
    expect(read({ [key]: value })).toThrow(new RegExp(`"${key}"`));
  });
});

describe('Existing buckets: context', () => {
  const read = (value: unknown) => () => {
    const app = new App({ context: { existingBuckets: value } });
    return readPipelineConfig(app);
  };

  it.each([
    ['not JSON', '[{name:'],
    [
      'an unknown field',
      JSON.stringify([{ name: ARCHIVE, prefixes: { 'a/': 'sysmon' }, region: 'x' }]),
    ],
    [
      'a source other than sysmon or falcon',
      JSON.stringify([{ name: ARCHIVE, prefixes: { 'a/': 'zeek' } }]),
    ],
    ['a prefix without its slash', JSON.stringify([{ name: ARCHIVE, prefixes: { a: 'sysmon' } }])],
    [
      'a short account id',
      JSON.stringify([{ name: ARCHIVE, account: '1234', prefixes: { 'a/': 'sysmon' } }]),
    ],
    [
      'an unknown delivery',
      JSON.stringify([{ name: ARCHIVE, prefixes: { 'a/': 'sysmon' }, delivery: 'sns' }]),
    ],
    [
      'the same bucket twice',
      JSON.stringify([
        { name: ARCHIVE, prefixes: { 'a/': 'sysmon' } },
        { name: ARCHIVE, prefixes: { 'b/': 'falcon' } },
      ]),
    ],
  ])('rejects %s, naming the key', (_what, value) => {
    expect(read(value)).toThrow(InvalidContextError);
    expect(read(value)).toThrow(/existingBuckets/);
  });

  it('reads an array from cdk.json as it reads a JSON string from -c', () => {
    expect(read(EXISTING_BUCKETS)().existingBuckets).toEqual(
      read(JSON.stringify(EXISTING_BUCKETS))().existingBuckets,
    );
  });
});

describe('CrowdStrike FDR poller', () => {
  const poller = (t: Template) => functionWhere(t, 'POWERTOOLS_SERVICE_NAME', 't1102-fdr');

  it('is absent without fdrQueueUrl and fdrSecretName', () => {
    expect(poller(defaults.template)).toBeUndefined();
  });

  it('runs every minute by default with the queue, the secret name and the destination', () => {
    // Prepare
    const t = everything.template;
    const found = poller(t)!;

    // Act
    const schedule = Object.values(resourcesOfType(t, 'AWS::Events::Rule')).find(
      (r) => referencedLogicalId((props(r).Targets as Props[])[0]?.Arn) === found.id,
    );

    // Assess
    expect(props(schedule).ScheduleExpression).toBe('rate(1 minute)');
    expect(found.variables).toMatchObject({
      FDR_QUEUE_URL: FDR_QUEUE,
      FDR_SECRET_ID: FDR_SECRET,
      DESTINATION_PREFIX: 'falcon/fdr/',
      // Twice the function timeout (300 s): a run still copying never loses its messages.
      FDR_VISIBILITY_TIMEOUT_SECONDS: '600',
    });
    expect(referencedLogicalId(found.variables.DESTINATION_BUCKET)).toBe(
      referencedLogicalId(Object.values(t.findOutputs('BucketName'))[0]?.Value),
    );
  });

  it('takes fdrScheduleMinutes', () => {
    // Prepare
    const synth = synthesize({
      context: { fdrQueueUrl: FDR_QUEUE, fdrSecretName: FDR_SECRET, fdrScheduleMinutes: '5' },
    });
    try {
      // Act
      const schedules = Object.values(resourcesOfType(synth.template, 'AWS::Events::Rule')).map(
        (r) => props(r).ScheduleExpression,
      );

      // Assess
      expect(schedules).toEqual(['rate(5 minutes)']);
    } finally {
      synth.dispose();
    }
  });

  it('may read its one secret, write and read only under falcon/fdr/, and publish nothing', () => {
    // Act
    const { statements } = poller(everything.template)!;

    // Assess
    expect(resourcesWith(statements, 'secretsmanager:GetSecretValue')).toEqual([
      `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${FDR_SECRET}-??????`,
    ]);
    expect(
      resourcesWith(statements, 's3:PutObject').map((a) => a.replace(/<[^>]+>/, '<bucket>')),
    ).toEqual(['<bucket>/falcon/fdr/*']);
    expect(
      resourcesWith(statements, 's3:GetObject').map((a) => a.replace(/<[^>]+>/, '<bucket>')),
    ).toEqual(['<bucket>/falcon/fdr/*']);
    expect(resourcesWith(statements, 's3:ListBucket')).toHaveLength(1);
    expect(resourcesWith(statements, 'sns:Publish')).toEqual([]);
  });

  it('alarms when it fails, when a copy fails and when an object was lost', () => {
    // Act
    const names = Object.keys(alarms(everything.template));

    // Assess
    for (const id of ['FdrErrors', 'FdrObjectsFailed', 'FdrObjectsMissing']) {
      expect(names.some((n) => n.includes(id))).toBe(true);
    }
    expect(Object.keys(alarms(defaults.template)).some((n) => n.includes('Fdr'))).toBe(false);
  });

  it('charts its messages and files on the dashboard', () => {
    // Act
    const body = (t: Template) =>
      JSON.stringify(
        Object.values(resourcesOfType(t, 'AWS::CloudWatch::Dashboard')).map(
          (d) => props(d).DashboardBody,
        ),
      );

    // Assess
    for (const metric of ['FdrMessagesDeleted', 'FdrObjectsCopied', 'FdrObjectsMissing']) {
      expect(body(everything.template)).toContain(metric);
      expect(body(defaults.template)).not.toContain(metric);
    }
  });

  it('needs both fdrQueueUrl and fdrSecretName', () => {
    expect(synthesisFailure({ context: { fdrQueueUrl: FDR_QUEUE } })).toMatch(/fdrSecretName/);
  });
});

describe('Alert routes', () => {
  it('puts findings on the named bus: the functions get ALERT_EVENT_BUS and events:PutEvents on that bus only', () => {
    // Act
    const { variables, statements } = detector(everything.template, 'falcon');

    // Assess
    expect(variables.ALERT_EVENT_BUS).toBe('soc-findings');
    expect(resourcesWith(statements, 'events:PutEvents')).toEqual([
      'arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/soc-findings',
    ]);
  });

  it("imports into Security Hub: SECURITY_HUB_PRODUCT_ARN and BatchImportFindings on the account's default product only", () => {
    // Act
    const { variables, statements } = detector(everything.template, 'sysmon');
    const product =
      'arn:<AWS::Partition>:securityhub:<AWS::Region>:<AWS::AccountId>:product/<AWS::AccountId>/default';

    // Assess
    expect(renderArn(variables.SECURITY_HUB_PRODUCT_ARN)).toBe(product);
    expect(resourcesWith(statements, 'securityhub:BatchImportFindings')).toEqual([product]);
  });

  it('routes nowhere but SNS by default', () => {
    // Act
    const { variables, statements } = detector(defaults.template, 'sysmon');

    // Assess
    expect(variables).not.toHaveProperty('ALERT_EVENT_BUS');
    expect(variables).not.toHaveProperty('SECURITY_HUB_PRODUCT_ARN');
    expect(resourcesWith(statements, 'events:PutEvents')).toEqual([]);
  });
});

describe('No silent failure', () => {
  it('warns at synth, without failing it, when alerts and alarms reach nobody', () => {
    // Act
    const warnings = defaults.annotations;

    // Assess
    warnings.hasWarning('/T1102Detection', Match.stringLikeRegexp('No alert subscriber or route'));
    warnings.hasWarning('/T1102Detection', Match.stringLikeRegexp('No operations subscriber'));
  });

  it('does not warn once an alert route and the operations subscriber are given', () => {
    // Act
    const all = everything.annotations.findWarning('*', Match.anyValue());

    // Assess
    expect(all.map((w) => String(w.entry.data))).not.toEqual(
      expect.arrayContaining([
        expect.stringMatching(/No alert subscriber|No operations subscriber/),
      ]),
    );
  });

  it('counts Security Hub alone as an alert route', () => {
    // Act
    const all = quiet.annotations.findWarning('*', Match.anyValue());

    // Assess
    expect(all.some((w) => /No alert subscriber/.test(String(w.entry.data)))).toBe(false);
  });

  it.each([
    ['by default', () => defaults, 24],
    ['with noDataHours=6', () => everything, 6],
  ])(
    'raises a "no data" alarm per source when no object was processed for the hours given (%s)',
    (_case, synth, hours) => {
      // Act
      const noData = Object.entries(alarms(synth().template)).filter(([id]) =>
        id.includes('NoData'),
      );

      // Assess
      expect(noData.map(([id]) => id.replace(/NoData.*/, '')).sort()).toEqual([
        'MonitoringFalcon',
        'MonitoringSysmon',
      ]);
      for (const [, alarm] of noData) {
        expect(props(alarm)).toMatchObject({
          MetricName: 'ObjectsProcessed',
          Namespace: 'T1102Detection',
          Period: 3600,
          Statistic: 'Sum',
          EvaluationPeriods: hours,
          Threshold: 1,
          ComparisonOperator: 'LessThanThreshold',
          // A function that never runs emits nothing: no data is the failure itself.
          TreatMissingData: 'breaching',
        });
        expect((props(alarm).AlarmActions as unknown[]).length).toBe(1);
      }
    },
  );

  it('has no "no data" alarm with noDataHours=0', () => {
    expect(Object.keys(alarms(quiet.template)).some((id) => id.includes('NoData'))).toBe(false);
  });
});

describe('Defaults that survive a new account', () => {
  const caps = (t: Template) =>
    Object.values(resourcesOfType(t, 'AWS::Lambda::EventSourceMapping')).map(
      (m) =>
        (props(m).ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency,
    );

  it("caps every queue's event source at 3 concurrent invocations, without reserved concurrency", () => {
    // Act
    const functions = Object.values(resourcesOfType(defaults.template, 'AWS::Lambda::Function'));

    // Assess: two sources at 3 stay inside a new account's quota of 10, with room for CDK's helper.
    expect(caps(defaults.template)).toEqual([3, 3]);
    expect(functions.every((f) => props(f).ReservedConcurrentExecutions === undefined)).toBe(true);
    expect(caps(everything.template)).toEqual([5, 5]);
  });

  it('gives up on a notification after 5 receives, not fewer', () => {
    // Act
    const counts = Object.values(resourcesOfType(defaults.template, 'AWS::SQS::Queue'))
      .map(
        (q) =>
          (props(q).RedrivePolicy as { maxReceiveCount?: number } | undefined)?.maxReceiveCount,
      )
      .filter((c) => c !== undefined);

    // Assess: a receive counts even when Lambda's poller then drops the message unprocessed (the
    // function throttled, or scaling), so fewer than AWS's advised 5 dead-letter messages that
    // never ran. https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    expect(counts).toEqual([5, 5]);
  });

  it('keeps stateful resources on update and delete, but lets a failed first create remove them', () => {
    // Act
    const stateful = [
      'AWS::S3::Bucket',
      'AWS::KMS::Key',
      'AWS::Logs::LogGroup',
      'AWS::DynamoDB::Table',
    ].flatMap((type) => Object.values(resourcesOfType(defaults.template, type))) as Array<
      CfnResource & { UpdateReplacePolicy?: string }
    >;

    // Assess
    expect(new Set(stateful.map((r) => r.DeletionPolicy))).toEqual(
      new Set(['RetainExceptOnCreate']),
    );
    expect(new Set(stateful.map((r) => r.UpdateReplacePolicy))).toEqual(new Set(['Retain']));
  });

  it('keeps every log group a year by default', () => {
    // Act
    const retention = Object.values(
      resourcesOfType(everything.template, 'AWS::Logs::LogGroup'),
    ).map((g) => props(g).RetentionInDays);

    // Assess: both detectors, the FDR poller and CDK's notification handler.
    expect(retention).toEqual([365, 365, 365, 365]);
  });

  it("gives CDK's bucket-notification handler a log group the stack owns, encrypted and with retention", () => {
    // Prepare
    const t = defaults.template;
    const [handler] = Object.entries(resourcesOfType(t, 'AWS::Lambda::Function')).filter(([id]) =>
      id.startsWith('BucketNotificationsHandler'),
    );

    // Act
    const logGroupId = referencedLogicalId((props(handler?.[1]).LoggingConfig as Props).LogGroup);
    const logGroup = resourcesOfType(t, 'AWS::Logs::LogGroup')[logGroupId ?? ''];

    // Assess
    expect(logGroup).toBeDefined();
    expect(props(logGroup).KmsKeyId).toBeDefined();
    expect(props(logGroup).RetentionInDays).toBe(365);
  });

  it('names no AWS endpoint domain literally outside service principals, so other partitions work', () => {
    // Prepare
    const found: string[] = [];
    // Service principals (a policy's Principal.Service, a Lambda permission's Principal) are
    // the same name in every partition; FDR_QUEUE_URL is the operator's own input.
    const allowed = /(\.Principal\.Service(\.\d+)?|\.FDR_QUEUE_URL)$/;
    const walk = (value: unknown, path: string): void => {
      if (typeof value === 'string') {
        if (value.includes('amazonaws.com') && !allowed.test(path)) found.push(`${path}: ${value}`);
      } else if (typeof value === 'object' && value !== null) {
        for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
      }
    };

    // Act
    const resources = everything.template.toJSON().Resources as Record<string, CfnResource>;
    for (const [id, resource] of Object.entries(resources)) {
      const { Principal, ...rest } = resource.Properties ?? {};
      if (resource.Type !== 'AWS::Lambda::Permission') walk(Principal, `${id}.Principal`);
      walk(rest, id);
    }

    // Assess
    expect(found).toEqual([]);
  });
});

describe('Control Tower proactive rules (cfn-guard)', () => {
  it('fail synthesis on a finding no one acknowledged, even beside acknowledged ones', () => {
    // Prepare: a log group kept a month, which CT.CLOUDWATCH.PR.2 refuses.
    const extend = ({ stack }: { stack: import('aws-cdk-lib').Stack }) => {
      new LogGroup(stack, 'ScratchLogGroup', { retention: RetentionDays.ONE_MONTH });
    };

    // Act
    const report = synthesisFailure({ extend, controlTower: true });

    // Assess
    expect(report).toMatch(/CT\.CLOUDWATCH\.PR\.2/);
    expect(report).toMatch(/ScratchLogGroup/);
  });
});
