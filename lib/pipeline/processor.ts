import type { ObjectDamage, ScanLimits, ScanStats } from '../engine/index.ts';
import { type ContextStore, scanObject } from '../engine/index.ts';
import type { SourceName } from '../event/types.ts';
import type { CompiledExceptions, CompiledRule } from '../rule/index.ts';
import { SOURCE_PLUGINS } from '../sources/index.ts';
import { StateError } from '../state/index.ts';
import { ObjectReadError, PublishError } from './errors.ts';
import { type AlertMessage, buildAlertMessage } from './message.ts';
import { type ObjectRef, objectId } from './notifications.ts';
import { openObject, type S3Reader } from './objects.ts';
import type { AlertPolicy } from './policy.ts';
import type { PublishResult } from './publish.ts';
import {
  QuarantineCollector,
  quarantineKey,
  type S3Writer,
  writeQuarantine,
} from './quarantine.ts';
import {
  type PipelineLogger,
  type PipelineMetrics,
  recordObjectMetrics,
  totalSkipped,
} from './telemetry.ts';

/** Where processing stopped when an object failed. */
export type FailureStage = 'read' | 'state' | 'quarantine' | 'policy' | 'alert' | 'publish';

export interface ObjectOutcome {
  ref: ObjectRef;
  objectId: string;
  ok: boolean;
  stage?: FailureStage;
  error?: Error;
  stats?: ScanStats;
  /** The object could not be read to its end (a permanent condition: quarantined, not retried). */
  damage?: ObjectDamage;
  /** Alert messages built from the policy's decisions. */
  alerts: number;
  alertsPublished: number;
  alertsTrimmed: number;
  quarantined: number;
  quarantineKey?: string;
  durationMs: number;
}

export interface ObjectProcessorDeps {
  source: SourceName;
  /** A shape of the family to read every object as (lib/sources); default: sniffed. */
  shape?: string | undefined;
  rule: CompiledRule;
  /** A deployment's known-good activity, left out of the alerts and counted. */
  exceptions?: CompiledExceptions;
  s3: S3Reader & S3Writer;
  publisher: { publish(messages: readonly AlertMessage[]): Promise<PublishResult> };
  policy: AlertPolicy;
  logger: PipelineLogger;
  metrics: PipelineMetrics;
  quarantine: {
    /** Ends with `/`. */
    prefix: string;
    /** Undefined: the object's own bucket. */
    bucket: string | undefined;
    maxRecords: number;
    maxBytes: number;
  };
  scanLimits?: Partial<ScanLimits>;
  /** Cross-object state: group by tumbling event-time windows of this many ms. */
  windowMs?: number;
  /** Cross-object state: process and host context that outlives one object. */
  contextStore?: ContextStore;
  now?: () => Date;
}

/**
 * Builds the per-object step: stream the object through the engine, quarantine what could not be
 * parsed, ask the policy which groups to alert on, publish them, and account for it all in one
 * log line and one EMF document. Never throws: a failure is the outcome's `stage` and `error`.
 *
 * Only transient conditions fail an object (GetObject or the stream failing, a quarantine write
 * or a publish failing), so that SQS retries it. A damaged object (truncated gzip, not a log, a
 * gzip bomb past MAX_DECOMPRESSED_BYTES) will not get better: what was read is alerted on, the
 * damage is quarantined, and it succeeds.
 *
 * `signal` (the invocation's deadline) stops the read; the object then fails, alone.
 */
