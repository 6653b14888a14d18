import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asArray,
  type CfnResource,
  type PolicyStatementJson,
  referencedLogicalId,
  renderArn,
  resourcesOfType,
  type Synthesized,
  synthesize,
} from './helpers.ts';

// Expected values come from the issue ("The CDK app") and the functions' environment contract.
const SOURCES = ['sysmon', 'falcon'] as const;
type Source = (typeof SOURCES)[number];
const SOURCE_PREFIX: Record<Source, string> = { sysmon: 'sysmon/', falcon: 'falcon/' };
const SERVICE_NAME: Record<Source, string> = { sysmon: 't1102-sysmon', falcon: 't1102-falcon' };
const DEFAULT_QUARANTINE_PREFIX = 'quarantine/';
const MAX_RECEIVE_COUNT = 5;
const VISIBILITY_TIMEOUT_FACTOR = 6;
// The state table (issue 6 and lib/state/README.md): key schema, TTL attribute, actions.
const STATE_KEY_SCHEMA = [
  { AttributeName: 'pk', KeyType: 'HASH' },
  { AttributeName: 'sk', KeyType: 'RANGE' },
];
const STATE_TTL_ATTRIBUTE = 'expiresAt';
const STATE_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];
const DEFAULT_WINDOW_MINUTES = '1440';
const DEFAULT_THRESHOLD = '1';
const DEFAULT_STATE_TTL_DAYS = '7';
const METRIC_NAMES = [
  'ObjectsProcessed',
  'ObjectsFailed',
  'BytesRead',
  'RecordsRead',
  'RecordsSkipped',
  'RecordsMatched',
  'AlertGroups',
  'AlertsPublished',
  'ObjectDurationMs',
];
const SKIP_REASONS = [
  'record-too-large',
  'invalid-json',
  'not-an-object',
  'invalid-xml',
  'xml-dtd-refused',
  'unclosed-event',
  'truncated-record',
  'invalid-encoding',
];

/** How one source is wired in a template, by logical id. */
interface Wiring {
  functionId: string;
  fn: CfnResource;
  queueId: string;
  queue: CfnResource;
  deadLetterQueueId: string;
  mapping: CfnResource;
  statements: PolicyStatementJson[];
  policyIds: string[];
  roleId: string;
}

function props(resource: CfnResource | undefined): Record<string, unknown> {
  return resource?.Properties ?? {};
}

function wiring(template: Template, source: Source): Wiring {
  const functions = resourcesOfType(template, 'AWS::Lambda::Function');
  const [functionId, fn] = Object.entries(functions).find(
    ([, f]) =>
      (props(f).Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
        ?.SOURCE === source,
  ) ?? ['', undefined];
  if (fn === undefined) throw new Error(`no function with SOURCE=${source}`);
  const mapping = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')).find(
    (m) => referencedLogicalId(props(m).FunctionName) === functionId,
  );
  if (mapping === undefined) throw new Error(`no event source mapping for ${functionId}`);
  const queueId = referencedLogicalId(props(mapping).EventSourceArn) ?? '';
  const queue = resourcesOfType(template, 'AWS::SQS::Queue')[queueId];
  if (queue === undefined) throw new Error(`no queue ${queueId}`);
  const redrive = props(queue).RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined;
  const roleId = referencedLogicalId(props(fn).Role) ?? '';
  const policies = Object.entries(resourcesOfType(template, 'AWS::IAM::Policy')).filter(([, p]) =>
    asArray(props(p).Roles as unknown[]).some((r) => referencedLogicalId(r) === roleId),
  );
  return {
    functionId,
    fn,
    queueId,
    queue,
    deadLetterQueueId: referencedLogicalId(redrive?.deadLetterTargetArn) ?? '',
    mapping,
    roleId,
    policyIds: policies.map(([id]) => id),
    statements: policies.flatMap(
      ([, p]) => (props(p).PolicyDocument as { Statement: PolicyStatementJson[] }).Statement,
    ),
  };
}

function alertTopicId(template: Template): string {
  const outputs = template.findOutputs('AlertTopicArn') as Record<string, { Value: unknown }>;
  return referencedLogicalId(Object.values(outputs)[0]?.Value) ?? '';
}

function opsTopicId(template: Template): string {
  const outputs = template.findOutputs('OpsTopicArn') as Record<string, { Value: unknown }>;
  return referencedLogicalId(Object.values(outputs)[0]?.Value) ?? '';
}

function logBucketId(template: Template): string {
  const outputs = template.findOutputs('BucketName') as Record<string, { Value: unknown }>;
  return referencedLogicalId(Object.values(outputs)[0]?.Value) ?? '';
}

function stateTableId(template: Template): string {
  const outputs = template.findOutputs('StateTableName') as Record<string, { Value: unknown }>;
  return referencedLogicalId(Object.values(outputs)[0]?.Value) ?? '';
}

