import type { SkipReason } from '../lib/engine/types.ts';
import { METRIC, METRICS_NAMESPACE, skipMetricName } from '../lib/pipeline/telemetry.ts';
import type { DetectionSource } from './config.ts';

// The names the functions emit, from the code that emits them: a rename cannot leave the
// dashboard and alarms reading a metric nobody writes.
export { METRICS_NAMESPACE, skipMetricName };

/** Powertools Metrics adds the service name as this default dimension. */
export const SERVICE_DIMENSION = 'service';

/** POWERTOOLS_SERVICE_NAME per source, and so the `service` dimension of every metric. */
export const SERVICE_NAMES: Readonly<Record<DetectionSource, string>> = {
  sysmon: 't1102-sysmon',
  falcon: 't1102-falcon',
};

/** The metric names the functions emit (EMF, namespace T1102Detection, dimension service). */
export const PIPELINE_METRICS = METRIC;

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
  'damaged-header': true,
  'damaged-chunk': true,
  'damaged-record': true,
};

export const SKIP_REASONS: readonly SkipReason[] = Object.keys(SKIP_REASON_SET) as SkipReason[];
