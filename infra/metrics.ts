import type { SkipReason } from '../lib/engine/types.ts';
import type { DetectionSource } from './config.ts';

/** POWERTOOLS_METRICS_NAMESPACE: where the functions put their EMF metrics. */
export const METRICS_NAMESPACE = 'T1102Detection';

/** Powertools Metrics adds the service name as this default dimension. */
export const SERVICE_DIMENSION = 'service';

/** POWERTOOLS_SERVICE_NAME per source, and so the `service` dimension of every metric. */
export const SERVICE_NAMES: Readonly<Record<DetectionSource, string>> = {
  sysmon: 't1102-sysmon',
  falcon: 't1102-falcon',
};

/** The metric names the functions emit (EMF, namespace T1102Detection, dimension service). */
export const PIPELINE_METRICS = {
  objectsProcessed: 'ObjectsProcessed',
  objectsFailed: 'ObjectsFailed',
  bytesRead: 'BytesRead',
  recordsRead: 'RecordsRead',
  recordsSkipped: 'RecordsSkipped',
  recordsMatched: 'RecordsMatched',
  alertGroups: 'AlertGroups',
  alertsPublished: 'AlertsPublished',
  objectDurationMs: 'ObjectDurationMs',
} as const;

// A record over every SkipReason: the compiler rejects this object when the engine adds or
// renames a reason, so the dashboard cannot silently miss one.
const SKIP_REASON_SET: Readonly<Record<SkipReason, true>> = {
  'record-too-large': true,
  'invalid-json': true,
  'not-an-object': true,
  'invalid-xml': true,
  'xml-dtd-refused': true,
  'unclosed-event': true,
  'truncated-record': true,
  'invalid-encoding': true,
  'unrecognised-record': true,
  'context-evicted': true,
};

export const SKIP_REASONS: readonly SkipReason[] = Object.keys(SKIP_REASON_SET) as SkipReason[];

/** The per-reason counter the functions emit next to RecordsSkipped. */
export function skipMetricName(reason: SkipReason): string {
  return `Skipped-${reason}`;
}