export function createObjectProcessor(
  deps: ObjectProcessorDeps,
): (ref: ObjectRef, signal?: AbortSignal) => Promise<ObjectOutcome> {
  const now = deps.now ?? (() => new Date());
  return async (ref, signal) => {
    const started = performance.now();
    const origin = `s3://${ref.bucket}/${ref.key}`;
    const outcome: ObjectOutcome = {
      ref,
      objectId: objectId(ref),
      ok: false,
      alerts: 0,
      alertsPublished: 0,
      alertsTrimmed: 0,
      quarantined: 0,
      durationMs: 0,
    };
    const collector = new QuarantineCollector(origin, deps.quarantine);
    let stage: FailureStage = 'read';
    try {
      const opened = await openObject(deps.s3, ref, signal);
      let result: Awaited<ReturnType<typeof scanObject>>;
      try {
        result = await scanObject(opened.body, {
          origin,
          sources: SOURCE_PLUGINS,
          source: deps.shape ?? deps.source,
          rule: deps.rule,
          ...(deps.exceptions ? { exceptions: deps.exceptions } : {}),
          ...(deps.scanLimits ? { limits: deps.scanLimits } : {}),
          ...(deps.windowMs === undefined ? {} : { windowMs: deps.windowMs }),
          ...(deps.contextStore === undefined ? {} : { contextStore: deps.contextStore }),
          onSkip: (skip) => collector.add(skip),
        });
      } catch (err) {
        // The context store's table failing is the state layer's fault, not the object's.
        if (err instanceof StateError) {
          stage = 'state';
          throw err;
        }
        throw new ObjectReadError(origin, `reading failed: ${(err as Error).message}`, {
          cause: err,
        });
      } finally {
        opened.close();
      }
      outcome.stats = result.stats;
      if (result.damage?.reason === 'read-failed') {
        // The stream broke part-way: publishing a partial count now and the full one on the
        // retry would give two different alerts with one id.
        throw new ObjectReadError(origin, result.damage.message);
      }
      if (result.damage) {
        outcome.damage = result.damage;
        collector.damage(result.damage);
      }

      stage = 'quarantine';
      if (!collector.isEmpty) {
        // Written before publishing: a retry after a failed publish rewrites the same key.
        const key = quarantineKey(deps.quarantine.prefix, deps.source, ref.key, now());
        await writeQuarantine(deps.s3, deps.quarantine.bucket ?? ref.bucket, key, collector);
        outcome.quarantineKey = key;
        outcome.quarantined = collector.records;
      }

      stage = 'policy';
      const decisions = await deps.policy.decide({
        objectId: outcome.objectId,
        source: deps.source,
        groups: result.groups,
      });

      stage = 'alert';
      const messages = decisions.map((d) =>
        buildAlertMessage(deps.rule.rule, d.group, {
          activity: d.activity,
          source: deps.source,
          ...(d.window === undefined ? {} : { window: d.window }),
        }),
      );
      outcome.alerts = messages.length;
      outcome.alertsTrimmed = messages.filter((m) => m.trimmed).length;

      stage = 'publish';
      if (messages.length > 0) {
        const published = await deps.publisher.publish(messages);
        outcome.alertsPublished = published.published;
        if (published.failures.length > 0) throw new PublishError(published.failures);
        // Recorded only once every message is out: a retry republishes the same finding ids.
        for (const d of decisions) await d.ack();
      }
      outcome.ok = true;
    } catch (err) {
      outcome.stage = stage;
      outcome.error = err instanceof Error ? err : new Error(String(err));
    }
    outcome.durationMs = performance.now() - started;
    report(deps, outcome);
    return outcome;
  };
}

function report(deps: ObjectProcessorDeps, o: ObjectOutcome): void {
  const s = o.stats;
  recordObjectMetrics(deps.metrics, {
    failed: !o.ok,
    bytesRead: s?.bytesIn ?? 0,
    recordsRead: s?.recordsRead ?? 0,
    skipped: s?.skipped ?? {},
    matched: s?.matched ?? 0,
    excepted: s?.excepted ?? 0,
    groups: s?.groups ?? 0,
    alertsPublished: o.alertsPublished,
    durationMs: o.durationMs,
  });
  const fields = {
    bucket: o.ref.bucket,
    key: o.ref.key,
    objectId: o.objectId,
    source: deps.source,
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
    alerts: o.alerts,
    alertsPublished: o.alertsPublished,
    alertsTrimmed: o.alertsTrimmed,
    quarantined: o.quarantined,
    ...(o.quarantineKey === undefined ? {} : { quarantineKey: o.quarantineKey }),
    ...(o.damage === undefined ? {} : { damage: o.damage }),
    durationMs: Math.round(o.durationMs),
  };
  if (!o.ok) {
    deps.logger.error('object failed', { ...fields, stage: o.stage, error: o.error });
  } else if (o.damage) {
    deps.logger.warn('object processed; it is damaged and was read up to the damage', fields);
  } else {
    deps.logger.info('object processed', fields);
  }
}
