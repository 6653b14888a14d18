import { Aws, Stack } from 'aws-cdk-lib';
import { CfnEventBusPolicy, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DetectionSource, ExistingBucket } from '../config.ts';
import { allowS3Notifications, bindPrefixNotifications, bindReadExternal } from '../grants.ts';
import type { DetectionFunction } from './detection-function.ts';

/** One source's queue and function, as the existing buckets are wired to them. */
export interface SourceTarget {
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly detector: DetectionFunction;
}

export interface ExistingBucketsProps {
  readonly buckets: readonly ExistingBucket[];
  readonly targets: Readonly<Record<DetectionSource, SourceTarget>>;
  readonly queueKey: IKey;
}

/** The prefixes of a bucket that go to one source. */
function prefixesOf(bucket: ExistingBucket, source: DetectionSource): string[] {
  return Object.entries(bucket.prefixes)
    .filter(([, s]) => s === source)
    .map(([prefix]) => prefix);
}

const idOf = (name: string): string => name.replace(/[^A-Za-z0-9]/g, '');

/**
 * Attaches the pipeline to buckets it does not own, reading the logs where they already are.
 * Each source's function may read only its prefixes (and decrypt only through S3 for them);
 * new objects reach the source's queue one of two ways:
 *
 * - `eventbridge` (default): an EventBridge rule on this account's default bus matches the
 *   bucket's "Object Created" events under the prefixes. A bucket in another account forwards
 *   its events here with a rule of its own; the bus policy below lets that account put them.
 * - `s3`: an S3 event notification to the queue. In this account the stack adds it to the
 *   bucket (keeping the bucket's other notifications); in another account the owner adds it,
 *   and the queue and key policies here let S3 deliver for that bucket and account only.
 */
export class ExistingBuckets extends Construct {
  readonly rules: Rule[] = [];

  constructor(scope: Construct, id: string, props: ExistingBucketsProps) {
    super(scope, id);
    const forwardingAccounts = new Set<string>();
    for (const bucket of props.buckets) {
      const owner = bucket.account ?? Stack.of(this).account;
      const crossAccount = bucket.account !== undefined;
      for (const [source, target] of Object.entries(props.targets) as [
        DetectionSource,
        SourceTarget,
      ][]) {
        const prefixes = prefixesOf(bucket, source);
        if (prefixes.length === 0) continue;
        bindReadExternal(target.detector.function, bucket.name, prefixes, bucket.kmsKeyArn);
        if (bucket.delivery === 'eventbridge') {
          this.rules.push(this.objectCreatedRule(bucket, source, prefixes, target));
          if (crossAccount) forwardingAccounts.add(owner);
        } else if (crossAccount) {
          const arn = `arn:${Aws.PARTITION}:s3:::${bucket.name}`;
          allowS3Notifications(target.queue, props.queueKey, arn, owner);
        } else {
          const imported = Bucket.fromBucketName(
            this,
            `${idOf(bucket.name)}${source}`,
            bucket.name,
          );
          for (const prefix of prefixes) {
            bindPrefixNotifications(imported, prefix, target.queue, props.queueKey);
          }
        }
      }
    }
    for (const account of forwardingAccounts) this.allowForwarding(account);
  }

  /**
   * "Object Created" events of `bucket` under `prefixes`, to the source's queue. EventBridge
   * sends what it cannot deliver to the source's dead-letter queue, where the alarm sees it.
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
   */
  private objectCreatedRule(
    bucket: ExistingBucket,
    source: DetectionSource,
    prefixes: string[],
    target: SourceTarget,
  ): Rule {
    return new Rule(this, `${idOf(bucket.name)}${source}ObjectCreated`, {
      description: `New ${source} objects in s3://${bucket.name}/`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        ...(bucket.account === undefined ? {} : { account: [bucket.account] }),
        detail: {
          bucket: { name: [bucket.name] },
          object: { key: prefixes.map((prefix) => ({ prefix })) },
        },
      },
      targets: [new SqsQueue(target.queue, { deadLetterQueue: target.deadLetterQueue })],
    });
  }

  /** Lets another account put its S3 events on this account's default bus. */
  private allowForwarding(account: string): void {
    new CfnEventBusPolicy(this, `AllowEventsFrom${account}`, {
      eventBusName: 'default',
      statementId: `t1102-s3-events-from-${account}`,
      statement: {
        Effect: 'Allow',
        Principal: { AWS: `arn:${Aws.PARTITION}:iam::${account}:root` },
        Action: 'events:PutEvents',
        Resource: `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:event-bus/default`,
        Condition: { StringEquals: { 'events:source': 'aws.s3' } },
      },
    });
  }
}
