/**
 * What Lambda's SQS event source mapping does for the deployed functions, on this machine: long
 * polls each notification queue, hands up to a batch of messages to the function, deletes the
 * ones it did not report in `batchItemFailures` and leaves those for the queue to redeliver
 * (after their visibility timeout, up to its redrive policy). One invocation at a time across all
 * queues, so that what an invocation published can be told apart from the next one's.
 */
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Handler } from './local-stack.ts';
import { localContext, sqsEventFromMessages } from './local-stack.ts';

/** SQS long polling waits at most 20 s (ReceiveMessage WaitTimeSeconds). */
const LONG_POLL_SECONDS = 20;
/** How often `idle()` looks again while notifications are still being handled. */
const IDLE_POLL_MS = 20;
/** Pause after a receive or an invocation threw, so a broken queue is not polled in a tight loop. */
export const POLL_ERROR_PAUSE_MS = 1_000;

export interface EventSource {
  /** The function's name, for its Lambda context. */
  functionName: string;
  queue: { url: string; arn: string };
  handler: Handler;
}

/** One invocation: the messages handed over and the ids the function reported as failed. */
export interface Invocation {
  source: EventSource;
  messages: readonly Message[];
  failed: ReadonlySet<string>;
}

export interface EventSourceOptions {
  sqs: SQSClient;
  sources: readonly EventSource[];
  batchSize: number;
  /** Messages sent to a queue so far; `idle()` waits until as many were handled. */
  sent(queueUrl: string): number;
  /** Runs after each invocation, before the next one starts. */
  afterInvoke(invocation: Invocation): Promise<void>;
  /** A receive, invoke or delete that threw (the poller goes on). */
  onError(error: Error, source: EventSource): void;
}

export interface EventSourceMapping {
  /** Resolves once every message sent so far has been handed to its function once. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function startEventSources(options: EventSourceOptions): EventSourceMapping {
  const abort = new AbortController();
  const handled = new Map<string, number>();
  let lock = Promise.resolve();
  let busy = 0;

  const invoke = async (source: EventSource, messages: Message[]) => {
    const response = await source.handler(
      sqsEventFromMessages(messages, source.queue.arn),
      localContext(source.functionName),
    );
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
    if (done.length > 0) {
      await options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: source.queue.url,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
    await options.afterInvoke({ source, messages, failed });
  };

  const poll = async (source: EventSource) => {
    while (!abort.signal.aborted) {
      try {
        const got = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: source.queue.url,
            MaxNumberOfMessages: options.batchSize,
            MessageSystemAttributeNames: ['All'],
            WaitTimeSeconds: LONG_POLL_SECONDS,
          }),
          { abortSignal: abort.signal },
        );
        const messages = got.Messages ?? [];
        if (messages.length === 0) continue;
        busy++;
        const run = lock.then(() => invoke(source, messages));
        lock = run.catch(() => undefined);
        try {
          await run;
        } finally {
          const firstReceipts = messages.filter(
            (m) => (m.Attributes?.ApproximateReceiveCount ?? '1') === '1',
          ).length;
          handled.set(source.queue.url, (handled.get(source.queue.url) ?? 0) + firstReceipts);
          busy--;
        }
      } catch (err) {
        if (abort.signal.aborted) return;
        options.onError(err instanceof Error ? err : new Error(String(err)), source);
        await new Promise((r) => setTimeout(r, POLL_ERROR_PAUSE_MS));
      }
    }
  };
  const loops = options.sources.map(poll);

  return {
    idle: async () => {
      const pending = () =>
        busy > 0 ||
        options.sources.some((s) => (handled.get(s.queue.url) ?? 0) < options.sent(s.queue.url));
      while (pending() && !abort.signal.aborted) {
        await new Promise((r) => setTimeout(r, IDLE_POLL_MS));
      }
    },
    stop: async () => {
      abort.abort();
      await Promise.all(loops);
      await lock;
    },
  };
}
