import { type AlertGroup, Grouper } from '../alert/index.ts';
import type { ObjectDamage, ScanLimits, ScanResult, ScanStats } from '../engine/index.ts';
import {
  type ContextStore,
  MAX_ALERT_GROUPS,
  MAX_SUMMARY_GROUPS,
  resolveWaiting,
  scanObject,
} from '../engine/index.ts';
import type { SourceName } from '../event/types.ts';
import type { CompiledExceptions, CompiledRule } from '../rule/index.ts';
import { SOURCE_PLUGINS } from '../sources/index.ts';
import type { ObjectClaims, WaitingStore } from '../state/index.ts';
import { type TimeBudget, timeBudget } from './budget.ts';
import { type AlertSink, deliverAlerts } from './deliver.ts';
import {
  ContextStoreError,
  ObjectInFlightError,
  ObjectReadError,
  TimeBudgetError,
} from './errors.ts';
import { buildAlertMessage } from './message.ts';
import { type ObjectRef, objectId } from './notifications.ts';
import { openObject, type S3Reader } from './objects.ts';
import type { AlertPolicy } from './policy.ts';
import {
  QuarantineCollector,
  quarantineKey,
  type S3Writer,
  writeQuarantine,
} from './quarantine.ts';
import { report } from './report.ts';
import type { PipelineLogger, PipelineMetrics } from './telemetry.ts';

/** Where processing stopped when an object failed. */
export type FailureStage =
  | 'claim'
  | 'read'
  | 'context'
  | 'quarantine'
  | 'policy'
  | 'alert'
  | 'publish'
  | 'acknowledge';

export interface ObjectOutcome {
  ref: ObjectRef;
  objectId: string;
  ok: boolean;
  stage?: FailureStage;
  error?: Error;
  stats?: ScanStats;
  /** The object could not be read to its end (a permanent condition: quarantined, not retried). */
  damage?: ObjectDamage;
  /** Not processed, and rightly so: gone from S3, or done already by another delivery. */
  skipped?: 'missing' | 'already-processed';
  /** This invocation took the object over from one that never finished (killed or timed out). */
  takenOver: boolean;
  /** Candidates kept waiting for their process context (state table), and dropped for want of it. */
  candidatesWaiting: number;
  candidatesDropped: number;
  /** Waiting candidates (of this object or earlier ones) this object resolved. */
  candidatesResolved: number;
  /** Alerts the policy decided on. */
  alerts: number;
  alertsPublished: number;
  /** Published and recorded as published: a retry does not send them again. */
  alertsAcknowledged: number;
  alertsTrimmed: number;
  quarantined: number;
  quarantineKey?: string;
  durationMs: number;
}

export interface ObjectProcessorDeps {
  source: SourceName;
  /** A shape of the family to read every object as (lib/sources); default: sniffed. */
  shape?: string | undefined;
  /** A deployment's known-good activity, left out of the alerts and counted. */
  exceptions?: CompiledExceptions;
  rule: CompiledRule;
  s3: S3Reader & S3Writer;
  publisher: AlertSink;
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
  /** Cross-object state: in-flight claims, so concurrent deliveries of an object publish once. */
  claims?: ObjectClaims;
  /** Cross-object state: candidates waiting for context another object brings. */
  waiting?: WaitingStore;
  now?: () => Date;
}

export interface ProcessOptions {
  /** The invocation's deadline: stops the read. */
  signal?: AbortSignal;
  /** The invocation's time: checked before the policy and before each publish chunk. */
  budget?: TimeBudget;
}

/**
 * The context store as one object uses it: its errors marked as such (a DynamoDB failure inside
 * the scan is not a read failure), the process keys it saved noted in `saved`, and, on a retry,
 * no lookup of a process an earlier attempt left candidates waiting for (`held`): those stay
 * waiting and are claimed like anyone's, since another object may have resolved them meanwhile.
 */
function tagged(
  store: ContextStore,
  saved: Set<string>,
  held?: (keys: string[]) => Promise<Set<string>>,
): ContextStore {
  return {
    lookup: async (request) => {
      try {
        const hidden =
          held && request.processes.length > 0 ? await held(request.processes) : undefined;
        return await store.lookup(
          hidden && hidden.size > 0
            ? { ...request, processes: request.processes.filter((k) => !hidden.has(k)) }
            : request,
        );
      } catch (err) {
        throw new ContextStoreError('lookup', { cause: err });
      }
    },
    save: async (context) => {
      try {
        await store.save(context);
      } catch (err) {
        throw new ContextStoreError('save', { cause: err });
      }
      for (const key of context.processes.keys()) saved.add(key);
    },
  };
}

