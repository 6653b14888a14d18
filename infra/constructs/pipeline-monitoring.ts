import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  type IWidget,
  type Metric,
  PeriodOverride,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FDR_METRIC } from '../../lib/fdr/metrics.ts';
import { PIPELINE_METRICS, SKIP_REASONS, skipMetricName } from '../metrics.ts';
import type { DetectionFunction } from './detection-function.ts';
import type { HouseFunction } from './house-function.ts';

/** Backlog age that means the function is not keeping up or keeps failing one object. */
export const MIN_OLDEST_MESSAGE_AGE_ALARM_SECONDS = 15 * 60;
/**
 * A message in flight counts toward the queue's age, so with long timeouts the threshold grows to
 * this many function runs, or one slow but healthy object would raise the alarm.
 */
const OLDEST_MESSAGE_AGE_IN_TIMEOUTS = 2;
/** The window errors, throttles and failed objects are counted over. */
const ERROR_ALARM_PERIOD = Duration.minutes(5);
/** The "no data" alarm counts processed objects per hour. */
const NO_DATA_PERIOD = Duration.hours(1);
/** Queue metrics arrive once a minute. */
const QUEUE_ALARM_PERIOD = Duration.minutes(1);
/** Width units of a CloudWatch dashboard row. */
const DASHBOARD_WIDTH = 24;
const WIDGET_HEIGHT = 6;

/** One routed source: its queue, its dead-letter queue and the function that drains them. */
export interface MonitoredSource {
  readonly name: string;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly detector: DetectionFunction;
}

export interface PipelineMonitoringProps {
  readonly sources: readonly MonitoredSource[];
  /** Dead-letter queues outside the sources, such as the SNS subscriptions' one. */
  readonly otherDeadLetterQueues: readonly { readonly name: string; readonly queue: IQueue }[];
  /** Alarm and OK notifications go here. */
  readonly opsTopic: ITopic;
  /** The cross-object state table, when there is one. */
  readonly stateTable?: Table;
  /** Hours without a processed object before a source's "no data" alarm; 0: no such alarm. */
  readonly noDataHours: number;
  /** The CrowdStrike FDR poller, when there is one. */
  readonly fdr?: HouseFunction;
}

/**
 * The operator's view: alarms to the operations topic for anything that needs a human, and a
 * dashboard of the pipeline's own metrics so one can see it working.
 */
