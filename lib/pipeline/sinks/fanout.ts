import type { AlertMessage } from '../message.ts';
import type { PublishResult } from '../publish.ts';

/** Where alerts go: SNS, an EventBridge bus, Security Hub. `publish` never throws. */
export interface AlertSink {
  /** Prefixes this sink's failure ids, so a log line says which route failed. */
  readonly name: string;
  publish(messages: readonly AlertMessage[]): Promise<PublishResult>;
}

/**
 * Publishes every message to every sink at once. A message counts as published only when each
 * sink took it; any sink's failure is the object's publish failure, so SQS retries the object
 * and the sinks that did take it see the same finding ids again (each is an idempotent update).
 */
export function fanOut(sinks: readonly AlertSink[]): AlertSink {
  if (sinks.length === 1 && sinks[0] !== undefined) return sinks[0];
  return {
    name: sinks.map((s) => s.name).join('+'),
    async publish(messages) {
      const results = await Promise.all(sinks.map((s) => s.publish(messages)));
      const failedIds = new Set<string>();
      const merged: PublishResult = { published: 0, accepted: [], failures: [], requests: 0 };
      results.forEach((r, i) => {
        merged.requests += r.requests;
        for (const f of r.failures) {
          failedIds.add(f.id);
          merged.failures.push({ ...f, id: `${sinks[i]?.name}:${f.id}` });
        }
      });
      // Accepted only where every sink took it: a retry sends the rest to every sink again.
      const everywhere = results.map((r) => new Set(r.accepted));
      merged.accepted = messages
        .map((_m, i) => i)
        .filter((i) => everywhere.every((accepted) => accepted.has(i)));
      merged.published = merged.accepted.length;
      return merged;
    },
  };
}