function environment(fn: CfnResource): Record<string, unknown> {
  return (props(fn).Environment as { Variables: Record<string, unknown> }).Variables;
}

function queueConfigurations(template: Template) {
  const [notifications] = Object.values(resourcesOfType(template, 'Custom::S3BucketNotifications'));
  const config = props(notifications).NotificationConfiguration as {
    QueueConfigurations?: {
      Events: string[];
      Filter?: { Key?: { FilterRules?: { Name: string; Value: string }[] } };
      QueueArn: unknown;
    }[];
    LambdaFunctionConfigurations?: unknown[];
    TopicConfigurations?: unknown[];
  };
  return { config, queues: config.QueueConfigurations ?? [] };
}

function actionsOf(statement: PolicyStatementJson): string[] {
  return asArray(statement.Action);
}

function statementsWithAction(statements: PolicyStatementJson[], action: string) {
  return statements.filter((s) => s.Effect === 'Allow' && actionsOf(s).includes(action));
}

let defaults: Synthesized;
let customised: Synthesized;
let stateless: Synthesized;
let template: Template;

beforeAll(() => {
  defaults = synthesize();
  template = defaults.template;
  customised = synthesize({
    context: {
      alertEmail: 'soc@example.com',
      opsEmail: 'ops@example.com',
      memoryMiB: '2048',
      timeoutSeconds: '900',
      reservedConcurrency: '4',
      quarantinePrefix: 'held/',
      quarantineExpirationDays: '7',
      noncurrentVersionExpirationDays: '14',
      logRetentionDays: '30',
      removalPolicy: 'destroy',
      windowMinutes: '60',
      threshold: '3',
      stateTtlDays: '30',
      exceptionsKey: 'config/exceptions.json',
    },
  });
  stateless = synthesize({ context: { state: 'false' } });
});

afterAll(() => {
  defaults?.dispose();
  customised?.dispose();
  stateless?.dispose();
});

describe('Routing by prefix', () => {
  it.each(SOURCES)(
    'sends objects created under the %s prefix to the queue that its own function drains',
    (source) => {
      // Prepare
      const { queues } = queueConfigurations(template);

      // Act
      const matching = queues.filter((q) =>
        q.Filter?.Key?.FilterRules?.some(
          (r) => r.Name === 'prefix' && r.Value === SOURCE_PREFIX[source],
        ),
      );

      // Assess
      expect(matching).toHaveLength(1);
      expect(matching[0]?.Events).toEqual(['s3:ObjectCreated:*']);
      expect(referencedLogicalId(matching[0]?.QueueArn)).toBe(wiring(template, source).queueId);
    },
  );

  it('routes the two sources to two different queues and nothing else', () => {
    // Prepare
    const { config, queues } = queueConfigurations(template);

    // Act
    const queueIds = new Set(queues.map((q) => referencedLogicalId(q.QueueArn)));

    // Assess
    expect(queues).toHaveLength(2);
    expect(queueIds.size).toBe(2);
    expect(config.LambdaFunctionConfigurations).toBeUndefined();
    expect(config.TopicConfigurations).toBeUndefined();
  });

  it.each([
    ['the default quarantine prefix', () => defaults, DEFAULT_QUARANTINE_PREFIX],
    ['a quarantine prefix from context', () => customised, 'held/'],
  ])('never notifies on %s', (_name, synth, quarantinePrefix) => {
    // Prepare
    const { queues } = queueConfigurations(synth().template);

    // Act
    const prefixes = queues.map(
      (q) => q.Filter?.Key?.FilterRules?.find((r) => r.Name === 'prefix')?.Value,
    );

    // Assess: a notification without a prefix filter would cover the quarantine prefix too.
    expect(prefixes).not.toContain(undefined);
    for (const prefix of prefixes) {
      expect(prefix?.startsWith(quarantinePrefix)).toBe(false);
      expect(quarantinePrefix.startsWith(prefix ?? '')).toBe(false);
    }
  });
});

