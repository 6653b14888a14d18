import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import type { PipelineConfig } from './config.ts';
import type { PipelineLogger } from './telemetry.ts';

/**
 * Request and connection timeouts of every AWS client. The SDK's defaults are none (a stalled
 * call waits until the function times out, taking the whole batch with it); with these a stalled
 * call fails, the SDK retries it, and what still fails is one object's failure.
 * https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/node-configuring-maxsockets.html
 */
export interface ClientTimeouts {
  /** TCP connect, ms. */
  connectionTimeoutMs: number;
  /** Request sent to response headers received, ms (the SDK retries a timed-out attempt). */
  requestTimeoutMs: number;
  /** Socket idle while a response body streams (an S3 object), ms. */
  socketTimeoutMs: number;
}

export const CONNECTION_TIMEOUT_MS = 3_000;
export const REQUEST_TIMEOUT_MS = 10_000;
export const SOCKET_TIMEOUT_MS = 30_000;

export const DEFAULT_CLIENT_TIMEOUTS: Readonly<ClientTimeouts> = Object.freeze({
  connectionTimeoutMs: CONNECTION_TIMEOUT_MS,
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
  socketTimeoutMs: SOCKET_TIMEOUT_MS,
});

/** The SDK's requestHandler options for these timeouts. */
export function requestHandlerOptions(t: ClientTimeouts) {
  return {
    connectionTimeout: t.connectionTimeoutMs,
    requestTimeout: t.requestTimeoutMs,
    // Without it a request timeout is only a logged warning (@smithy/node-http-handler).
    throwOnRequestTimeout: true,
    socketTimeout: t.socketTimeoutMs,
  };
}

/**
 * A client's `logger`: the SDK's own warnings (a failed streaming upload it will not retry) as
 * the function's structured log lines, where it would print them with console. Its per-call lines
 * are left out: info for each call, error for each failed one, which the function reports itself.
 */
export function sdkLogger(logger: PipelineLogger) {
  return {
    debug: () => {},
    info: () => {},
    warn: (message: unknown) =>
      logger.warn(`AWS SDK: ${typeof message === 'string' ? message : JSON.stringify(message)}`),
    error: () => {},
  };
}

/** The AWS clients of a function, honouring AWS_ENDPOINT_URL, AWS_REGION and S3_FORCE_PATH_STYLE. */
export function createAwsClients(
  config: PipelineConfig,
  timeouts: ClientTimeouts = DEFAULT_CLIENT_TIMEOUTS,
  logger?: PipelineLogger,
): {
  s3: S3Client;
  sns: SNSClient;
  /** `endpoint`: AWS_ENDPOINT_URL_DYNAMODB, the SDK's per-service override of AWS_ENDPOINT_URL. */
  dynamo: (endpoint?: string) => DynamoDBClient;
} {
  const common = {
    ...(config.aws.region === undefined ? {} : { region: config.aws.region }),
    ...(config.aws.endpoint === undefined ? {} : { endpoint: config.aws.endpoint }),
    requestHandler: requestHandlerOptions(timeouts),
    ...(logger === undefined ? {} : { logger: sdkLogger(logger) }),
  };
  return {
    s3: new S3Client({ ...common, forcePathStyle: config.aws.s3ForcePathStyle }),
    sns: new SNSClient(common),
    // Built only when STATE_TABLE asks for cross-object state.
    dynamo: (endpoint) => new DynamoDBClient(endpoint ? { ...common, endpoint } : common),
  };
}
