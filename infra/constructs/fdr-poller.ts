import { join } from 'node:path';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { FunctionEnvironment } from '../../lib/config/env.ts';
import { DEFAULT_DESTINATION_PREFIX, FDR_SERVICE_NAME } from '../../lib/fdr/config.ts';
import type { FdrFeed } from '../config.ts';
import { bindListBucket, bindReadPrefix, bindSecretRead, bindWritePrefix } from '../grants.ts';
import { acknowledge } from '../nag.ts';
import { HouseFunction, REPO_ROOT } from './house-function.ts';

export const FDR_HANDLER_ENTRY = join(REPO_ROOT, 'functions', 'fdr.ts');
/** The poller's memory: it only streams bytes from one socket to another. */
export const FDR_MEMORY_MIB = 512;
/**
 * A received message stays hidden this many function timeouts, so a run that is still copying
 * never sees another run take the same message.
 */
export const FDR_VISIBILITY_IN_TIMEOUTS = 2;

export interface FdrPollerProps {
  readonly feed: FdrFeed;
  readonly bucket: Bucket;
  readonly bucketKey: IKey;
  readonly timeout: Duration;
  readonly logRetentionDays: number;
  readonly logEncryptionKey: IKey;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * CrowdStrike's Falcon Data Replicator feed into the stack's bucket: a function on a schedule
 * (lib/fdr) that reads CrowdStrike's queue with the key kept in Secrets Manager and copies each
 * listed file under falcon/fdr/, where the bucket's notification hands it to the falcon function.
 */
export class FdrPoller extends Construct {
  readonly poller: HouseFunction;
  readonly schedule: Rule;

  constructor(scope: Construct, id: string, props: FdrPollerProps) {
    super(scope, id);
    this.poller = new HouseFunction(this, 'Poller', {
      entry: FDR_HANDLER_ENTRY,
      description: 'T1102 CrowdStrike FDR poller: copies FDR files into the log bucket',
      serviceName: FDR_SERVICE_NAME,
      memoryMiB: FDR_MEMORY_MIB,
      timeout: props.timeout,
      logRetentionDays: props.logRetentionDays,
      logEncryptionKey: props.logEncryptionKey,
      removalPolicy: props.removalPolicy,
      environment: {
        FDR_QUEUE_URL: props.feed.queueUrl,
        FDR_SECRET_ID: props.feed.secretName,
        DESTINATION_BUCKET: props.bucket.bucketName,
        DESTINATION_PREFIX: DEFAULT_DESTINATION_PREFIX,
        FDR_VISIBILITY_TIMEOUT_SECONDS: String(
          props.timeout.toSeconds() * FDR_VISIBILITY_IN_TIMEOUTS,
        ),
      } satisfies FunctionEnvironment,
      runsEngine: false,
    });
    const fn = this.poller.function;
    bindSecretRead(fn, props.feed.secretName);
    // HeadObject of the earlier copy (GetObject rights), the copy itself, and 404 for no copy.
    bindReadPrefix(fn, props.bucket, props.bucketKey, DEFAULT_DESTINATION_PREFIX);
    bindWritePrefix(fn, props.bucket, props.bucketKey, DEFAULT_DESTINATION_PREFIX);
    bindListBucket(fn, props.bucket);

    this.schedule = new Rule(this, 'Schedule', {
      description: 'Runs the CrowdStrike FDR poller',
      schedule: Schedule.rate(Duration.minutes(props.feed.scheduleMinutes)),
      // A missed run is made up by the next one a minute later, with the same messages.
      targets: [new LambdaFunction(fn, { retryAttempts: 0 })],
    });
    acknowledge(this.schedule, {
      id: 'Serverless-EventBusDLQ',
      reason:
        "A scheduled event carries no data: a run that could not be invoked is the next minute's run, and the messages wait on CrowdStrike's queue meanwhile.",
    });
    acknowledge(fn, {
      id: 'Serverless-LambdaDLQ',
      reason:
        "The schedule invokes the poller with no payload; a failed run leaves its messages on CrowdStrike's queue and the next scheduled run takes them, so a dead-letter queue would hold nothing to redrive.",
    });
  }
}