describe('Queues and event sources', () => {
  it.each(SOURCES)('moves a %s message to a dead-letter queue after 5 receives', (source) => {
    // Prepare
    const w = wiring(template, source);

    // Act
    const redrive = props(w.queue).RedrivePolicy as { maxReceiveCount: number };

    // Assess
    expect(redrive.maxReceiveCount).toBe(MAX_RECEIVE_COUNT);
    expect(resourcesOfType(template, 'AWS::SQS::Queue')[w.deadLetterQueueId]).toBeDefined();
    expect(w.deadLetterQueueId).not.toBe(w.queueId);
  });

  it.each(
    SOURCES.flatMap((source) => [
      [source, 'default', () => defaults] as const,
      [source, 'timeoutSeconds=900', () => customised] as const,
    ]),
  )(
    'keeps the %s queue visibility timeout at least six times its function timeout (%s)',
    (source, _case, synth) => {
      // Prepare
      const w = wiring(synth().template, source);

      // Act
      const visibility = props(w.queue).VisibilityTimeout as number;
      const timeout = props(w.fn).Timeout as number;

      // Assess
      expect(visibility).toBeGreaterThanOrEqual(VISIBILITY_TIMEOUT_FACTOR * timeout);
    },
  );

  it.each(SOURCES)('lets the %s function report batch item failures', (source) => {
    // Prepare
    const w = wiring(template, source);

    // Act
    const responseTypes = props(w.mapping).FunctionResponseTypes;

    // Assess
    expect(responseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('caps each event source at the reserved concurrency from context when it is below maxConcurrency', () => {
    // Prepare
    const mappings = SOURCES.map((s) => wiring(customised.template, s));

    // Act
    const caps = mappings.map((w) => [
      props(w.fn).ReservedConcurrentExecutions,
      (props(w.mapping).ScalingConfig as { MaximumConcurrency?: number }).MaximumConcurrency,
    ]);

    // Assess: reserved 4, maxConcurrency 3 (the default): the smaller one caps the pollers.
    expect(caps).toEqual([
      [4, 3],
      [4, 3],
    ]);
  });
});

describe('Encryption and transport', () => {
  it('encrypts every queue with a customer-managed KMS key', () => {
    // Prepare
    const keys = resourcesOfType(template, 'AWS::KMS::Key');

    // Act
    const queueKeys = Object.values(resourcesOfType(template, 'AWS::SQS::Queue')).map((q) =>
      referencedLogicalId(props(q).KmsMasterKeyId),
    );

    // Assess
    expect(queueKeys.length).toBeGreaterThanOrEqual(4);
    for (const keyId of queueKeys) expect(keys[keyId ?? '']).toBeDefined();
  });

  it('encrypts both topics with customer-managed KMS keys', () => {
    // Prepare
    const keys = resourcesOfType(template, 'AWS::KMS::Key');
    const topics = resourcesOfType(template, 'AWS::SNS::Topic');

    // Act
    const topicKeys = [alertTopicId(template), opsTopicId(template)].map((id) =>
      referencedLogicalId(props(topics[id]).KmsMasterKeyId),
    );

    // Assess
    for (const keyId of topicKeys) expect(keys[keyId ?? '']).toBeDefined();
  });

  it('encrypts the log bucket with SSE-KMS under a customer-managed key', () => {
    // Prepare
    const bucket = resourcesOfType(template, 'AWS::S3::Bucket')[logBucketId(template)];

    // Act
    const [rule] = (
      props(bucket).BucketEncryption as {
        ServerSideEncryptionConfiguration: {
          ServerSideEncryptionByDefault: { SSEAlgorithm: string; KMSMasterKeyID: unknown };
        }[];
      }
    ).ServerSideEncryptionConfiguration;

    // Assess
    expect(rule?.ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
    const keyId = referencedLogicalId(rule?.ServerSideEncryptionByDefault.KMSMasterKeyID);
    expect(resourcesOfType(template, 'AWS::KMS::Key')[keyId ?? '']).toBeDefined();
  });

  it('rotates every key', () => {
    // Prepare
    const keys = Object.values(resourcesOfType(template, 'AWS::KMS::Key'));

    // Act
    const rotation = keys.map((k) => props(k).EnableKeyRotation);

    // Assess
    expect(rotation.length).toBeGreaterThan(0);
    expect(rotation.every((r) => r === true)).toBe(true);
  });

  it('denies every queue action that does not use TLS', () => {
    // Prepare
    const policies = Object.values(resourcesOfType(template, 'AWS::SQS::QueuePolicy'));

    // Act
    const sslOnly = new Set(
      policies
        .filter((p) =>
          (props(p).PolicyDocument as { Statement: PolicyStatementJson[] }).Statement.some(
            (s) =>
              s.Effect === 'Deny' &&
              actionsOf(s).includes('sqs:*') &&
              s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
          ),
        )
        .flatMap((p) => asArray(props(p).Queues as unknown[]).map(referencedLogicalId)),
    );

    // Assess
    for (const queueId of Object.keys(resourcesOfType(template, 'AWS::SQS::Queue'))) {
      expect(sslOnly.has(queueId)).toBe(true);
    }
  });

  it('denies publishing to either topic without TLS', () => {
    // Prepare
    const policies = Object.values(resourcesOfType(template, 'AWS::SNS::TopicPolicy'));

    // Act
    const sslOnly = new Set(
      policies
        .filter((p) =>
          (props(p).PolicyDocument as { Statement: PolicyStatementJson[] }).Statement.some(
            (s) =>
              s.Effect === 'Deny' &&
              actionsOf(s).includes('sns:Publish') &&
              s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
          ),
        )
        .flatMap((p) => asArray(props(p).Topics as unknown[]).map(referencedLogicalId)),
    );

    // Assess
    expect(sslOnly).toEqual(new Set([alertTopicId(template), opsTopicId(template)]));
  });

  it('denies log bucket access without TLS, blocks public access, versions objects and logs access elsewhere', () => {
    // Prepare
    const bucketId = logBucketId(template);

    // Act
    const bucket = resourcesOfType(template, 'AWS::S3::Bucket')[bucketId];

    // Assess
    expect(props(bucket)).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
    });
    const logging = props(bucket).LoggingConfiguration as { DestinationBucketName: unknown };
    const target = referencedLogicalId(logging.DestinationBucketName);
    expect(target).toBeDefined();
    expect(target).not.toBe(bucketId);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('lets S3 use the queue key to deliver notifications from this bucket only', () => {
    // Prepare
    const queueKeyId = referencedLogicalId(props(wiring(template, 'sysmon').queue).KmsMasterKeyId);

    // Act
    const key = resourcesOfType(template, 'AWS::KMS::Key')[queueKeyId ?? ''];
    const statements = (props(key).KeyPolicy as { Statement: PolicyStatementJson[] }).Statement;
    const forS3 = statements.filter(
      (s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: 's3.amazonaws.com' }),
    );

    // Assess
    expect(forS3).toHaveLength(1);
    expect(actionsOf(forS3[0] as PolicyStatementJson).sort()).toEqual([
      'kms:Decrypt',
      'kms:GenerateDataKey',
    ]);
    expect(referencedLogicalId(forS3[0]?.Condition?.ArnLike?.['aws:SourceArn'])).toBe(
      logBucketId(template),
    );
  });

  it('lets CloudWatch alarms use the operations topic key and publish to the topic', () => {
    // Prepare
    const topic = resourcesOfType(template, 'AWS::SNS::Topic')[opsTopicId(template)];
    const keyId = referencedLogicalId(props(topic).KmsMasterKeyId);

    // Act
    const key = resourcesOfType(template, 'AWS::KMS::Key')[keyId ?? ''];

    // Assess
    expect(props(key).KeyPolicy).toMatchObject({
      Statement: expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey']),
        }),
      ]),
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: opsTopicId(template) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
          }),
        ]),
      },
    });
  });
});

