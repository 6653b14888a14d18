/** Base class of every error the CDK app raises on purpose. */
export class InfraError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InfraError';
  }
}

/** A `-c key=value` (or cdk.json) context value that cannot be used; names the key and why. */
export class InvalidContextError extends InfraError {
  readonly key: string;

  constructor(key: string, message: string, options?: ErrorOptions) {
    super(`Context "${key}": ${message}`, options);
    this.name = 'InvalidContextError';
    this.key = key;
  }
}
