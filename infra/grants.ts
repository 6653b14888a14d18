import { Aws, Stack } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  type Bucket,
  type BucketNotificationDestinationConfig,
  BucketNotificationDestinationType,
  type CfnBucket,
  EventType,
  type IBucket,
  type IBucketNotificationDestination,
  type IBucketRef,
} from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { InfraError } from './errors.ts';
import { acknowledge } from './nag.ts';

// Small, explicit grants. CDK's grantRead/grantPut/grantPublish would also work, but they grant
// more actions than the functions call and key use without conditions; a reviewer should be able
// to read every permission of the pipeline in this file.

/** The construct that carries the grantee's policy, where its findings are acknowledged. */
function principalConstruct(grantee: IGrantable): IConstruct {
  const principal = grantee.grantPrincipal;
  if (!Construct.isConstruct(principal)) {
    throw new InfraError('bind helpers need a grantee whose principal is a construct (a Role)');
  }
  return principal;
}

/**
 * The finding cdk-nag reports for an object-prefix grant, e.g.
 * `AwsSolutions-IAM5[Resource::<LogBucketCC3B17E8.Arn>/sysmon/*]`.
 */
function prefixFindingId(bucket: Bucket, prefix: string): string {
  const logicalId = Stack.of(bucket).resolve((bucket.node.defaultChild as CfnBucket).logicalId);
  return `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${prefix}*]`;
}

/**
 * `kms:ViaService` for a service in the stack's own region: the regional endpoint's name, whose
 * domain differs by partition (amazonaws.com, amazonaws.com.cn), hence the URL suffix.
 */
export function viaService(scope: Construct, service: 's3' | 'sns' | 'dynamodb'): string {
  return `${service}.${Stack.of(scope).region}.${Aws.URL_SUFFIX}`;
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

/**
 * Reading under one prefix, and kms:Decrypt of the bucket key through S3 for this bucket. The
 * bucket is versioned and the functions read the exact version a notification names, and
 * GetObject with a VersionId is authorized by s3:GetObjectVersion, not s3:GetObject.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax
 */
export function bindReadPrefix(
  grantee: IGrantable,
  bucket: Bucket,
  bucketKey: IKey,
  prefix: string,
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resources: [bucket.arnForObjects(`${prefix}*`)],
    }),
  );
  acknowledge(principalConstruct(grantee), {
    id: prefixFindingId(bucket, prefix),
    reason: `Batch keys are not known before they arrive, so reading is granted on the ${prefix} prefix, the narrowest scope S3 offers.`,
  });
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
  acknowledge(principalConstruct(grantee), {
    id: prefixFindingId(bucket, prefix),
    reason: `Quarantine keys are derived at run time from the date and the batch key, so writing is granted on the ${prefix} prefix, the narrowest scope S3 offers.`,
  });
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
 * The DynamoDB calls lib/state makes (conditional UpdateItem for counters and markers, Query for a
 * window's items, BatchGetItem and BatchWriteItem for process and host context), on the table
 * only: it has no index, so no index ARN is needed.
 */
export const STATE_TABLE_ACTIONS = [
  'dynamodb:UpdateItem',
  'dynamodb:Query',
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
] as const;

/**
 * The state table's actions, and the key use DynamoDB makes on the caller's behalf for a table
 * encrypted with a customer-managed key: GenerateDataKey for writes, Decrypt for reads. The key
 * encrypts this table only, so the key ARN with kms:ViaService is as narrow as the table ARN.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html
 */
export function bindStateTable(grantee: IGrantable, table: Table, tableKey: IKey): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: [...STATE_TABLE_ACTIONS],
      resources: [table.tableArn],
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [tableKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': viaService(table, 'dynamodb') } },
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
    /** The bucket owner's account; defaults to the stack's. */
    private readonly account?: string,
  ) {}

  bind(scope: Construct, bucket: IBucketRef): BucketNotificationDestinationConfig {
    allowS3Notifications(
      this.queue,
      this.queueKey,
      bucket.bucketRef.bucketArn,
      this.account ?? Stack.of(scope).account,
    );
    // S3 sends a test message when the configuration is put; the queue policy must exist first.
    return {
      arn: this.queue.queueArn,
      type: BucketNotificationDestinationType.QUEUE,
      dependencies: [this.queue],
    };
  }
}

/**
 * Lets S3 send one bucket's notifications to `queue` and use its key: the queue policy and the
 * key policy both keep it to that bucket in its owner's account. For a bucket in another account
 * this is all this stack can do; the owner configures the notification on the bucket.
 */
