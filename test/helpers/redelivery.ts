/**
 * What SQS and Lambda's event source mapping do with a batch: invoke the handler, and hand the
 * messages it named in `batchItemFailures` to it again, up to the queue's maxReceiveCount; what
 * is still failing then goes to the dead-letter queue.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { localContext } from '../../lib/cli/local-stack.ts';

/** The CDK app's redrive policy sends a message to the DLQ after this many receives. */
export const MAX_RECEIVE_COUNT = 5;

export interface Redelivered {
  /** Handler invocations, the first included. */
  receives: number;
  /** The responses, in order. */
  responses: SQSBatchResponse[];
  /** Message ids still failing after MAX_RECEIVE_COUNT receives. */
  deadLettered: string[];
}

export async function deliverUntilDone(
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>,
  event: SQSEvent,
  options: {
    context?: () => Context;
    maxReceives?: number;
    /** Wait before a failed message is received again (its visibility timeout), ms. */
    visibilityTimeoutMs?: number;
  } = {},
): Promise<Redelivered> {
  const maxReceives = options.maxReceives ?? MAX_RECEIVE_COUNT;
  const context = options.context ?? (() => localContext('t1102-test'));
  const out: Redelivered = { receives: 0, responses: [], deadLettered: [] };
  let pending = event.Records;
  while (pending.length > 0) {
    if (out.receives >= maxReceives) {
      out.deadLettered = pending.map((r) => r.messageId);
      break;
    }
    if (out.receives > 0 && options.visibilityTimeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, options.visibilityTimeoutMs));
    }
    const response = await handler({ Records: pending }, context());
    out.receives++;
    out.responses.push(response);
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    pending = pending.filter((r) => failed.has(r.messageId));
  }
  return out;
}
