import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  type LifecycleRule,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { FunctionEnvironment } from '../lib/config/env.ts';
import { type DetectionSource, type PipelineConfig, SOURCE_PREFIXES, SOURCES } from './config.ts';
import { DetectionFunction } from './constructs/detection-function.ts';
import { type MonitoredSource, PipelineMonitoring } from './constructs/pipeline-monitoring.ts';
import {
  bindPrefixNotifications,
  bindPublish,
  bindReadPrefix,
  bindStateTable,
  bindWritePrefix,
} from './grants.ts';
import { acknowledge } from './nag.ts';

/**
 * AWS's rule for a queue feeding Lambda: at least six times the function timeout, plus the
 * batching window, so a message is not redelivered while a retry of its batch is still running.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html#events-sqs-queueconfig
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/** Receives before a notification moves to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 3;
/** Four days (SQS's default) of backlog survive an outage of the functions. */
const QUEUE_RETENTION = Duration.days(4);
/**
 * SQS's maximum. A dead-lettered message keeps its original enqueue time, so the dead-letter
 * queue must retain longer than the source queue or messages expire on arrival.
 */
const DEAD_LETTER_RETENTION = Duration.days(14);
/** Uploads interrupted this long ago will not resume; their parts only cost storage. */
const ABORT_INCOMPLETE_UPLOAD_AFTER = Duration.days(7);
/** Lambda's maximum concurrency for an SQS event source. */
const MAX_EVENT_SOURCE_CONCURRENCY = 1000;
/** Lambda's minimum concurrency for an SQS event source. */
const MIN_EVENT_SOURCE_CONCURRENCY = 2;
/** Where S3 writes the log bucket's access logs inside the access-log bucket. */
const ACCESS_LOG_PREFIX = 'log-bucket/';
/** The state table's key and TTL attribute names, as lib/state reads and writes them. */
const STATE_PARTITION_KEY = 'pk';
const STATE_SORT_KEY = 'sk';
const STATE_TTL_ATTRIBUTE = 'expiresAt';

export interface T1102DetectionStackProps extends StackProps {
  readonly config: PipelineConfig;
}

/** One routed source, kept for tests and outputs. */
export interface SourcePipeline extends MonitoredSource {
  readonly source: DetectionSource;
}

/**
 * The whole pipeline in one stack: the log bucket, one queue and function per source prefix, the
 * alert topic, and the alarms and dashboard that show it working. Deliberately environment-
 * agnostic (no lookups), so `cdk synth` needs neither credentials nor network.
 */
export class T1102DetectionStack extends Stack {
  readonly bucket: Bucket;
  readonly alertTopic: Topic;
  readonly opsTopic: Topic;
  /** The cross-object state table; undefined with `-c state=false`. */
  readonly stateTable: Table | undefined;
  readonly pipelines: readonly SourcePipeline[];
  readonly monitoring: PipelineMonitoring;

