/** Base class of every error the pipeline (the Lambda side of the engine) raises. */
export class PipelineError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PipelineError';
  }
}

/**
 * The environment does not configure a working function. Every problem is reported at once, one
 * per line (`NAME: what is wrong`), so a deployment is fixed in one pass. Thrown at cold start.
 */
export class ConfigError extends PipelineError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options?: ErrorOptions) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(
      `invalid configuration (${count}):\n${problems.map((p) => `  ${p}`).join('\n')}`,
      options,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** A notification (an SQS body, an SNS message, an event) is not a shape the functions read. */
export class NotificationError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NotificationError';
  }
}

/** GetObject failed, or the object's stream broke while it was read; `origin` is `s3://bucket/key`. */
export class ObjectReadError extends PipelineError {
  readonly origin: string;
  /** True when S3 says the object (or the notified version) does not exist. */
  readonly missing: boolean;
  constructor(origin: string, message: string, options?: ErrorOptions & { missing?: boolean }) {
    super(`${origin}: ${message}`, options);
    this.name = 'ObjectReadError';
    this.origin = origin;
    this.missing = options?.missing ?? false;
  }
}

/**
 * The invocation's time ran out while an object was still being read. Reading stops this early so
 * that the other objects of the invocation still finish and answer; only this object is retried.
 */
export class ReadDeadlineError extends PipelineError {
  constructor(reserveMs: number, options?: ErrorOptions) {
    const reserve =
      reserveMs >= 1000 ? `${Math.round(reserveMs / 1000)} s` : `${Math.round(reserveMs)} ms`;
    super(
      `the invocation's time ran out before the object was read to its end (reading stops ${reserve} before the function's timeout); raise the function's timeout or deliver smaller objects`,
      options,
    );
    this.name = 'ReadDeadlineError';
  }
}

/** Some alerts of an object could not be published, even after retries. */
export class PublishError extends PipelineError {
  readonly failures: readonly PublishFailure[];
  constructor(failures: readonly PublishFailure[], options?: ErrorOptions) {
    const first = failures[0];
    const detail = first ? `: ${first.code} ${first.message}` : '';
    super(`${failures.length} alert(s) not published${detail}`, options);
    this.name = 'PublishError';
    this.failures = failures;
  }
}

/** One alert that did not reach the topic: the PublishBatch entry id, SNS's code and message. */
export interface PublishFailure {
  id: string;
  /** The alert's position in the messages given to `publish`. */
  index: number;
  code: string;
  message: string;
  /** False when SNS blamed itself (throttling, server errors) and a retry could succeed. */
  retryable: boolean;
}

/**
 * Alerts were published but recording that they were (the acknowledgement in the state table)
 * failed even after retries: a retry of the object will send them again, with the same finding
 * uid, activity and count.
 */
export class AcknowledgeError extends PipelineError {
  constructor(published: number, options?: ErrorOptions) {
    super(
      `${published} published alert(s) could not be recorded as published: ${(options?.cause as Error | undefined)?.message ?? 'unknown error'}`,
      options,
    );
    this.name = 'AcknowledgeError';
  }
}

/** The invocation's time ran short before a stage could start: what is left goes to a retry. */
export class TimeBudgetError extends PipelineError {
  constructor(stage: string, remainingMs: number, reserveMs: number, options?: ErrorOptions) {
    super(
      `${Math.round(remainingMs)} ms left in the invocation, less than the ${Math.round(reserveMs)} ms one ${stage} step may take: stopped before it`,
      options,
    );
    this.name = 'TimeBudgetError';
  }
}

/** The cross-object context store failed during the scan (a lookup or a save). */
export class ContextStoreError extends PipelineError {
  constructor(operation: 'lookup' | 'save', options?: ErrorOptions) {
    super(
      `context ${operation} failed: ${(options?.cause as Error | undefined)?.message ?? 'unknown error'}`,
      options,
    );
    this.name = 'ContextStoreError';
  }
}

/** Another invocation holds this object's claim: it backs off and is retried later. */
export class ObjectInFlightError extends PipelineError {
  constructor(untilMs: number, options?: ErrorOptions) {
    super(
      `another invocation is processing this object (its claim lapses at ${new Date(untilMs).toISOString()}); it will be retried`,
      options,
    );
    this.name = 'ObjectInFlightError';
  }
}

/** The quarantine object could not be written. */
export class QuarantineError extends PipelineError {
  readonly key: string;
  constructor(key: string, message: string, options?: ErrorOptions) {
    super(`quarantine ${key}: ${message}`, options);
    this.name = 'QuarantineError';
    this.key = key;
  }
}

/** An alert cannot be made to fit SNS's message size even with its evidence trimmed away. */
export class AlertTooLargeError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AlertTooLargeError';
  }
}

/**
 * A direct (not SQS) invocation had objects that failed: thrown so that Lambda's own retries
 * and on-failure destination take over, since only SQS understands partial batch failures.
 */
export class InvocationFailedError extends PipelineError {
  readonly failed: readonly string[];
  constructor(failed: readonly string[], options?: ErrorOptions) {
    super(`${failed.length} object(s) or notification(s) failed: ${failed.join(', ')}`, options);
    this.name = 'InvocationFailedError';
    this.failed = failed;
  }
}
