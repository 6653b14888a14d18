import {
  PutEventsCommand,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import type { AlertMessage } from '../message.ts';
import type { PublishResult } from '../publish.ts';
import {
  type BatchAnswer,
  packEntries,
  positionOf,
  type SinkEntry,
  type SinkRetryOptions,
  sendWithRetries,
} from './retry.ts';

/**
 * PutEvents: at most 10 entries per request, and 256 KiB (262,144 bytes) for the request's
 * entries together as EventBridge sizes them (Source, DetailType, Detail, Resources).
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
export const MAX_PUT_EVENTS_ENTRIES = 10;
export const MAX_PUT_EVENTS_BYTES = 262_144;

/** The detail-type routing rules match on. */
export const FINDING_DETAIL_TYPE = 'T1102 Detection Finding';
/** The event source; a custom source must not start with `aws.`. */
export const FINDING_EVENT_SOURCE = 't1102.detection';

/** Entry error codes that may pass on a retry; anything else is the sender's fault. */
const RETRYABLE_CODES = new Set(['ThrottlingException', 'InternalFailure', 'InternalException']);

/** The one EventBridge call the sink makes. */
export interface EventBridgeSend {
  send(command: PutEventsCommand): Promise<PutEventsCommandOutput>;
}

/** The entry for one alert: the OCSF finding, as it is, is the event's detail. */
export function findingEvent(message: AlertMessage, eventBusName: string): PutEventsRequestEntry {
  return {
    EventBusName: eventBusName,
    Source: FINDING_EVENT_SOURCE,
    DetailType: FINDING_DETAIL_TYPE,
    Detail: JSON.stringify(message.finding),
  };
}

/** The size EventBridge counts for an entry (UTF-8 bytes of its sized fields). */
export function eventEntryBytes(entry: PutEventsRequestEntry): number {
  let bytes = Buffer.byteLength(entry.Source ?? '') + Buffer.byteLength(entry.DetailType ?? '');
  bytes += Buffer.byteLength(entry.Detail ?? '');
  for (const r of entry.Resources ?? []) bytes += Buffer.byteLength(r);
  return bytes;
}

/**
 * Puts each alert's finding on an EventBridge bus (`detail-type: T1102 Detection Finding`), so
 * teams route findings with rules. Entries EventBridge rejects, or that still fail after the
 * retries, are publish failures exactly like SNS ones: the object fails and SQS retries it.
 */
export class EventBridgeSink {
  readonly name = 'eventbridge';

  constructor(
    private readonly client: EventBridgeSend,
    private readonly eventBusName: string,
    private readonly options: SinkRetryOptions = {},
  ) {}

  publish(messages: readonly AlertMessage[]): Promise<PublishResult> {
    const entries = messages.map((m, i) => ({
      id: `alert-${i}`,
      item: findingEvent(m, this.eventBusName),
    }));
    return sendWithRetries(
      entries,
      {
        plan: (pending) =>
          packEntries(
            pending,
            (e) => eventEntryBytes(e.item),
            MAX_PUT_EVENTS_ENTRIES,
            MAX_PUT_EVENTS_BYTES,
          ),
        send: (batch) => this.send(batch),
      },
      this.options,
    );
  }

  private async send(batch: readonly SinkEntry<PutEventsRequestEntry>[]): Promise<BatchAnswer> {
    const out = await this.client.send(new PutEventsCommand({ Entries: batch.map((e) => e.item) }));
    // The answer's entries are in the request's order, an ErrorCode on each one that failed.
    const rejected = batch.flatMap((entry, i) => {
      const answer = out.Entries?.[i];
      const code = answer === undefined ? 'MissingEntry' : answer.ErrorCode;
      if (code === undefined) return [];
      return [
        {
          id: entry.id,
          index: positionOf(entry.id),
          code,
          message: answer?.ErrorMessage ?? 'EventBridge returned no entry for this event',
          retryable: answer === undefined || RETRYABLE_CODES.has(code),
        },
      ];
    });
    return { rejected };
  }
}
