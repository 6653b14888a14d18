/** Base class of every error the cross-object state module raises. */
export class StateError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StateError';
  }
}

/** An environment variable or option is missing or malformed; `variable` names it. */
export class StateConfigError extends StateError {
  readonly variable: string;
  constructor(variable: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StateConfigError';
    this.variable = variable;
  }
}

/** The input cannot be keyed (no window, a group spanning two windows, an empty object id). */
export class StateInputError extends StateError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StateInputError';
  }
}

/**
 * DynamoDB kept refusing work (unprocessed batch items, conditional races) past the retry bound.
 * The unit of work should fail and be retried later (SQS redelivery); nothing was half-counted.
 */
export class StateRetryExhaustedError extends StateError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StateRetryExhaustedError';
  }
}

/** A window's state outgrew MAX_ITEMS_PER_WINDOW items (see limits.ts). */
export class StateCapacityError extends StateError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StateCapacityError';
  }
}

/** A DynamoDB request on the state table failed (the table is missing, access denied, ...). */
export class StateStoreError extends StateError {
  readonly table: string;
  readonly operation: string;
  constructor(table: string, operation: string, cause: unknown) {
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`state table ${table} (STATE_TABLE): ${operation} failed: ${detail}`, { cause });
    this.name = 'StateStoreError';
    this.table = table;
    this.operation = operation;
  }
}