describe('Least privilege', () => {
  // The bucket is versioned and the handler reads the version a notification names, which S3
  // authorizes with s3:GetObjectVersion; both must stay on the function's own prefix.
  it.each(
    SOURCES.flatMap((source) =>
      (['s3:GetObject', 's3:GetObjectVersion'] as const).map((action) => [source, action] as const),
    ),
  )('grants the %s function %s on its own prefix only', (source, action) => {
    // Prepare
    const w = wiring(template, source);

    // Act
    const resources = statementsWithAction(w.statements, action).flatMap((s) =>
      asArray(s.Resource).map(renderArn),
    );

    // Assess
    expect(resources).toEqual([`<${logBucketId(template)}.Arn>/${SOURCE_PREFIX[source]}*`]);
  });

  it.each(
    SOURCES.flatMap((source) => [
      [source, DEFAULT_QUARANTINE_PREFIX, () => defaults] as const,
      [source, 'held/', () => customised] as const,
    ]),
  )(
    'grants the %s function s3:PutObject under the quarantine prefix %s only',
    (source, prefix, synth) => {
      // Prepare
      const t = synth().template;
      const w = wiring(t, source);

      // Act
      const resources = statementsWithAction(w.statements, 's3:PutObject').flatMap((s) =>
        asArray(s.Resource).map(renderArn),
      );

      // Assess
      expect(resources).toHaveLength(1);
      expect(resources[0]?.startsWith(`<${logBucketId(t)}.Arn>/${prefix}`)).toBe(true);
      expect(resources[0]?.endsWith('*')).toBe(true);
      expect(
        (props(w.fn).Environment as { Variables: Record<string, unknown> }).Variables
          .QUARANTINE_PREFIX,
      ).toBe(prefix);
    },
  );

  it.each(SOURCES)('grants the %s function sns:Publish on the alert topic only', (source) => {
    // Prepare
    const w = wiring(template, source);

    // Act
    const resources = statementsWithAction(w.statements, 'sns:Publish').flatMap((s) =>
      asArray(s.Resource).map(renderArn),
    );

    // Assess
    expect(resources).toEqual([`<${alertTopicId(template)}>`]);
  });

  it.each(SOURCES)('grants the %s function only the S3 and SNS actions it calls', (source) => {
    // Prepare
    const w = wiring(template, source);

    // Act
    const actions = new Set(w.statements.flatMap(actionsOf));

    // Assess
    const s3AndSns = [...actions].filter((a) => a.startsWith('s3:') || a.startsWith('sns:'));
    expect(s3AndSns.sort()).toEqual([
      's3:GetObject',
      's3:GetObjectVersion',
      's3:PutObject',
      'sns:Publish',
    ]);
    expect([...actions].filter((a) => a.includes('*'))).toEqual([]);
  });

  it.each(SOURCES)(
    'grants the %s function a "*" resource only for X-Ray, and acknowledges it',
    (source) => {
      // Prepare
      const w = wiring(template, source);

      // Act
      const starActions = w.statements
        .filter((s) => asArray(s.Resource).includes('*'))
        .flatMap(actionsOf);
      const acknowledged = w.policyIds.flatMap((id) => {
        const policy = resourcesOfType(template, 'AWS::IAM::Policy')[id];
        const nag = policy?.Metadata?.cdk_nag as { rules_to_suppress?: { id: string }[] };
        return (nag?.rules_to_suppress ?? []).map((r) => r.id);
      });

      // Assess
      expect(starActions.sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
      expect(acknowledged).toContain('AwsSolutions-IAM5[Resource::*]');
    },
  );

  it.each(SOURCES)('gives the %s function role no managed policy', (source) => {
    // Prepare
    const w = wiring(template, source);

    // Act
    const role = resourcesOfType(template, 'AWS::IAM::Role')[w.roleId];

    // Assess
    expect(props(role).ManagedPolicyArns).toBeUndefined();
  });

  it.each(SOURCES)('lets the %s function use each key only through its service', (source) => {
    // Prepare
    const w = wiring(template, source);
    const bucket = resourcesOfType(template, 'AWS::S3::Bucket')[logBucketId(template)];
    const dataKeyId = referencedLogicalId(
      (
        props(bucket).BucketEncryption as {
          ServerSideEncryptionConfiguration: {
            ServerSideEncryptionByDefault: { KMSMasterKeyID: unknown };
          }[];
        }
      ).ServerSideEncryptionConfiguration[0]?.ServerSideEncryptionByDefault.KMSMasterKeyID,
    );
    const alertKeyId = referencedLogicalId(
      props(resourcesOfType(template, 'AWS::SNS::Topic')[alertTopicId(template)]).KmsMasterKeyId,
    );

    // Act
    const kms = w.statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    const byKey = (id: string | undefined) =>
      kms.filter((s) => asArray(s.Resource).some((r) => referencedLogicalId(r) === id));

    // Assess
    for (const s of byKey(dataKeyId)) {
      expect(renderArn(s.Condition?.StringEquals?.['kms:ViaService'])).toBe(
        's3.<AWS::Region>.<AWS::URLSuffix>',
      );
    }
    for (const s of byKey(alertKeyId)) {
      expect(renderArn(s.Condition?.StringEquals?.['kms:ViaService'])).toBe(
        'sns.<AWS::Region>.<AWS::URLSuffix>',
      );
    }
    expect(byKey(dataKeyId).length).toBeGreaterThan(0);
    expect(byKey(alertKeyId).length).toBeGreaterThan(0);
    expect(kms.every((s) => !asArray(s.Resource).includes('*'))).toBe(true);
  });
});

describe('State table', () => {
  function stateTable(t: Template): CfnResource | undefined {
    return resourcesOfType(t, 'AWS::DynamoDB::Table')[stateTableId(t)];
  }

  it('keys items on pk and sk, both strings', () => {
    // Prepare
    const table = props(stateTable(template));

    // Act
    const attributes = table.AttributeDefinitions;

    // Assess
    expect(table.KeySchema).toEqual(STATE_KEY_SCHEMA);
    expect(attributes).toEqual(
      expect.arrayContaining([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ]),
    );
    expect(attributes).toHaveLength(2);
  });

  it('expires items on expiresAt, bills on demand and keeps point-in-time recovery', () => {
    // Prepare
    const table = props(stateTable(template));

    // Act
    const settings = {
      ttl: table.TimeToLiveSpecification,
      billing: table.BillingMode,
      pitr: table.PointInTimeRecoverySpecification,
    };

    // Assess
    expect(settings).toEqual({
      ttl: { AttributeName: STATE_TTL_ATTRIBUTE, Enabled: true },
      billing: 'PAY_PER_REQUEST',
      pitr: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('encrypts the table with a customer-managed key of its own', () => {
    // Prepare
    const sse = props(stateTable(template)).SSESpecification as {
      SSEEnabled: boolean;
      SSEType: string;
      KMSMasterKeyId: unknown;
    };

    // Act
    const keyId = referencedLogicalId(sse.KMSMasterKeyId);
    const otherKeyUsers = JSON.stringify(
      Object.entries(template.toJSON().Resources as Record<string, CfnResource>)
        .filter(([, r]) => r.Type !== 'AWS::DynamoDB::Table' && r.Type !== 'AWS::IAM::Policy')
        .map(([, r]) => r.Properties ?? {}),
    );

    // Assess
    expect(sse).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
    expect(resourcesOfType(template, 'AWS::KMS::Key')[keyId ?? '']).toBeDefined();
    expect(otherKeyUsers).not.toContain(`"${keyId}"`);
  });

  it('outputs the table name', () => {
    // Prepare
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

    // Act
    const value = outputs.StateTableName?.Value;

    // Assess
    expect(value).toEqual({ Ref: stateTableId(template) });
    expect(stateTable(template)).toBeDefined();
  });

  it.each(SOURCES)(
    'points the %s function at the table with the settings from context',
    (source) => {
      // Prepare
      const t = customised.template;

      // Act
      const variables = environment(wiring(t, source).fn);

      // Assess
      expect(variables).toMatchObject({
        STATE_TABLE: { Ref: stateTableId(t) },
        WINDOW_MINUTES: '60',
        THRESHOLD: '3',
        STATE_TTL_DAYS: '30',
      });
    },
  );

  it.each(SOURCES)(
    'grants the %s function exactly the four DynamoDB actions, on the table ARN only',
    (source) => {
      // Prepare
      const w = wiring(template, source);

      // Act
      const dynamo = w.statements.filter((s) =>
        actionsOf(s).some((a) => a.startsWith('dynamodb:')),
      );

      // Assess
      expect(dynamo).toHaveLength(1);
      expect(dynamo[0]?.Effect).toBe('Allow');
      expect(actionsOf(dynamo[0] as PolicyStatementJson).sort()).toEqual(STATE_ACTIONS);
      expect(asArray(dynamo[0]?.Resource).map(renderArn)).toEqual([
        `<${stateTableId(template)}.Arn>`,
      ]);
    },
  );

  it.each(SOURCES)(
    'lets the %s function use the table key only through DynamoDB, to decrypt and generate data keys',
    (source) => {
      // Prepare
      const w = wiring(template, source);
      const sse = props(stateTable(template)).SSESpecification as { KMSMasterKeyId: unknown };
      const keyId = referencedLogicalId(sse.KMSMasterKeyId);

      // Act
      const onKey = w.statements.filter((s) =>
        asArray(s.Resource).some((r) => referencedLogicalId(r) === keyId),
      );

      // Assess
      expect(onKey).toHaveLength(1);
      expect(actionsOf(onKey[0] as PolicyStatementJson).sort()).toEqual([
        'kms:Decrypt',
        'kms:GenerateDataKey',
      ]);
      expect(asArray(onKey[0]?.Resource)).toHaveLength(1);
      expect(renderArn(onKey[0]?.Condition?.StringEquals?.['kms:ViaService'])).toBe(
        'dynamodb.<AWS::Region>.<AWS::URLSuffix>',
      );
    },
  );

  it('creates no table, table key, output or grant with state=false', () => {
    // Prepare
    const t = stateless.template;

    // Act
    const tables = resourcesOfType(t, 'AWS::DynamoDB::Table');
    const outputs = Object.keys(t.toJSON().Outputs as Record<string, unknown>);
    const actions = SOURCES.flatMap((source) => wiring(t, source).statements.flatMap(actionsOf));

    // Assess
    expect(Object.keys(tables)).toHaveLength(0);
    expect(Object.keys(resourcesOfType(t, 'AWS::KMS::Key'))).toHaveLength(
      Object.keys(resourcesOfType(template, 'AWS::KMS::Key')).length - 1,
    );
    expect(outputs).not.toContain('StateTableName');
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
  });

  it.each(SOURCES)('leaves the %s function without STATE_TABLE with state=false', (source) => {
    // Prepare
    const t = stateless.template;

    // Act
    const variables = environment(wiring(t, source).fn);

    // Assess: lib/state runs stateless when STATE_TABLE is absent.
    expect(Object.keys(variables)).not.toContain('STATE_TABLE');
    expect(variables.SOURCE).toBe(source);
  });
});

describe('Functions', () => {
  it.each(SOURCES)('runs %s on nodejs22.x, arm64, with active X-Ray tracing', (source) => {
    // Prepare
    const w = wiring(template, source);

    // Act
    const fn = props(w.fn);

    // Assess
    expect(fn).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
    });
  });

  it.each(SOURCES)('gives the %s function its environment contract', (source) => {
    // Prepare
    const w = wiring(template, source);

    // Act
    const variables = (props(w.fn).Environment as { Variables: Record<string, unknown> }).Variables;

    // Assess
    expect(variables).toEqual({
      ALERT_TOPIC_ARN: { Ref: alertTopicId(template) },
      QUARANTINE_PREFIX: DEFAULT_QUARANTINE_PREFIX,
      QUARANTINE_BUCKET: { Ref: logBucketId(template) },
      SOURCE: source,
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME[source],
      POWERTOOLS_METRICS_NAMESPACE: 'T1102Detection',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
      AWS_LAMBDA_EXEC_WRAPPER: '/var/task/heap-wrapper',
      STATE_TABLE: { Ref: stateTableId(template) },
      WINDOW_MINUTES: DEFAULT_WINDOW_MINUTES,
      THRESHOLD: DEFAULT_THRESHOLD,
      STATE_TTL_DAYS: DEFAULT_STATE_TTL_DAYS,
    });
  });

  it.each(SOURCES)('logs the %s function to its own log group with a retention', (source) => {
    // Prepare
    const w = wiring(customised.template, source);

    // Act
    const logGroupId = referencedLogicalId(
      (props(w.fn).LoggingConfig as { LogGroup: unknown }).LogGroup,
    );
    const logGroup = resourcesOfType(customised.template, 'AWS::Logs::LogGroup')[logGroupId ?? ''];

    // Assess
    expect(props(logGroup).RetentionInDays).toBe(30);
  });

  it('takes memory and timeout from context', () => {
    // Prepare
    const functions = SOURCES.map((s) => props(wiring(customised.template, s).fn));

    // Act
    const sizes = functions.map((f) => [f.MemorySize, f.Timeout]);

    // Assess
    expect(sizes).toEqual([
      [2048, 900],
      [2048, 900],
    ]);
  });
});

describe('Alert topic', () => {
  it('outputs the alert topic ARN beside the bucket name', () => {
    // Prepare
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

    // Act
    const names = Object.keys(outputs);

    // Assess
    expect(names).toEqual(expect.arrayContaining(['BucketName', 'AlertTopicArn']));
    expect(referencedLogicalId(outputs.AlertTopicArn?.Value)).toBe(alertTopicId(template));
  });

  it('subscribes the alertEmail from context, with a dead-letter queue for undeliverable alerts', () => {
    // Prepare
    const t = customised.template;

    // Act
    const subscriptions = Object.values(resourcesOfType(t, 'AWS::SNS::Subscription')).filter(
      (s) => referencedLogicalId(props(s).TopicArn) === alertTopicId(t),
    );

    // Assess
    expect(subscriptions).toHaveLength(1);
    expect(props(subscriptions[0])).toMatchObject({
      Protocol: 'email',
      Endpoint: 'soc@example.com',
      RedrivePolicy: { deadLetterTargetArn: expect.anything() },
    });
  });

  it('has no subscription when no email is given', () => {
    // Prepare
    const t = template;

    // Act
    const subscriptions = resourcesOfType(t, 'AWS::SNS::Subscription');

    // Assess
    expect(Object.keys(subscriptions)).toHaveLength(0);
  });
});

describe('Data lifecycle', () => {
  it('expires quarantined records and old versions after the days given in context', () => {
    // Prepare
    const t = customised.template;

    // Act
    const bucket = resourcesOfType(t, 'AWS::S3::Bucket')[logBucketId(t)];
    const rules = (props(bucket).LifecycleConfiguration as { Rules: Record<string, unknown>[] })
      .Rules;

    // Assess
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Prefix: 'held/', ExpirationInDays: 7, Status: 'Enabled' }),
        expect.objectContaining({
          NoncurrentVersionExpiration: { NoncurrentDays: 14 },
          Status: 'Enabled',
        }),
      ]),
    );
  });

  it.each([
    // Kept on deletion, but removed when the first create fails and rolls back.
    ['keeps', 'by default', () => defaults, 'RetainExceptOnCreate'],
    ['deletes', 'with removalPolicy=destroy', () => customised, 'Delete'],
  ])(
    '%s the buckets, keys, log groups and state table on stack deletion %s',
    (_verb, _case, synth, policy) => {
      // Prepare
      const t = synth().template;

      // Act
      const types = [
        'AWS::S3::Bucket',
        'AWS::KMS::Key',
        'AWS::Logs::LogGroup',
        'AWS::DynamoDB::Table',
      ];
      const policies = types.flatMap((type) =>
        Object.values(resourcesOfType(t, type)).map((r) => r.DeletionPolicy),
      );

      // Assess
      expect(Object.keys(resourcesOfType(t, 'AWS::DynamoDB::Table'))).toHaveLength(1);
      expect(new Set(policies)).toEqual(new Set([policy]));
    },
  );
});