  constructor(scope: Construct, id: string, props: T1102DetectionStackProps) {
    super(scope, id, props);
    const { config } = props;
    const destroy = config.removalPolicy === 'destroy';
    const removalPolicy = destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const functionTimeout = Duration.seconds(config.timeoutSeconds);

    // --- Keys: one per purpose, so each principal can use only the key of what it touches.
    const dataKey = new Key(this, 'DataKey', {
      description: 'T1102 detection: the log bucket and the functions log groups',
      enableKeyRotation: true,
      removalPolicy,
    });
    // CloudWatch Logs encrypts a log group only if the key policy lets the regional Logs service
    // use the key for log groups of this account and region.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
    dataKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: [
          'kms:Encrypt*',
          'kms:Decrypt*',
          'kms:ReEncrypt*',
          'kms:GenerateDataKey*',
          'kms:Describe*',
        ],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`,
          },
        },
      }),
    );
    const queueKey = new Key(this, 'QueueKey', {
      description: 'T1102 detection: the notification queues and dead-letter queues',
      enableKeyRotation: true,
      removalPolicy,
    });
    const alertKey = new Key(this, 'AlertTopicKey', {
      description: 'T1102 detection: the alert topic',
      enableKeyRotation: true,
      removalPolicy,
    });
    const opsKey = new Key(this, 'OpsTopicKey', {
      description: 'T1102 detection: the operations (alarm) topic',
      enableKeyRotation: true,
      removalPolicy,
    });

    // --- Cross-object state (lib/state): alert windows and process/host context, one table.
    // Its own key, like every other store here: the key then covers exactly this table.
    let stateKey: Key | undefined;
    if (config.state) {
      stateKey = new Key(this, 'StateTableKey', {
        description: 'T1102 detection: the cross-object state table',
        enableKeyRotation: true,
        removalPolicy,
      });
      this.stateTable = new Table(this, 'StateTable', {
        partitionKey: { name: STATE_PARTITION_KEY, type: AttributeType.STRING },
        sortKey: { name: STATE_SORT_KEY, type: AttributeType.STRING },
        timeToLiveAttribute: STATE_TTL_ATTRIBUTE,
        // A few writes per matched group per object: on-demand costs nothing while idle.
        billingMode: BillingMode.PAY_PER_REQUEST,
        encryption: TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: stateKey,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        removalPolicy,
      });
    } else {
      this.stateTable = undefined;
    }

    // --- Buckets.
    // Server access logs can only be delivered to a bucket with SSE-S3 default encryption.
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
    const accessLogBucket = new Bucket(this, 'AccessLogBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'ExpireAccessLogs',
          expiration: Duration.days(config.accessLogExpirationDays),
          abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOAD_AFTER,
        },
      ],
      removalPolicy,
      autoDeleteObjects: destroy,
    });
    acknowledge(accessLogBucket, {
      id: 'AwsSolutions-S1',
      reason:
        'This is the access-log bucket itself; logging it into itself would log every log delivery, in a loop.',
    });

    this.bucket = new Bucket(this, 'LogBucket', {
      encryption: BucketEncryption.KMS,
      encryptionKey: dataKey,
      // One data key per bucket instead of one KMS call per object: same protection, a fraction
      // of the KMS requests.
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      // Bucket declares isWebsite as optional, IBucket as required: the same object, but
      // exactOptionalPropertyTypes cannot see that.
      serverAccessLogsBucket: accessLogBucket as IBucket,
      serverAccessLogsPrefix: ACCESS_LOG_PREFIX,
      lifecycleRules: lifecycleRules(config),
      removalPolicy,
      autoDeleteObjects: destroy,
    });

    // --- Topics.
    this.alertTopic = new Topic(this, 'AlertTopic', {
      displayName: 'T1102 Web Service detections',
      masterKey: alertKey,
      enforceSSL: true,
    });
    this.opsTopic = new Topic(this, 'OpsTopic', {
      displayName: 'T1102 detection pipeline alarms',
      masterKey: opsKey,
      enforceSSL: true,
    });
    // Alarm actions are published by the CloudWatch service, which needs the topic policy and the
    // key policy to let it in; keep both to this account's alarms (confused-deputy guard).
    // https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns
    const alarmSource = {
      ArnLike: {
        'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
      },
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
    };
    this.opsTopic.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.opsTopic.topicArn],
        conditions: alarmSource,
      }),
    );
    opsKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );

    // A subscriber that cannot be reached (a bouncing mailbox, a deleted queue) must not lose
    // alerts silently: SNS parks them here, and the dead-letter alarm fires.
    const deliveryDeadLetterQueue = new Queue(this, 'DeliveryDeadLetterQueue', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: queueKey,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
    });
    acknowledge(
      deliveryDeadLetterQueue,
      {
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is the dead-letter queue of the SNS subscriptions, which the rule cannot see because they are not SQS redrive policies.',
      },
      {
        id: 'Serverless-SQSRedrivePolicy',
        reason:
          'A dead-letter queue is the end of the redrive chain and has no dead-letter queue of its own.',
      },
    );
    queueKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: {
          ArnEquals: { 'aws:SourceArn': [this.alertTopic.topicArn, this.opsTopic.topicArn] },
        },
      }),
    );
    if (config.alertEmail !== undefined) {
      this.alertTopic.addSubscription(
        new EmailSubscription(config.alertEmail, { deadLetterQueue: deliveryDeadLetterQueue }),
      );
    }
    if (config.opsEmail !== undefined) {
      this.opsTopic.addSubscription(
        new EmailSubscription(config.opsEmail, { deadLetterQueue: deliveryDeadLetterQueue }),
      );
    }

    // --- One queue and one function per source prefix.
    this.pipelines = SOURCES.map((source) => {
      const name = source === 'sysmon' ? 'Sysmon' : 'Falcon';
      const deadLetterQueue = new Queue(this, `${name}DeadLetterQueue`, {
        encryption: QueueEncryption.KMS,
        encryptionMasterKey: queueKey,
        enforceSSL: true,
        retentionPeriod: DEAD_LETTER_RETENTION,
      });
      acknowledge(deadLetterQueue, {
        id: 'Serverless-SQSRedrivePolicy',
        reason:
          'A dead-letter queue is the end of the redrive chain and has no dead-letter queue of its own.',
      });
      const queue = new Queue(this, `${name}Queue`, {
        encryption: QueueEncryption.KMS,
        encryptionMasterKey: queueKey,
        enforceSSL: true,
        retentionPeriod: QUEUE_RETENTION,
        visibilityTimeout: Duration.seconds(config.timeoutSeconds * VISIBILITY_TIMEOUT_FACTOR),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
      });

      const detector = new DetectionFunction(this, `${name}Detector`, {
        source,
        memoryMiB: config.memoryMiB,
        timeout: functionTimeout,
        reservedConcurrency: config.reservedConcurrency,
        logRetentionDays: config.logRetentionDays,
        logEncryptionKey: dataKey,
        alertTopicArn: this.alertTopic.topicArn,
        quarantinePrefix: config.quarantinePrefix,
        removalPolicy,
      });
      const reserved = config.reservedConcurrency;
      detector.consumeFrom(queue, {
        batchSize: config.batchSize,
        // With reserved concurrency, cap the pollers at it: Lambda would otherwise invoke past
        // the limit and count the overflow as throttles.
        maxConcurrency:
          reserved !== undefined && reserved >= MIN_EVENT_SOURCE_CONCURRENCY
            ? Math.min(reserved, MAX_EVENT_SOURCE_CONCURRENCY)
            : undefined,
      });

      bindPrefixNotifications(this.bucket, SOURCE_PREFIXES[source], queue, queueKey);
      bindReadPrefix(detector.function, this.bucket, dataKey, SOURCE_PREFIXES[source]);
      // The functions write <QUARANTINE_PREFIX><source>/yyyy/mm/dd/...; each gets its own subtree.
      bindWritePrefix(
        detector.function,
        this.bucket,
        dataKey,
        `${config.quarantinePrefix}${source}/`,
      );
      bindPublish(detector.function, this.alertTopic, alertKey);
      if (config.exceptionsKey !== undefined) {
        // docs/detection.md, "Exceptions": read once per cold start; a bad file stops the function.
        bindReadPrefix(detector.function, this.bucket, dataKey, config.exceptionsKey);
        detector.function.addEnvironment(
          'EXCEPTIONS_URI',
          `s3://${this.bucket.bucketName}/${config.exceptionsKey}`,
        );
      }
      if (this.stateTable !== undefined && stateKey !== undefined) {
        bindStateTable(detector.function, this.stateTable, stateKey);
        for (const [name, value] of Object.entries(stateEnvironment(this.stateTable, config))) {
          detector.function.addEnvironment(name, value);
        }
      }

      return { source, name, queue, deadLetterQueue, detector };
    });

    this.monitoring = new PipelineMonitoring(this, 'Monitoring', {
      sources: this.pipelines,
      otherDeadLetterQueues: [{ name: 'Delivery', queue: deliveryDeadLetterQueue }],
      opsTopic: this.opsTopic,
      ...(this.stateTable === undefined ? {} : { stateTable: this.stateTable }),
    });

    new CfnOutput(this, 'BucketName', {
      description: 'Drop Sysmon batches under sysmon/ and Falcon batches under falcon/',
      value: this.bucket.bucketName,
    });
    new CfnOutput(this, 'DataKeyArn', {
      description: 'Uploaders need kms:GenerateDataKey on this key to drop batches',
      value: dataKey.keyArn,
    });
    new CfnOutput(this, 'AlertTopicArn', {
      description: 'Subscribe here for OCSF Detection Findings (filter on the message attributes)',
      value: this.alertTopic.topicArn,
    });
    new CfnOutput(this, 'OpsTopicArn', {
      description: 'Alarm notifications about the pipeline itself',
      value: this.opsTopic.topicArn,
    });
    if (this.stateTable !== undefined) {
      new CfnOutput(this, 'StateTableName', {
        description: 'DynamoDB table of alert windows and process/host context (lib/state)',
        value: this.stateTable.tableName,
      });
    }
    new CfnOutput(this, 'DashboardName', {
      description: 'CloudWatch dashboard of the pipeline',
      value: this.monitoring.dashboard.dashboardName,
    });
  }
}

