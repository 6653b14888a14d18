/** Base class of every error the Falcon Data Replicator poller raises. */
export class FdrError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FdrError';
  }
}

/**
 * The secret with CrowdStrike's access key cannot be read or used. Nothing was received: every
 * message stays on CrowdStrike's queue for the next run.
 */
export class FdrSecretError extends FdrError {
  readonly secretId: string;
  constructor(secretId: string, message: string, options?: ErrorOptions) {
    super(`Secrets Manager secret "${secretId}": ${message}`, options);
    this.name = 'FdrSecretError';
    this.secretId = secretId;
  }
}

/** One FDR object could not be copied; `origin` is `s3://bucket/key` in CrowdStrike's bucket. */
export class FdrCopyError extends FdrError {
  readonly origin: string;
  readonly stage: 'head' | 'read' | 'write';
  constructor(
    origin: string,
    stage: FdrCopyError['stage'],
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${origin}: ${stage} failed: ${message}`, options);
    this.name = 'FdrCopyError';
    this.origin = origin;
    this.stage = stage;
  }
}