describe('Alarms', () => {
  function alarms(t: Template) {
    return Object.values(resourcesOfType(t, 'AWS::CloudWatch::Alarm')).map(props);
  }
  function alarmOn(t: Template, metricName: string, dimension: string, id: string) {
    return alarms(t).filter(
      (a) =>
        a.MetricName === metricName &&
        asArray(a.Dimensions as { Name: string; Value: unknown }[]).some(
          (d) => d.Name === dimension && referencedLogicalId(d.Value) === id,
        ),
    );
  }

  it('alarms on any message in every dead-letter queue', () => {
    // Prepare
    const queues = resourcesOfType(template, 'AWS::SQS::Queue');
    const deadLetterQueueIds = Object.keys(queues).filter(
      (id) => props(queues[id]).RedrivePolicy === undefined,
    );

    // Act
    const found = deadLetterQueueIds.map((id) =>
      alarmOn(template, 'ApproximateNumberOfMessagesVisible', 'QueueName', id),
    );

    // Assess
    expect(deadLetterQueueIds.length).toBe(3);
    for (const matches of found) {
      expect(matches).toHaveLength(1);
      expect(matches[0]).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it.each(
    SOURCES.flatMap((source) =>
      (['Errors', 'Throttles'] as const).map((metric) => [source, metric] as const),
    ),
  )('alarms on %s function %s', (source, metric) => {
    // Prepare
    const w = wiring(template, source);

    // Act
    const matches = alarmOn(template, metric, 'FunctionName', w.functionId);

    // Assess
    expect(matches).toHaveLength(1);
    expect(matches[0]?.Threshold).toBe(1);
  });

  it.each(
    SOURCES.flatMap((source) => [
      [source, 'default', () => defaults] as const,
      [source, 'timeoutSeconds=900', () => customised] as const,
    ]),
  )(
    'alarms on the age of the oldest %s message, above one function run (%s)',
    (source, _case, synth) => {
      // Prepare
      const t = synth().template;
      const w = wiring(t, source);

      // Act
      const matches = alarmOn(t, 'ApproximateAgeOfOldestMessage', 'QueueName', w.queueId);

      // Assess: a message in flight counts toward the age, so a lower threshold would fire on a
      // healthy but slow object.
      expect(matches).toHaveLength(1);
      expect(matches[0]?.Threshold).toBeGreaterThan(props(w.fn).Timeout as number);
    },
  );

  it.each(['ReadThrottleEvents', 'WriteThrottleEvents'])(
    'alarms on %s of the state table, and on no table with state=false',
    (metric) => {
      // Act
      const matches = alarmOn(template, metric, 'TableName', stateTableId(template));
      const withoutState = alarms(stateless.template).filter((a) => a.MetricName === metric);

      // Assess
      expect(matches).toHaveLength(1);
      expect(matches[0]).toMatchObject({
        Namespace: 'AWS/DynamoDB',
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      expect(withoutState).toEqual([]);
    },
  );

  it('sends every alarm, and its recovery, to the operations topic', () => {
    // Prepare
    const opsTopic = opsTopicId(template);

    // Act
    const targets = alarms(template).map((a) => [
      asArray(a.AlarmActions as unknown[]).map(referencedLogicalId),
      asArray(a.OKActions as unknown[]).map(referencedLogicalId),
    ]);

    // Assess
    expect(targets.length).toBeGreaterThan(0);
    for (const [alarmActions, okActions] of targets) {
      expect(alarmActions).toEqual([opsTopic]);
      expect(okActions).toEqual([opsTopic]);
    }
  });
});

describe('Dashboard', () => {
  function dashboardBody(t: Template): string {
    const [dashboard] = Object.values(resourcesOfType(t, 'AWS::CloudWatch::Dashboard'));
    const body = props(dashboard).DashboardBody as { 'Fn::Join': [string, unknown[]] };
    return body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '')).join('');
  }

  it.each(SOURCES.flatMap((source) => METRIC_NAMES.map((metric) => [metric, source] as const)))(
    'charts %s for %s',
    (metric, source) => {
      // Prepare
      const body = dashboardBody(template);

      // Act
      const metricRef = JSON.stringify(['T1102Detection', metric, 'service', SERVICE_NAME[source]]);

      // Assess
      expect(body).toContain(metricRef.slice(1, -1));
    },
  );

  it.each(SOURCES.flatMap((source) => SKIP_REASONS.map((reason) => [reason, source] as const)))(
    'charts records skipped for %s in %s',
    (reason, source) => {
      // Prepare
      const body = dashboardBody(template);

      // Act
      const metricRef = JSON.stringify([
        'T1102Detection',
        `Skipped-${reason}`,
        'service',
        SERVICE_NAME[source],
      ]);

      // Assess
      expect(body).toContain(metricRef.slice(1, -1));
    },
  );

  it('charts the depth of the queues', () => {
    // Prepare
    const body = dashboardBody(template);

    // Act
    const queueMetrics = ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage'];

    // Assess
    for (const metric of queueMetrics) expect(body).toContain(`"AWS/SQS","${metric}"`);
  });
});

describe('Exceptions file (context exceptionsKey)', () => {
  it.each(SOURCES)('gives the %s function no EXCEPTIONS_URI by default', (source) => {
    // Act
    const variables = environment(wiring(template, source).fn);

    // Assess
    expect(variables).not.toHaveProperty('EXCEPTIONS_URI');
  });

  it.each(SOURCES)(
    'points the %s function at the exceptions object in the stack bucket and lets it read only that',
    (source) => {
      // Prepare
      const t = customised.template;
      const w = wiring(t, source);

      // Act
      const uri = renderArn(environment(w.fn).EXCEPTIONS_URI);
      const reads = w.statements
        .filter((s) => actionsOf(s).includes('s3:GetObject'))
        .flatMap((s) => asArray(s.Resource).map(renderArn));

      // Assess
      expect(uri).toBe(`s3://<${logBucketId(t)}>/config/exceptions.json`);
      expect(reads).toContain(`<${logBucketId(t)}.Arn>/config/exceptions.json*`);
    },
  );
});
