import { Validations } from 'aws-cdk-lib';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  resourcesOfType,
  type Synthesized,
  type SynthOptions,
  synthesisFailure,
  synthesize,
} from './helpers.ts';

/** Every option on at once: the stack with the most resources cdk-nag can look at. */
const EVERY_OPTION = {
  alertEmail: 'soc@example.com',
  opsEmail: 'ops@example.com',
  reservedConcurrency: '5',
  batchExpirationDays: '400',
  removalPolicy: 'destroy',
  existingBuckets: JSON.stringify([
    {
      name: 'org-log-archive',
      account: '111122223333',
      prefixes: { 'windows/sysmon/': 'sysmon', 'crowdstrike/': 'falcon' },
      kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    },
    { name: 'local-logs', prefixes: { 'sysmon/': 'sysmon' }, delivery: 's3' },
    {
      name: 'partner-logs',
      account: '444455556666',
      prefixes: { 'edr/': 'falcon' },
      delivery: 's3',
    },
  ]),
  fdrQueueUrl: 'https://sqs.us-west-1.amazonaws.com/292230061137/cs-prod-cannon-q1',
  fdrSecretName: 't1102/crowdstrike-fdr',
  alertEventBus: 'soc-findings',
  securityHub: 'true',
  logRetentionDays: '30',
};

describe('cdk-nag: the pipeline', () => {
  let synth: Synthesized;

  beforeAll(() => {
    synth = synthesize({ context: EVERY_OPTION, controlTower: true });
  });

  afterAll(() => {
    synth?.dispose();
  });

  it('synthesizes with every option and no unacknowledged cdk-nag or Control Tower finding', () => {
    // Prepare
    const resources = synth.template.toJSON().Resources as Record<string, unknown>;

    // Act
    const count = Object.keys(resources).length;

    // Assess: synthesis ran both packs and did not throw, over a full stack.
    expect(count).toBeGreaterThan(40);
  });

  it('gives every acknowledgement a rule id and a one-sentence reason', () => {
    // Prepare
    const all = Object.values(
      synth.template.toJSON().Resources as Record<string, { Metadata?: Record<string, unknown> }>,
    ).flatMap(
      (r) =>
        (r.Metadata?.cdk_nag as { rules_to_suppress?: { id: string; reason: string }[] })
          ?.rules_to_suppress ?? [],
    );

    // Act
    const malformed = all.filter(
      ({ id, reason }) =>
        !/^((AwsSolutions|Serverless)-[A-Za-z0-9]+(\[.+\])?|cdk-validator-cfnguard::[a-z0-9_]+)$/.test(
          id,
        ) ||
        !reason.endsWith('.') ||
        /[.!?]\s+[A-Z]/.test(reason.slice(0, -1)),
    );

    // Assess
    expect(all.length).toBeGreaterThan(0);
    expect(malformed).toEqual([]);
  });
});

describe('cdk-nag: deliberately non-compliant resources', () => {
  it('fails synthesis on an unacknowledged error finding', () => {
    // Prepare: a queue with no dead-letter queue and no TLS requirement.
    const extend: SynthOptions['extend'] = ({ stack }) => {
      new Queue(stack, 'ScratchQueue');
    };

    // Act
    const report = synthesisFailure({ extend });

    // Assess
    expect(report).toContain('AwsSolutions-SQS3');
    expect(report).toContain('AwsSolutions-SQS4');
    expect(report).toContain('ScratchQueue');
  });

  it('fails synthesis on an unacknowledged warning finding', () => {
    // Prepare: Serverless-CloudWatchLogGroupRetentionPeriod is a warning-level rule.
    const extend: SynthOptions['extend'] = ({ stack }) => {
      new LogGroup(stack, 'ScratchLogGroup', { retention: RetentionDays.INFINITE });
    };

    // Act
    const report = synthesisFailure({ extend });

    // Assess
    expect(report).toContain('Serverless-CloudWatchLogGroupRetentionPeriod');
    expect(report).toContain('ScratchLogGroup');
  });

  it('synthesizes once each finding on the resource is acknowledged with a reason', () => {
    // Prepare
    const extend: SynthOptions['extend'] = ({ stack }) => {
      const queue = new Queue(stack, 'ScratchQueue');
      Validations.of(queue).acknowledge(
        { id: 'AwsSolutions-SQS3', reason: 'A scratch queue for this test needs no DLQ.' },
        { id: 'AwsSolutions-SQS4', reason: 'A scratch queue for this test is never deployed.' },
        {
          id: 'Serverless-SQSRedrivePolicy',
          reason: 'A scratch queue for this test needs no DLQ.',
        },
      );
    };

    // Act
    const synth = synthesize({ extend });

    // Assess
    const queues = Object.keys(resourcesOfType(synth.template, 'AWS::SQS::Queue'));
    synth.dispose();
    expect(queues.some((id) => id.startsWith('ScratchQueue'))).toBe(true);
  });

  it('still fails when only some findings on the resource are acknowledged', () => {
    // Prepare
    const extend: SynthOptions['extend'] = ({ stack }) => {
      const queue = new Queue(stack, 'ScratchQueue');
      Validations.of(queue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: 'A scratch queue for this test needs no DLQ.',
      });
    };

    // Act
    const report = synthesisFailure({ extend });

    // Assess
    expect(report).toContain('AwsSolutions-SQS4');
    expect(report).not.toContain('AwsSolutions-SQS3');
  });
});
