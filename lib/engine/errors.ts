/** Base class of every error the engine raises. */
export class EngineError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EngineError';
  }
}

/** The input cannot be read as any supported format (not gzip, zstd or text). */
export class UnsupportedInputError extends EngineError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnsupportedInputError';
  }
}

/** A limit was exceeded (e.g. decompressed size); `limit` names the constant. */
export class LimitExceededError extends EngineError {
  readonly limit: string;
  constructor(limit: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LimitExceededError';
    this.limit = limit;
  }
}
