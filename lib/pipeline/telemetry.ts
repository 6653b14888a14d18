import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { ENV } from '../config/env.ts';
import type { SkipReason } from '../engine/index.ts';

/** Namespace of the EMF metrics (POWERTOOLS_METRICS_NAMESPACE overrides it, the CDK app sets it). */
export const METRICS_NAMESPACE = ENV.POWERTOOLS_METRICS_NAMESPACE.default;

/** Metric names, one EMF document per object (the CDK dashboard and alarms read these). */
export const METRIC = {
  objectsProcessed: 'ObjectsProcessed',
  objectsFailed: 'ObjectsFailed',
  bytesRead: 'BytesRead',
  recordsRead: 'RecordsRead',
  recordsSkipped: 'RecordsSkipped',
  recordsMatched: 'RecordsMatched',
  recordsExcepted: 'RecordsExcepted',
  alertGroups: 'AlertGroups',
  alertsPublished: 'AlertsPublished',
  alertsToResend: 'AlertsToResend',
  matchesSummarized: 'MatchesSummarized',
  matchesDropped: 'MatchesDropped',
  objectsTakenOver: 'ObjectsTakenOver',
  candidatesWaiting: 'CandidatesWaiting',
  candidatesDropped: 'CandidatesDropped',
  candidatesResolved: 'CandidatesResolved',
  candidatesExpired: 'CandidatesExpired',
  objectDurationMs: 'ObjectDurationMs',
} as const;

/** The per-reason counter next to RecordsSkipped. */
export const skipMetricName = (reason: SkipReason): string => `Skipped-${reason}`;

/** What the pipeline needs of Powertools Logger; tests pass a recorder. */
export type PipelineLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
/** What the pipeline needs of Powertools Metrics (whose methods also return it, for chaining). */
export interface PipelineMetrics {
  addMetric(name: string, unit: Parameters<Metrics['addMetric']>[1], value: number): unknown;
  publishStoredMetrics(): unknown;
}

export interface ObjectCounts {
  failed: boolean;
  bytesRead: number;
  recordsRead: number;
  skipped: Partial<Record<SkipReason, number>>;
  matched: number;
  /** Matches a deployment exception covers (not alerted on). */
  excepted: number;
  groups: number;
  alertsPublished: number;
  /** Alerts a retry of a failed object will send (again, for those already published). */
  alertsToResend: number;
  /** Matches past the per-object group cap: folded into summaries, or only counted. */
  matchesSummarized: number;
  matchesDropped: number;
  /** Candidates lacking process context: kept waiting, dropped, and (earlier ones) resolved here. */
  candidatesWaiting: number;
  candidatesDropped: number;
  candidatesResolved: number;
  /** Taken over from an invocation that claimed the object and never finished. */
  takenOver: boolean;
  durationMs: number;
}

export const totalSkipped = (skipped: Partial<Record<SkipReason, number>>): number =>
  Object.values(skipped).reduce((a, b) => a + (b ?? 0), 0);

/**
 * Emits one EMF document with the object's counts. Added and flushed in one synchronous step,
 * so objects processed concurrently never mix their values.
 */
export function recordObjectMetrics(metrics: PipelineMetrics, c: ObjectCounts): void {
  metrics.addMetric(METRIC.objectsProcessed, MetricUnit.Count, 1);
  metrics.addMetric(METRIC.objectsFailed, MetricUnit.Count, c.failed ? 1 : 0);
  metrics.addMetric(METRIC.bytesRead, MetricUnit.Bytes, c.bytesRead);
  metrics.addMetric(METRIC.recordsRead, MetricUnit.Count, c.recordsRead);
  metrics.addMetric(METRIC.recordsSkipped, MetricUnit.Count, totalSkipped(c.skipped));
  metrics.addMetric(METRIC.recordsMatched, MetricUnit.Count, c.matched);
  metrics.addMetric(METRIC.recordsExcepted, MetricUnit.Count, c.excepted);
  metrics.addMetric(METRIC.alertGroups, MetricUnit.Count, c.groups);
  metrics.addMetric(METRIC.alertsPublished, MetricUnit.Count, c.alertsPublished);
  metrics.addMetric(METRIC.alertsToResend, MetricUnit.Count, c.alertsToResend);
  metrics.addMetric(METRIC.matchesSummarized, MetricUnit.Count, c.matchesSummarized);
  metrics.addMetric(METRIC.matchesDropped, MetricUnit.Count, c.matchesDropped);
  metrics.addMetric(METRIC.objectsTakenOver, MetricUnit.Count, c.takenOver ? 1 : 0);
  metrics.addMetric(METRIC.candidatesWaiting, MetricUnit.Count, c.candidatesWaiting);
  metrics.addMetric(METRIC.candidatesDropped, MetricUnit.Count, c.candidatesDropped);
  metrics.addMetric(METRIC.candidatesResolved, MetricUnit.Count, c.candidatesResolved);
  metrics.addMetric(METRIC.objectDurationMs, MetricUnit.Milliseconds, Math.round(c.durationMs));
  for (const [reason, n] of Object.entries(c.skipped)) {
    if (n) metrics.addMetric(skipMetricName(reason as SkipReason), MetricUnit.Count, n);
  }
  metrics.publishStoredMetrics();
}
