/**
 * What SNS delivers to an SQS subscription of a `MessageStructure: "json"` publish: only the
 * message's `sqs` entry, else its `default` entry, never the whole structure. The emulator
 * delivers the structure as published, so a consumer written against it would break on AWS; this
 * rewrites such a publish (Publish and each PublishBatch entry) into the plain message SNS would
 * have delivered before the emulator handles it. Every local subscription is SQS.
 * https://docs.aws.amazon.com/sns/latest/dg/sns-send-custom-platform-specific-payloads-mobile-devices.html
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** The entry an SQS subscriber receives, or undefined when `message` is no valid structure. */
export function sqsEntry(message: string): string | undefined {
  let structure: unknown;
  try {
    structure = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof structure !== 'object' || structure === null || Array.isArray(structure)) {
    return undefined;
  }
  const entries = structure as Record<string, unknown>;
  const entry = entries.sqs ?? entries.default;
  return typeof entry === 'string' ? entry : undefined;
}

/**
 * Rewrites the form parameters of an SNS Publish or PublishBatch in place. A structure without a
 * usable entry is left alone (the emulator then delivers it whole; SNS would refuse it).
 */
export function deliverAsSns(form: Record<string, unknown>): void {
  const prefixes =
    form.Action === 'Publish'
      ? ['']
      : form.Action === 'PublishBatch'
        ? Object.keys(form)
            .map(
              (k) => /^(PublishBatchRequestEntries\.member\.\d+\.)MessageStructure$/.exec(k)?.[1],
            )
            .filter((p): p is string => p !== undefined)
        : [];
  for (const p of prefixes) {
    const message = form[`${p}Message`];
    if (form[`${p}MessageStructure`] !== 'json' || typeof message !== 'string') continue;
    const entry = sqsEntry(message);
    if (entry === undefined) continue;
    form[`${p}Message`] = entry;
    delete form[`${p}MessageStructure`];
  }
}

/** Hooks the correction into the emulator (call before it listens). */
export function emulateSnsDelivery(app: Pick<FastifyInstance, 'addHook'>): void {
  app.addHook('preHandler', (request: FastifyRequest, _reply: unknown, done: () => void) => {
    const type = request.headers['content-type'] ?? '';
    if (
      request.method === 'POST' &&
      type.includes('application/x-www-form-urlencoded') &&
      typeof request.body === 'object' &&
      request.body !== null
    ) {
      deliverAsSns(request.body as Record<string, unknown>);
    }
    done();
  });
}