/** The state variables of lib/config/env.ts; without STATE_TABLE the functions run stateless. */
function stateEnvironment(table: Table, config: PipelineConfig): FunctionEnvironment {
  return {
    STATE_TABLE: table.tableName,
    WINDOW_MINUTES: String(config.windowMinutes),
    THRESHOLD: String(config.threshold),
    STATE_TTL_DAYS: String(config.stateTtlDays),
  };
}

function lifecycleRules(config: PipelineConfig): LifecycleRule[] {
  const rules: LifecycleRule[] = [
    {
      id: 'ExpireQuarantinedRecords',
      prefix: config.quarantinePrefix,
      expiration: Duration.days(config.quarantineExpirationDays),
    },
    {
      id: 'ExpireOldVersions',
      noncurrentVersionExpiration: Duration.days(config.noncurrentVersionExpirationDays),
      abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOAD_AFTER,
      // Once the noncurrent versions are gone, a lone delete marker is clutter.
      expiredObjectDeleteMarker: true,
    },
  ];
  if (config.batchExpirationDays !== undefined) {
    for (const source of SOURCES) {
      rules.push({
        id: `Expire-${source}-batches`,
        prefix: SOURCE_PREFIXES[source],
        expiration: Duration.days(config.batchExpirationDays),
      });
    }
  }
  return rules;
}