/**
 * Builds the per-object step: claim the object, stream it through the engine, quarantine what
 * could not be parsed, ask the policy which groups to alert on, publish and acknowledge them
 * chunk by chunk, and account for it all in one log line and one EMF document. Never throws: a
 * failure is the outcome's `stage` and `error`.
 *
 * Only transient conditions fail an object (a service failing, the time running out, another
 * invocation holding it), so that SQS retries it. A damaged object (truncated gzip, not a log, a
 * gzip bomb past MAX_DECOMPRESSED_BYTES) will not get better: what was read is alerted on, the
 * damage is quarantined, and it succeeds. An object that no longer exists is logged and skipped.
 */
export function createObjectProcessor(
  deps: ObjectProcessorDeps,
): (ref: ObjectRef, options?: ProcessOptions) => Promise<ObjectOutcome> {
  const now = deps.now ?? (() => new Date());
  return async (ref, options = {}) => {
    const started = performance.now();
    const budget = options.budget ?? timeBudget();
    const outcome: ObjectOutcome = {
      ref,
      objectId: objectId(ref),
      ok: false,
      takenOver: false,
      candidatesWaiting: 0,
      candidatesDropped: 0,
      candidatesResolved: 0,
      alerts: 0,
      alertsPublished: 0,
      alertsAcknowledged: 0,
      alertsTrimmed: 0,
      quarantined: 0,
      durationMs: 0,
    };
    let stage: FailureStage = 'claim';
    let claim: Awaited<ReturnType<ObjectClaims['claim']>> | undefined;
    try {
      if (deps.claims) {
        claim = await deps.claims.claim(outcome.objectId, budget.deadline());
        if (claim.state === 'completed') outcome.skipped = 'already-processed';
        if (claim.state === 'in-progress') throw new ObjectInFlightError(claim.until);
        if (claim.state === 'claimed') outcome.takenOver = claim.takenOver;
      }
      if (outcome.skipped === undefined) {
        const retry = claim?.state === 'claimed' && claim.retry;
        await processClaimed(ref, outcome, { signal: options.signal, budget, retry }, (s) => {
          stage = s;
        });
      }
      outcome.ok = true;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (err instanceof ContextStoreError) stage = 'context';
      if (err instanceof ObjectReadError && err.missing) {
        // The object was deleted (or the notified version replaced) before it was read: no retry
        // will find it.
        outcome.ok = true;
        outcome.skipped = 'missing';
        outcome.error = error;
      } else {
        outcome.stage = stage;
        outcome.error = error;
      }
    }
    if (claim?.state === 'claimed') await settle(claim, outcome, deps.logger);
    outcome.durationMs = performance.now() - started;
    report(deps, outcome);
    return outcome;
  };

  async function processClaimed(
    ref: ObjectRef,
    outcome: ObjectOutcome,
    run: { signal: AbortSignal | undefined; budget: TimeBudget; retry: boolean },
    at: (stage: FailureStage) => void,
  ): Promise<void> {
    const { budget } = run;
    at('read');
    const origin = `s3://${ref.bucket}/${ref.key}`;
    const collector = new QuarantineCollector(origin, deps.quarantine);
    const saved = new Set<string>();
    const waiting = deps.waiting;
    const held =
      run.retry && waiting ? (keys: string[]) => waiting.keptBy(keys, outcome.objectId) : undefined;
    const store = deps.contextStore && tagged(deps.contextStore, saved, held);
    const result = await scan(ref, origin, collector, run.signal, store);
    outcome.stats = result.stats;
    at('context');
    // The store itself, not `store`: a retry's own waiting candidates are claimed like anyone's.
    const resolved =
      store && deps.contextStore
        ? await settleWaiting(result, saved, deps.contextStore, outcome)
        : [];
    outcome.candidatesDropped = result.stats.contextless - outcome.candidatesWaiting;
    if (result.damage) {
      outcome.damage = result.damage;
      collector.damage(result.damage);
    }

    at('quarantine');
    if (!collector.isEmpty) {
      // Written before publishing: a retry after a failed publish rewrites the same key.
      const key = quarantineKey(deps.quarantine.prefix, deps.source, ref.key, now());
      await writeQuarantine(deps.s3, deps.quarantine.bucket ?? ref.bucket, key, collector);
      outcome.quarantineKey = key;
      outcome.quarantined = collector.records;
    }

    at('policy');
    const left = budget.remainingMs();
    if (left < budget.stepReserveMs)
      throw new TimeBudgetError('policy', left, budget.stepReserveMs);
    const decisions = await deps.policy.decide({
      objectId: outcome.objectId,
      source: deps.source,
      groups: [...result.groups, ...resolved],
    });
    outcome.alerts = decisions.length;

    at('publish');
    const delivered = await deliverAlerts({
      decisions,
      sink: deps.publisher,
      budget,
      build: (d) =>
        buildAlertMessage(deps.rule.rule, d.group, {
          activity: d.activity,
          source: deps.source,
          ...(d.window === undefined ? {} : { window: d.window }),
        }),
    });
    outcome.alertsPublished = delivered.published;
    outcome.alertsAcknowledged = delivered.acknowledged;
    outcome.alertsTrimmed = delivered.trimmed;
    if (delivered.failure) {
      at(delivered.failure.stage);
      throw delivered.failure.error;
    }
  }

  /**
   * Context that waits: keeps this object's candidates that lack their process context, then
   * looks that context up again (another object may have saved it meanwhile) and claims, for
   * this object, the waiting candidates of every process found or saved here, this object's and
   * earlier ones'. Returns the groups of those that match.
   */
  async function settleWaiting(
    result: ScanResult,
    saved: ReadonlySet<string>,
    store: ContextStore,
    outcome: ObjectOutcome,
  ): Promise<AlertGroup[]> {
    const waiting = deps.waiting;
    if (!waiting) return [];
    const own = [...new Set(result.waiting.map((c) => c.processKey))];
    if (result.waiting.length > 0) {
      await waiting.keep(result.waiting, outcome.objectId);
      outcome.candidatesWaiting = result.waiting.length;
    }
    const found = own.length > 0 ? await store.lookup({ processes: own, hosts: [] }) : undefined;
    const keys = [...(found?.processes.keys() ?? []), ...saved];
    if (keys.length === 0) return [];
    const claimed = await waiting.claim(keys, outcome.objectId);
    if (claimed.length === 0) return [];
    const context = await store.lookup({
      processes: [...new Set(claimed.map((c) => c.processKey))],
      hosts: [
        ...new Set(
          claimed.flatMap((c) =>
            c.host === undefined && c.event.device.uid !== undefined ? [c.event.device.uid] : [],
          ),
        ),
      ],
    });
    const grouper = new Grouper(deps.windowMs, {
      maxGroups: deps.scanLimits?.maxAlertGroups ?? MAX_ALERT_GROUPS,
      maxSummaries: MAX_SUMMARY_GROUPS,
      listedDomain: (d) => deps.rule.listedDomain(d)?.domain,
    });
    for (const c of claimed) {
      const process = context.processes.get(c.processKey);
      if (process === undefined) continue;
      const sensor = c.event.device.uid;
      const match = resolveWaiting(
        deps.rule,
        c,
        process,
        sensor === undefined ? undefined : context.hosts.get(sensor),
        deps.exceptions,
      );
      outcome.candidatesResolved++;
      if (match) grouper.add(match);
    }
    return grouper.flush();
  }

  async function scan(
    ref: ObjectRef,
    origin: string,
    collector: QuarantineCollector,
    signal: AbortSignal | undefined,
    contextStore: ContextStore | undefined,
  ): Promise<ScanResult> {
    const opened = await openObject(deps.s3, ref, signal);
    let result: ScanResult;
    try {
      result = await scanObject(opened.body, {
        origin,
        sources: SOURCE_PLUGINS,
        source: deps.shape ?? deps.source,
        rule: deps.rule,
        ...(deps.exceptions ? { exceptions: deps.exceptions } : {}),
        ...(deps.scanLimits ? { limits: deps.scanLimits } : {}),
        ...(deps.windowMs === undefined ? {} : { windowMs: deps.windowMs }),
        ...(contextStore === undefined ? {} : { contextStore }),
        onSkip: (skip) => collector.add(skip),
      });
    } catch (err) {
      if (err instanceof ContextStoreError) throw err;
      throw new ObjectReadError(origin, `reading failed: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      opened.close();
    }
    if (result.damage?.reason === 'read-failed') {
      // The stream broke part-way: publishing a partial count now and the full one on the
      // retry would give two different alerts with one id.
      throw new ObjectReadError(origin, result.damage.message);
    }
    return result;
  }
}

/** Marks the claim done, or lets it go at once so a retry need not wait for it to lapse. */
async function settle(
  claim: Extract<Awaited<ReturnType<ObjectClaims['claim']>>, { state: 'claimed' }>,
  outcome: ObjectOutcome,
  logger: PipelineLogger,
): Promise<void> {
  try {
    await (outcome.ok ? claim.complete() : claim.release());
  } catch (err) {
    // The claim lapses at the invocation's deadline anyway; the outcome stands.
    logger.warn('object claim not updated; it lapses at the invocation deadline', {
      objectId: outcome.objectId,
      stage: 'claim',
      failedService: 'DynamoDB',
      error: err as Error,
    });
  }
}
