import type { GroupOverflow } from '../alert/index.ts';
import type { SourceName } from '../event/types.ts';
import { ObjectInFlightError, TimeBudgetError } from './errors.ts';
import type { FailureStage, ObjectOutcome, ObjectProcessorDeps } from './processor.ts';
import { recordObjectMetrics, totalSkipped } from './telemetry.ts';

/** What the report reads of the processor's dependencies. */
export type ReportDeps = Pick<
  ObjectProcessorDeps,
  'source' | 'policy' | 'logger' | 'metrics' | 'scanLimits' | 'waiting'
>;

/** The service each stage talks to: named in every failure (`failedService`; Powertools keeps `service`). */
const SERVICE: Record<FailureStage, string | undefined> = {
  claim: 'DynamoDB',
  read: 'S3',
  context: 'DynamoDB',
  quarantine: 'S3',
  policy: 'DynamoDB',
  alert: undefined,
  publish: 'SNS',
  acknowledge: 'DynamoDB',
};

const NO_OVERFLOW: GroupOverflow = { summarized: 0, dropped: 0 };

/**
 * Accounts for one object: one EMF document with its counts and one log line whose level and
 * message say how it ended (processed, damaged, capped, candidates dropped, skipped, backing off,
 * or failed at a stage of a service, with what its retry will send again).
 */
export function report(deps: ReportDeps, o: ObjectOutcome): void {
  const s = o.stats;
  const overflow = s?.overflow ?? NO_OVERFLOW;
  // What a retry sends again: with stored acknowledgements only what was not acknowledged.
  const resend = o.ok
    ? 0
    : deps.policy.remembersPublished
      ? Math.max(0, o.alerts - o.alertsAcknowledged)
      : o.alerts;
  recordObjectMetrics(deps.metrics, {
    failed: !o.ok,
    bytesRead: s?.bytesIn ?? 0,
    recordsRead: s?.recordsRead ?? 0,
    skipped: s?.skipped ?? {},
    matched: s?.matched ?? 0,
    excepted: s?.excepted ?? 0,
    groups: s?.groups ?? 0,
    alertsPublished: o.alertsPublished,
    alertsToResend: resend,
    matchesSummarized: overflow.summarized,
    matchesDropped: overflow.dropped,
    candidatesWaiting: o.candidatesWaiting,
    candidatesDropped: o.candidatesDropped,
    candidatesResolved: o.candidatesResolved,
    takenOver: o.takenOver,
    durationMs: o.durationMs,
  });
  logOutcome(deps, o, logFields(deps.source, o), resend);
}

function logFields(source: SourceName, o: ObjectOutcome): Record<string, unknown> {
  const s = o.stats;
  const overflow = s?.overflow ?? NO_OVERFLOW;
  return {
    bucket: o.ref.bucket,
    key: o.ref.key,
    objectId: o.objectId,
    source,
    notification: [...o.ref.via, o.ref.shape].join('>'),
    bytes: s?.bytesIn ?? 0,
    bytesDecoded: s?.bytesDecoded ?? 0,
    recordsRead: s?.recordsRead ?? 0,
    recordsParsed: s?.recordsParsed ?? 0,
    recordsSkipped: totalSkipped(s?.skipped ?? {}),
    skipped: s?.skipped ?? {},
    matched: s?.matched ?? 0,
    excepted: s?.excepted ?? 0,
    groups: s?.groups ?? 0,
    ...(overflow.summarized + overflow.dropped > 0
      ? { matchesSummarized: overflow.summarized, matchesDropped: overflow.dropped }
      : {}),
    ...(o.candidatesWaiting > 0 ? { candidatesWaiting: o.candidatesWaiting } : {}),
    ...(o.candidatesResolved > 0 ? { candidatesResolved: o.candidatesResolved } : {}),
    ...(o.candidatesDropped > 0 ? { candidatesDropped: o.candidatesDropped } : {}),
    alerts: o.alerts,
    alertsPublished: o.alertsPublished,
    alertsAcknowledged: o.alertsAcknowledged,
    alertsTrimmed: o.alertsTrimmed,
    quarantined: o.quarantined,
    ...(o.quarantineKey === undefined ? {} : { quarantineKey: o.quarantineKey }),
    ...(o.damage === undefined ? {} : { damage: o.damage }),
    ...(o.takenOver ? { takenOver: true } : {}),
    durationMs: Math.round(o.durationMs),
  };
}

function logOutcome(
  deps: ReportDeps,
  o: ObjectOutcome,
  fields: Record<string, unknown>,
  resend: number,
): void {
  const overflow = o.stats?.overflow ?? NO_OVERFLOW;
  if (o.takenOver) {
    deps.logger.warn(
      'object taken over: an earlier invocation claimed it and never finished (killed or timed out)',
      fields,
    );
  }
  if (o.skipped === 'missing') {
    deps.logger.warn('object does not exist; not retried', { ...fields, error: o.error });
  } else if (o.skipped === 'already-processed') {
    deps.logger.info('object already processed by another delivery; skipped', fields);
  } else if (!o.ok && o.error instanceof ObjectInFlightError) {
    deps.logger.warn('object is being processed by another invocation; backing off', {
      ...fields,
      stage: o.stage,
      error: o.error,
    });
  } else if (!o.ok) {
    const stage = o.stage ?? 'read';
    // Running out of time is no service's failure.
    const service = o.error instanceof TimeBudgetError ? undefined : SERVICE[stage];
    deps.logger.error(`object failed at ${stage}`, {
      ...fields,
      stage,
      ...(service === undefined ? {} : { failedService: service }),
      alertsToResend: resend,
      error: o.error,
    });
  } else if (o.damage) {
    deps.logger.warn('object processed; it is damaged and was read up to the damage', fields);
  } else if (overflow.summarized + overflow.dropped > 0) {
    deps.logger.warn(
      `object processed; past its cap of ${deps.scanLimits?.maxAlertGroups ?? 'default'} alert groups, ${overflow.summarized} matches were summarized and ${overflow.dropped} only counted`,
      fields,
    );
  } else if (o.candidatesDropped > 0) {
    deps.logger.warn(
      `object processed; ${o.candidatesDropped} candidate(s) dropped for want of their process context${deps.waiting ? ' (past the waiting bound)' : ' (no state table to wait in)'}`,
      fields,
    );
  } else {
    deps.logger.info('object processed', fields);
  }
}
