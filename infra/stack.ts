import {
  Annotations,
  Aws,
  CfnOutput,
  type CfnResource,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { AnyPrincipal, Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
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
import { ExistingBuckets, type SourceTarget } from './constructs/existing-buckets.ts';
import { FdrPoller } from './constructs/fdr-poller.ts';
import { type MonitoredSource, PipelineMonitoring } from './constructs/pipeline-monitoring.ts';
import {
  bindImportFindings,
  bindPrefixNotifications,
  bindPublish,
  bindPutEvents,
  bindReadPrefix,
  bindStateTable,
  bindWritePrefix,
  NOTIFICATIONS_HANDLER_ID_PREFIX,
} from './grants.ts';
import { acknowledge } from './nag.ts';
import { acknowledgeOutsideVpc, acknowledgeShortLogRetention, guardRule } from './policy-checks.ts';

/**
 * AWS's rule for a queue feeding Lambda: at least six times the function timeout, plus the
 * batching window, so a message is not redelivered while a retry of its batch is still running.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html#events-sqs-queueconfig
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/**
 * Receives before a notification moves to the dead-letter queue. AWS advises at least 5 for a
 * queue that Lambda drains: the poller may receive a message and then be throttled, or drop it
 * when the function scales, and each of those receives counts without the function running.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
export const MAX_RECEIVE_COUNT = 5;
/** Four days (SQS's default) of backlog survive an outage of the functions. */
const QUEUE_RETENTION = Duration.days(4);
/**
 * SQS's maximum. A dead-lettered message keeps its original enqueue time, so the dead-letter
 * queue must retain longer than the source queue or messages expire on arrival.
 */
const DEAD_LETTER_RETENTION = Duration.days(14);
/** Uploads interrupted this long ago will not resume; their parts only cost storage. */
const ABORT_INCOMPLETE_UPLOAD_AFTER = Duration.days(7);
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
  /** The CrowdStrike FDR poller; undefined without `fdrQueueUrl` and `fdrSecretName`. */
  readonly fdr: FdrPoller | undefined;
  private readonly removal: RemovalPolicy;

  constructor(scope: Construct, id: string, props: T1102DetectionStackProps) {
    super(scope, id, props);
    const { config } = props;
    const destroy = config.removalPolicy === 'destroy';
    // RETAIN_ON_UPDATE_OR_DELETE: kept on delete and replacement like RETAIN, but a first create
    // that fails and rolls back removes them, instead of leaving orphaned keys and buckets.
    this.removal = destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    const removalPolicy = this.removal;
    const functionTimeout = Duration.seconds(config.timeoutSeconds);

    // --- Keys: one per purpose, so each principal can use only the key of what it touches.
    const dataKey = this.key(
      'DataKey',
      'T1102 detection: the log bucket and the functions log groups',
    );
    // CloudWatch Logs encrypts a log group only if the key policy lets the regional Logs service
    // use the key for log groups of this account and region.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
    dataKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal(`logs.${Aws.REGION}.${Aws.URL_SUFFIX}`)],
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
    const queueKey = this.key(
      'QueueKey',
      'T1102 detection: the notification queues and dead-letter queues',
    );
    const alertKey = this.key('AlertTopicKey', 'T1102 detection: the alert topic');
    const opsKey = this.key('OpsTopicKey', 'T1102 detection: the operations (alarm) topic');

    // --- Cross-object state (lib/state): alert windows and process/host context, one table.
    // Its own key, like every other store here: the key then covers exactly this table.
    let stateKey: Key | undefined;
    if (config.state) {
      stateKey = this.key('StateTableKey', 'T1102 detection: the cross-object state table');
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
      versioned: true,
      lifecycleRules: [
        {
          id: 'ExpireAccessLogs',
          expiration: Duration.days(config.accessLogExpirationDays),
          noncurrentVersionExpiration: Duration.days(config.noncurrentVersionExpirationDays),
          abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOAD_AFTER,
        },
      ],
      removalPolicy,
      autoDeleteObjects: destroy,
    });
    acknowledge(
      accessLogBucket,
      {
        id: 'AwsSolutions-S1',
        reason:
          'This is the access-log bucket itself; logging it into itself would log every log delivery, in a loop.',
      },
      {
        id: guardRule('s3_bucket_logging_enabled_check'),
        reason:
          'This is the access-log bucket itself; logging it into itself would log every log delivery, in a loop.',
      },
      {
        id: guardRule('s3_bucket_default_encryption_kms_check'),
        reason:
          'S3 server access logging delivers only to a bucket whose default encryption is SSE-S3, not SSE-KMS.',
      },
      {
        id: guardRule('s3_event_notifications_enabled_check'),
        reason:
          'Access logs are audit records read on demand; nothing processes them as they arrive.',
      },
    );

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
    acknowledge(this.bucket, {
      id: guardRule('s3_event_notifications_enabled_check'),
      reason:
        "The bucket's notifications are configured by CDK's Custom::S3BucketNotifications resource (CloudFormation has no property the stack could set them with), which the rule cannot see.",
    });
    const noObjectLock = {
      id: guardRule('s3_bucket_object_lock_enabled_check'),
      reason:
        'Object Lock would block the lifecycle expirations and removalPolicy=destroy this stack offers; the bucket of record (the log archive) is the place for WORM retention, these are working copies.',
    };
    acknowledge(this.bucket, noObjectLock);
    acknowledge(accessLogBucket, noObjectLock);

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
    const deliveryDeadLetterQueue = this.deadLetterQueue(
      'DeliveryDeadLetterQueue',
      queueKey,
      'This queue is the dead-letter queue of the SNS subscriptions, which the rule cannot see because they are not SQS redrive policies.',
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
    this.warnWithoutSubscribers(config);

    // --- One queue and one function per source prefix.
    this.pipelines = SOURCES.map((source) => {
      const name = source === 'sysmon' ? 'Sysmon' : 'Falcon';
      const deadLetterQueue = this.deadLetterQueue(`${name}DeadLetterQueue`, queueKey);
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
        quarantineBucket: this.bucket.bucketName,
        removalPolicy,
      });
      detector.consumeFrom(queue, {
        batchSize: config.batchSize,
        maxConcurrency: eventSourceConcurrency(config),
      });

      bindPrefixNotifications(this.bucket as IBucket, SOURCE_PREFIXES[source], queue, queueKey);
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
      this.bindAlertRoutes(detector, config);
      if (this.stateTable !== undefined && stateKey !== undefined) {
        bindStateTable(detector.function, this.stateTable, stateKey);
        for (const [name, value] of Object.entries(stateEnvironment(this.stateTable, config))) {
          detector.function.addEnvironment(name, value);
        }
      }

      return { source, name, queue, deadLetterQueue, detector };
    });
    this.ownNotificationsHandlerLogs(dataKey, config.logRetentionDays);

    if (config.existingBuckets.length > 0) {
      const targets = Object.fromEntries(
        this.pipelines.map((p) => [p.source, p]),
      ) as unknown as Record<DetectionSource, SourceTarget>;
      new ExistingBuckets(this, 'ExistingBuckets', {
        buckets: config.existingBuckets,
        targets,
        queueKey,
      });
    }

    this.fdr =
      config.fdr === undefined
        ? undefined
        : new FdrPoller(this, 'Fdr', {
            feed: config.fdr,
            bucket: this.bucket,
            bucketKey: dataKey,
            timeout: functionTimeout,
            logRetentionDays: config.logRetentionDays,
            logEncryptionKey: dataKey,
            removalPolicy,
          });

    this.monitoring = new PipelineMonitoring(this, 'Monitoring', {
      sources: this.pipelines,
      otherDeadLetterQueues: [{ name: 'Delivery', queue: deliveryDeadLetterQueue }],
      opsTopic: this.opsTopic,
      noDataHours: config.noDataHours,
      ...(this.fdr === undefined ? {} : { fdr: this.fdr.poller }),
      ...(this.stateTable === undefined ? {} : { stateTable: this.stateTable }),
    });

    // CDK's own helper functions (bucket notifications, emptying buckets on destroy).
    for (const child of this.node.children) {
      if (child.node.id.startsWith('Custom::S3AutoDeleteObjects')) acknowledgeOutsideVpc(child);
    }
    this.outputs(dataKey);
  }

  /** A customer-managed key with rotation, this stack's removal policy and no direct grants. */
  private key(id: string, description: string): Key {
    const key = new Key(this, id, {
      description,
      enableKeyRotation: true,
      removalPolicy: this.removal,
    });
    // Grants only for AWS services acting for a caller (S3, DynamoDB…), never made directly:
    // a grant would otherwise outlive a policy change unseen (Control Tower CT.KMS.PR.3).
    // https://docs.aws.amazon.com/controltower/latest/controlreference/kms-rules.html#ct-kms-pr-3-description
    key.addToResourcePolicy(
      new PolicyStatement({
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: {
          BoolIfExists: {
            'kms:GrantIsForAWSResource': 'false',
            'aws:PrincipalIsAWSService': 'false',
          },
        },
      }),
    );
    return key;
  }

  /** A dead-letter queue: the end of a redrive chain, kept longer than its source queue. */
  private deadLetterQueue(id: string, queueKey: Key, sqs3Reason?: string): Queue {
    const queue = new Queue(this, id, {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: queueKey,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
    });
    const endOfChain =
      'A dead-letter queue is the end of the redrive chain and has no dead-letter queue of its own.';
    acknowledge(
      queue,
      { id: 'Serverless-SQSRedrivePolicy', reason: endOfChain },
      { id: guardRule('sqs_dlq_check'), reason: endOfChain },
      ...(sqs3Reason === undefined ? [] : [{ id: 'AwsSolutions-SQS3', reason: sqs3Reason }]),
    );
    return queue;
  }

  /** The optional EventBridge and Security Hub routes: each function's variables and grants. */
  private bindAlertRoutes(detector: DetectionFunction, config: PipelineConfig): void {
    const fn = detector.function;
    if (config.alertEventBus !== undefined) {
      fn.addEnvironment('ALERT_EVENT_BUS', config.alertEventBus);
      bindPutEvents(fn, eventBusArn(config.alertEventBus));
    }
    if (config.securityHub) {
      const productArn = `arn:${Aws.PARTITION}:securityhub:${Aws.REGION}:${Aws.ACCOUNT_ID}:product/${Aws.ACCOUNT_ID}/default`;
      fn.addEnvironment('SECURITY_HUB_PRODUCT_ARN', productArn);
      bindImportFindings(fn, productArn);
    }
  }

  /**
   * No silent deploys: alerts that reach nobody, or alarms nobody hears, are a synth warning.
   * An annotation, not an error: a first deploy to look around is legitimate.
   */
  private warnWithoutSubscribers(config: PipelineConfig): void {
    const routed =
      config.alertEmail !== undefined || config.alertEventBus !== undefined || config.securityHub;
    if (!routed) {
      Annotations.of(this).addWarningV2(
        't1102:no-alert-route',
        'No alert subscriber or route: alerts go to the alert topic and nobody receives them. Pass -c alertEmail=…, -c alertEventBus=… or -c securityHub=true, or subscribe to the AlertTopicArn output (infra/README.md).',
      );
    }
    if (config.opsEmail === undefined) {
      Annotations.of(this).addWarningV2(
        't1102:no-ops-subscriber',
        'No operations subscriber: alarms (dead letters, errors, no data) go to the operations topic and nobody receives them. Pass -c opsEmail=… or subscribe to the OpsTopicArn output.',
      );
    }
  }

  /**
   * CDK's bucket-notifications helper is a Lambda function CDK creates without a log group, so
   * Lambda would create /aws/lambda/<name> on first run: unencrypted, kept forever, and left
   * behind by `cdk destroy`. This gives it a log group the stack owns, like the functions'.
   */
  private ownNotificationsHandlerLogs(key: Key, retentionDays: number): void {
    const handler = this.node.children.find((c) =>
      c.node.id.startsWith(NOTIFICATIONS_HANDLER_ID_PREFIX),
    );
    const resource = handler?.node.defaultChild as CfnResource | undefined;
    if (handler === undefined || resource === undefined) return;
    const logGroup = new LogGroup(this, 'BucketNotificationsHandlerLogGroup', {
      retention: retentionDays,
      encryptionKey: key,
      removalPolicy: this.removal,
    });
    acknowledgeShortLogRetention(logGroup, retentionDays);
    resource.addPropertyOverride('LoggingConfig.LogGroup', logGroup.logGroupName);
    acknowledgeOutsideVpc(handler);
  }

  private outputs(dataKey: Key): void {
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
    for (const p of this.pipelines) {
      new CfnOutput(this, `${p.name}ReaderRoleArn`, {
        description: `The ${p.source} function's role: grant it s3:GetObject (and kms:Decrypt) in an existing bucket's policies`,
        value: p.detector.role.roleArn,
      });
    }
    if (this.stateTable !== undefined) {
      new CfnOutput(this, 'StateTableName', {
        description: 'DynamoDB table of alert windows and process/host context (lib/state)',
        value: this.stateTable.tableName,
      });
    }
    if (this.fdr !== undefined) {
      new CfnOutput(this, 'FdrPollerName', {
        description: 'The CrowdStrike FDR poller function (its logs say what each run copied)',
        value: this.fdr.poller.function.functionName,
      });
    }
    new CfnOutput(this, 'DashboardName', {
      description: 'CloudWatch dashboard of the pipeline',
      value: this.monitoring.dashboard.dashboardName,
    });
  }
}

/**
 * Each queue's event source cap: the configured maximum, and never above reserved concurrency
 * when there is one, or Lambda would invoke past the limit and count the overflow as throttles.
 */
function eventSourceConcurrency(config: PipelineConfig): number | undefined {
  const reserved = config.reservedConcurrency;
  if (reserved === undefined) return config.maxConcurrency;
  // Lambda's smallest cap (2) is above a reservation of 1: leave that to the reservation.
  if (reserved < MIN_EVENT_SOURCE_CONCURRENCY) return undefined;
  return Math.min(reserved, config.maxConcurrency);
}

/** The ARN of an event bus given by name (this account and region) or by ARN. */
function eventBusArn(nameOrArn: string): string {
  if (nameOrArn.startsWith('arn:')) return nameOrArn;
  return `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:event-bus/${nameOrArn}`;
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