export class PipelineMonitoring extends Construct {
  readonly alarms: IAlarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: PipelineMonitoringProps) {
    super(scope, id);
    const action = new SnsAction(props.opsTopic);
    const addAlarm = (alarm: Alarm): void => {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
    };

    for (const source of props.sources) {
      const { name, queue, deadLetterQueue, detector } = source;
      const fn = detector.function;
      const ageThresholdSeconds = Math.max(
        MIN_OLDEST_MESSAGE_AGE_ALARM_SECONDS,
        OLDEST_MESSAGE_AGE_IN_TIMEOUTS * (fn.timeout?.toSeconds() ?? 0),
      );
      addAlarm(
        this.deadLetterAlarm(`${name}DeadLetters`, deadLetterQueue, `${name} dead-letter queue`),
      );
      addAlarm(
        new Alarm(this, `${name}Errors`, {
          alarmDescription: `The ${name} function failed (crash, timeout or out of memory); the batch will be retried.`,
          metric: fn.metricErrors({ period: ERROR_ALARM_PERIOD, statistic: 'Sum' }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
      addAlarm(
        new Alarm(this, `${name}Throttles`, {
          alarmDescription: `The ${name} function was throttled; raise or remove its concurrency limits.`,
          metric: fn.metricThrottles({ period: ERROR_ALARM_PERIOD, statistic: 'Sum' }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
      addAlarm(
        new Alarm(this, `${name}OldestMessage`, {
          alarmDescription: `A ${name} batch has waited over ${ageThresholdSeconds} s: the function is not keeping up or keeps failing on it.`,
          metric: queue.metricApproximateAgeOfOldestMessage({
            period: QUEUE_ALARM_PERIOD,
            statistic: 'Maximum',
          }),
          threshold: ageThresholdSeconds,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
      // A failed object is reported as a batch item failure, not a function error, so the
      // Errors alarm never sees it; this one does, before the retries end in the DLQ.
      addAlarm(
        new Alarm(this, `${name}ObjectsFailed`, {
          alarmDescription: `The ${name} function could not process an object; it will be retried, then dead-lettered.`,
          metric: detector.metric(PIPELINE_METRICS.objectsFailed, { period: ERROR_ALARM_PERIOD }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    if (props.noDataHours > 0) {
      for (const source of props.sources) addAlarm(this.noDataAlarm(source, props.noDataHours));
    }
    if (props.fdr !== undefined) for (const alarm of this.fdrAlarms(props.fdr)) addAlarm(alarm);
    for (const other of props.otherDeadLetterQueues) {
      addAlarm(
        this.deadLetterAlarm(
          `${other.name}DeadLetters`,
          other.queue,
          `${other.name} dead-letter queue`,
        ),
      );
    }

    if (props.stateTable) {
      // Throttled state reads and writes are retried by the SDK; past its retries the object
      // fails (ObjectsFailed). These say why, before that: the table's on-demand maximum, a hot
      // partition or the account's limit (the cause-specific metrics tell which).
      for (const [id, metricName, what] of [
        ['StateReadThrottles', 'ReadThrottleEvents', 'reads'],
        ['StateWriteThrottles', 'WriteThrottleEvents', 'writes'],
      ] as const) {
        addAlarm(
          new Alarm(this, id, {
            alarmDescription: `DynamoDB throttled state table ${what}: the functions retry, then fail the object; check the table's on-demand maximum and the account's limits.`,
            metric: props.stateTable.metric(metricName, {
              period: ERROR_ALARM_PERIOD,
              statistic: 'Sum',
            }),
            threshold: 1,
            evaluationPeriods: 1,
            comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treatMissingData: TreatMissingData.NOT_BREACHING,
          }),
        );
      }
    }

    this.dashboard = new Dashboard(this, 'Dashboard', {
      // Rates per minute whatever time range the operator picks.
      periodOverride: PeriodOverride.INHERIT,
      widgets: this.widgets(props),
    });
  }

  /**
   * Silence is a failure too: a source whose logs stopped arriving (a broken forwarder, a
   * notification removed, an expired FDR key) processes no object. Missing data is breaching,
   * since a function that never runs emits nothing at all.
   */
  private noDataAlarm(source: MonitoredSource, hours: number): Alarm {
    return new Alarm(this, `${source.name}NoData`, {
      alarmDescription: `No ${source.name} object was processed for ${hours} hour(s): check that logs still arrive in the bucket and that its notifications reach the queue.`,
      metric: source.detector.metric(PIPELINE_METRICS.objectsProcessed, {
        period: NO_DATA_PERIOD,
        statistic: 'Sum',
      }),
      threshold: 1,
      evaluationPeriods: hours,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.BREACHING,
    });
  }

  /** The poller failing (it throws when it cannot read its secret), and copies failed or lost. */
  private fdrAlarms(fdr: HouseFunction): Alarm[] {
    const count = (id: string, metric: IMetric, description: string) =>
      new Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    return [
      count(
        'FdrErrors',
        fdr.function.metricErrors({ period: ERROR_ALARM_PERIOD, statistic: 'Sum' }),
        "The FDR poller failed (its secret is missing or unreadable, or it timed out); the messages stay on CrowdStrike's queue.",
      ),
      count(
        'FdrObjectsFailed',
        fdr.metric(FDR_METRIC.objectsFailed, { period: ERROR_ALARM_PERIOD }),
        'The FDR poller could not copy an object; its message stays on the queue and is retried.',
      ),
      count(
        'FdrObjectsMissing',
        fdr.metric(FDR_METRIC.objectsMissing, { period: ERROR_ALARM_PERIOD }),
        "An object an FDR message listed was gone from CrowdStrike's bucket (FDR keeps files 7 days): that data is lost; the poller has been behind or down.",
      ),
    ];
  }

  private deadLetterAlarm(id: string, queue: IQueue, what: string): Alarm {
    return new Alarm(this, id, {
      alarmDescription: `A message reached the ${what}: it failed every retry and needs a look.`,
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: QUEUE_ALARM_PERIOD,
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  private widgets(props: PipelineMonitoringProps): IWidget[][] {
    const perSource = (metricName: string, label: string): IMetric[] =>
      props.sources.map((s) => s.detector.metric(metricName, { label: `${s.name} ${label}` }));
    const graph = (title: string, left: IMetric[], width: number, stacked = false): GraphWidget =>
      new GraphWidget({ title, left, width, height: WIDGET_HEIGHT, stacked });
    const third = DASHBOARD_WIDTH / 3;
    const half = DASHBOARD_WIDTH / 2;

    const skippedByReason = props.sources.map((s) =>
      graph(
        `${s.name}: records skipped by reason / min`,
        SKIP_REASONS.map((reason) => s.detector.metric(skipMetricName(reason), { label: reason })),
        half,
        true,
      ),
    );
    const duration: Metric[] = props.sources.flatMap((s) =>
      (['p50', 'p99', 'Maximum'] as const).map((statistic) =>
        s.detector.metric(PIPELINE_METRICS.objectDurationMs, {
          statistic,
          label: `${s.name} ${statistic}`,
        }),
      ),
    );
    const queueDepth: IMetric[] = props.sources.flatMap((s) => [
      s.queue.metricApproximateNumberOfMessagesVisible({
        label: `${s.name} queued`,
        period: Duration.minutes(1),
      }),
      s.queue.metricApproximateNumberOfMessagesNotVisible({
        label: `${s.name} in flight`,
        period: Duration.minutes(1),
      }),
      s.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        label: `${s.name} dead-lettered`,
        period: Duration.minutes(1),
      }),
    ]);
    const queueAge: IMetric[] = props.sources.map((s) =>
      s.queue.metricApproximateAgeOfOldestMessage({
        label: `${s.name} oldest message (s)`,
        period: Duration.minutes(1),
      }),
    );
    const lambda: IMetric[] = props.sources.flatMap((s) => [
      s.detector.function.metricInvocations({
        label: `${s.name} invocations`,
        period: Duration.minutes(1),
      }),
      s.detector.function.metricErrors({ label: `${s.name} errors`, period: Duration.minutes(1) }),
      s.detector.function.metricThrottles({
        label: `${s.name} throttles`,
        period: Duration.minutes(1),
      }),
    ]);

    return [
      [
        new TextWidget({
          markdown:
            '# T1102 Web Service detection\nDrop batches under `sysmon/` or `falcon/` in the log bucket; each object flows queue → function → alert topic. Counts are per minute.',
          width: DASHBOARD_WIDTH,
          height: 2,
        }),
      ],
      [
        graph(
          'Objects / min',
          [
            ...perSource(PIPELINE_METRICS.objectsProcessed, 'processed'),
            ...perSource(PIPELINE_METRICS.objectsFailed, 'failed'),
          ],
          third,
        ),
        graph('Bytes read / min', perSource(PIPELINE_METRICS.bytesRead, 'bytes'), third),
        graph(
          'Records / min',
          [
            ...perSource(PIPELINE_METRICS.recordsRead, 'read'),
            ...perSource(PIPELINE_METRICS.recordsSkipped, 'skipped'),
          ],
          third,
        ),
      ],
      skippedByReason,
      [
        graph(
          'Matches and alerts / min',
          [
            ...perSource(PIPELINE_METRICS.recordsMatched, 'matched records'),
            ...perSource(PIPELINE_METRICS.alertGroups, 'alert groups'),
            ...perSource(PIPELINE_METRICS.alertsPublished, 'alerts published'),
          ],
          third,
        ),
        graph('Object duration (ms)', duration, third),
        new GraphWidget({
          title: 'Queue depth',
          left: queueDepth,
          right: queueAge,
          width: third,
          height: WIDGET_HEIGHT,
        }),
      ],
      [
        graph('Functions / min', lambda, half),
        new AlarmStatusWidget({
          title: 'Alarms',
          alarms: this.alarms,
          width: half,
          height: WIDGET_HEIGHT,
        }),
      ],
      ...(props.fdr === undefined ? [] : [this.fdrWidgets(props.fdr, graph, half)]),
    ];
  }

  /** The FDR poller's row: what each minute's runs did with messages and files. */
  private fdrWidgets(
    fdr: HouseFunction,
    graph: (title: string, left: IMetric[], width: number) => GraphWidget,
    width: number,
  ): IWidget[] {
    const m = (name: string, label: string) => fdr.metric(name, { label });
    return [
      graph(
        'FDR messages / min',
        [
          m(FDR_METRIC.messagesReceived, 'received'),
          m(FDR_METRIC.messagesDeleted, 'deleted'),
          m(FDR_METRIC.messagesKept, 'kept for retry'),
        ],
        width,
      ),
      graph(
        'FDR files / min',
        [
          m(FDR_METRIC.objectsCopied, 'copied'),
          m(FDR_METRIC.objectsSkipped, 'already copied'),
          m(FDR_METRIC.objectsFailed, 'failed'),
          m(FDR_METRIC.objectsMissing, 'lost (gone from CrowdStrike)'),
        ],
        width,
      ),
    ];
  }
}