export function allowS3Notifications(
  queue: IQueue,
  queueKey: IKey,
  bucketArn: string,
  account: string,
): void {
  const s3 = new ServicePrincipal('s3.amazonaws.com');
  const conditions = {
    ArnLike: { 'aws:SourceArn': bucketArn },
    StringEquals: { 'aws:SourceAccount': account },
  };
  queue.addToResourcePolicy(
    new PolicyStatement({
      principals: [s3],
      actions: ['sqs:SendMessage'],
      resources: [queue.queueArn],
      conditions,
    }),
  );
  queueKey.addToResourcePolicy(
    new PolicyStatement({
      principals: [s3],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      // In a key policy "*" means this key.
      resources: ['*'],
      conditions,
    }),
  );
}

/** Routes every object created under `prefix` to `queue`; the bucket may be imported. */
export function bindPrefixNotifications(
  bucket: IBucket,
  prefix: string,
  queue: IQueue,
  queueKey: IKey,
): void {
  bucket.addEventNotification(
    EventType.OBJECT_CREATED,
    new EncryptedQueueDestination(queue, queueKey, bucket.env.account),
    { prefix },
  );
  // CloudFormation has no property for a bucket's notifications, so CDK configures them from a
  // singleton custom-resource function of its own, created by the call above.
  const stack = Stack.of(bucket);
  const handler = stack.node.children.find((child) =>
    child.node.id.startsWith(NOTIFICATIONS_HANDLER_ID_PREFIX),
  );
  if (handler === undefined) {
    throw new InfraError('CDK did not create its bucket-notifications handler where expected');
  }
  acknowledge(handler, {
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      "CDK's bucket-notification helper gives its handler this managed policy to write its own logs; its only other permission is s3:PutBucketNotification on this bucket.",
  });
}

/** The construct id CDK gives its bucket-notifications handler (a fixed UUID follows). */
export const NOTIFICATIONS_HANDLER_ID_PREFIX = 'BucketNotificationsHandler';

/** The ARN of an object prefix in a bucket named, not owned, by the stack. */
export function externalObjectsArn(bucketName: string, prefix: string): string {
  return `arn:${Aws.PARTITION}:s3:::${bucketName}/${prefix}*`;
}

/**
 * Reading under some prefixes of a bucket the stack does not own (a log archive, maybe in another
 * account, whose bucket policy must also grant the function's role), and, when the bucket is
 * SSE-KMS encrypted, kms:Decrypt of its key through S3 for those objects only. The encryption
 * context is the object ARN, or the bucket ARN when the bucket uses S3 Bucket Keys.
 */
export function bindReadExternal(
  grantee: IGrantable,
  bucketName: string,
  prefixes: readonly string[],
  kmsKeyArn: string | undefined,
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resources: prefixes.map((p) => externalObjectsArn(bucketName, p)),
    }),
  );
  acknowledge(
    principalConstruct(grantee),
    ...prefixes.map((p) => ({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${bucketName}/${p}*]`,
      reason: `Log keys in ${bucketName} are not known before they arrive, so reading is granted on the ${p} prefix, the narrowest scope S3 offers.`,
    })),
  );
  if (kmsKeyArn === undefined) return;
  const bucketArn = `arn:${Aws.PARTITION}:s3:::${bucketName}`;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [kmsKeyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': viaService(principalConstruct(grantee), 's3') },
        StringLike: {
          'kms:EncryptionContext:aws:s3:arn': [
            bucketArn,
            ...prefixes.map((p) => externalObjectsArn(bucketName, p)),
          ],
        },
      },
    }),
  );
}

/**
 * s3:ListBucket on the stack's bucket: without it S3 answers HeadObject of a key that does not
 * exist with 403 instead of 404, and the FDR poller could not tell "not copied yet" from denied.
 * It lists key names only; reading stays limited to prefixes.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html#API_HeadObject_Permissions
 */
export function bindListBucket(grantee: IGrantable, bucket: Bucket): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
  );
}

/**
 * GetSecretValue on one secret by name. A secret's ARN ends in a hyphen and six random
 * characters, so the name is matched with `-??????`, which fits only that secret.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-policies.html
 */
export function bindSecretRead(grantee: IGrantable, secretName: string): string {
  const arn = `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:${secretName}-??????`;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [arn] }),
  );
  acknowledge(principalConstruct(grantee), {
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${secretName}-??????]`,
    reason:
      'Secrets Manager appends six random characters to a secret ARN; "-??????" matches exactly those, so the grant covers this one secret.',
  });
  return arn;
}

/** events:PutEvents on one bus. */
export function bindPutEvents(grantee: IGrantable, eventBusArn: string): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: ['events:PutEvents'], resources: [eventBusArn] }),
  );
}

/**
 * securityhub:BatchImportFindings into the account's own `default` product, the one resource the
 * action is authorized on.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecurityhub.html
 */
export function bindImportFindings(grantee: IGrantable, productArn: string): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: ['securityhub:BatchImportFindings'], resources: [productArn] }),
  );
}
