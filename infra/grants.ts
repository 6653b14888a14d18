import { Stack } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  type Bucket,
  type BucketNotificationDestinationConfig,
  BucketNotificationDestinationType,
  EventType,
  type IBucketNotificationDestination,
  type IBucketRef,
} from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

// Small, explicit grants. CDK's grantRead/grantPut/grantPublish would also work, but they grant
// more actions than the functions call and key use without conditions; a reviewer should be able
// to read every permission of the pipeline in this file.

/** `kms:ViaService` for a service in the stack's own region. */
function viaService(scope: Construct, service: 's3' | 'sns'): string {
  return `${service}.${Stack.of(scope).region}.amazonaws.com`;
}

/**
 * Conditions that keep S3's use of the bucket key to this bucket. With S3 Bucket Keys enabled the
 * encryption context is the bucket ARN, not the object ARN:
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html#bucket-key-changes
 */
function bucketKeyConditions(bucket: Bucket): Record<string, Record<string, string>> {
  return {
    StringEquals: {
      'kms:ViaService': viaService(bucket, 's3'),
      'kms:EncryptionContext:aws:s3:arn': bucket.bucketArn,
    },
  };
}

/** s3:GetObject under one prefix, and kms:Decrypt of the bucket key through S3 for this bucket. */
export function bindReadPrefix(
  grantee: IGrantable,
  bucket: Bucket,
  bucketKey: IKey,
  prefix: string,
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['s3:GetObject'],
      resources: [bucket.arnForObjects(`${prefix}*`)],
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [bucketKey.keyArn],
      conditions: bucketKeyConditions(bucket),
    }),
  );
}

/**
 * s3:PutObject under one prefix, and the key use SSE-KMS needs to write through S3:
 * GenerateDataKey for the object key, Decrypt for multipart uploads.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions
 */
export function bindWritePrefix(
  grantee: IGrantable,
  bucket: Bucket,
  bucketKey: IKey,
  prefix: string,
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects(`${prefix}*`)],
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [bucketKey.keyArn],
      conditions: bucketKeyConditions(bucket),
    }),
  );
}

/**
 * sns:Publish to one topic, and the key use publishing to an encrypted topic needs.
 * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#sns-what-permissions-for-sse
 */
export function bindPublish(grantee: IGrantable, topic: ITopic, topicKey: IKey): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [topicKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': viaService(topic, 'sns') } },
    }),
  );
}

/**
 * An S3 notification destination for a KMS-encrypted queue. CDK's SqsDestination adds a key
 * policy statement for s3.amazonaws.com with no condition; this one keeps both the queue policy
 * and the key policy to this bucket in this account (the confused-deputy guard AWS recommends).
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-least-privilege-policy.html
 */
class EncryptedQueueDestination implements IBucketNotificationDestination {
  constructor(
    private readonly queue: IQueue,
    private readonly queueKey: IKey,
  ) {}

  bind(scope: Construct, bucket: IBucketRef): BucketNotificationDestinationConfig {
    const s3 = new ServicePrincipal('s3.amazonaws.com');
    const conditions = {
      ArnLike: { 'aws:SourceArn': bucket.bucketRef.bucketArn },
      StringEquals: { 'aws:SourceAccount': Stack.of(scope).account },
    };
    this.queue.addToResourcePolicy(
      new PolicyStatement({
        principals: [s3],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions,
      }),
    );
    this.queueKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [s3],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        // In a key policy "*" means this key.
        resources: ['*'],
        conditions,
      }),
    );
    // S3 sends a test message when the configuration is put; the queue policy must exist first.
    return {
      arn: this.queue.queueArn,
      type: BucketNotificationDestinationType.QUEUE,
      dependencies: [this.queue],
    };
  }
}

/** Routes every object created under `prefix` to `queue`. */
export function bindPrefixNotifications(
  bucket: Bucket,
  prefix: string,
  queue: IQueue,
  queueKey: IKey,
): void {
  bucket.addEventNotification(
    EventType.OBJECT_CREATED,
    new EncryptedQueueDestination(queue, queueKey),
    { prefix },
  );
}
