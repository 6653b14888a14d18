import { describe, expect, it } from 'vitest';
import {
  ACK_MAX_ATTEMPTS,
  type AlertMessage,
  type AlertSink,
  DEFAULT_INVOCATION_MS,
  DELIVERY_CHUNK_ALERTS,
  deliverAlerts,
  MAX_STEP_RESERVE_MS,
  type TimeBudget,
  timeBudget,
} from '../../lib/pipeline/index.ts';
import type { AlertDecision } from '../../lib/state/index.ts';
import { group, KEY_A } from '../state/helpers.ts';

/** A sink that accepts every message but those `refuse` names (a stand-in for any sink). */
function sink(refuse: (i: number) => boolean = () => false): AlertSink & { sent: number } {
  const s = {
    sent: 0,
    async publish(messages: readonly AlertMessage[]) {
      s.sent += messages.length;
      const failures = messages
        .map((_, i) => i)
        .filter(refuse)
        .map((i) => ({ id: `alert-${i}`, index: i, code: 'X', message: 'x', retryable: false }));
      const accepted = messages.map((_, i) => i).filter((i) => !refuse(i));
      return { published: accepted.length, accepted, failures, requests: 1 };
    },
  };
  return s;
}

function decisions(n: number, ack: () => Promise<void>): AlertDecision[] {
  return Array.from({ length: n }, (_, i) => ({
    group: group({ ...KEY_A, domain: `d${i}.pastebin.com` }, 1, 0),
    activity: 'create' as const,
    ack,
  }));
}

const build = (d: AlertDecision) =>
  ({ bytes: 10, trimmed: false, uid: d.group.key.domain }) as unknown as AlertMessage;
const plenty: TimeBudget = { remainingMs: () => 60_000, deadline: () => 0, stepReserveMs: 1 };

describe('Delivery: time budget', () => {
  it.each([
    [60_000, 3_000],
    [DEFAULT_INVOCATION_MS, MAX_STEP_RESERVE_MS],
  ])('keeps back 5%% of %i ms, at most MAX_STEP_RESERVE_MS, per step: %i ms', (total, reserve) => {
    // Act
    const budget = timeBudget(() => total);

    // Assess
    expect(budget.stepReserveMs).toBe(reserve);
  });

  it(`publishes in chunks of ${DELIVERY_CHUNK_ALERTS} and stops before one the time left cannot cover`, async () => {
    // Prepare: time runs short once the first chunk is out.
    const s = sink();
    const budget: TimeBudget = {
      remainingMs: () => (s.sent >= DELIVERY_CHUNK_ALERTS ? 500 : 60_000),
      deadline: () => 0,
      stepReserveMs: 1_000,
    };

    // Act
    const result = await deliverAlerts({
      decisions: decisions(250, async () => {}),
      build,
      sink: s,
      budget,
    });

    // Assess
    expect(result).toMatchObject({ built: 100, published: 100, acknowledged: 100 });
    expect(result.failure?.stage).toBe('publish');
    expect(result.failure?.error.name).toBe('TimeBudgetError');
  });
});

describe('Delivery: acknowledgements', () => {
  it(`retries a throttled acknowledgement up to ${ACK_MAX_ATTEMPTS} times`, async () => {
    // Prepare
    let calls = 0;
    const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    const ack = async () => {
      calls++;
      if (calls < ACK_MAX_ATTEMPTS) throw throttled;
    };

    // Act
    const result = await deliverAlerts({
      decisions: decisions(1, ack),
      build,
      sink: sink(),
      budget: plenty,
      sleep: async () => {},
    });

    // Assess
    expect(calls).toBe(ACK_MAX_ATTEMPTS);
    expect(result).toMatchObject({ published: 1, acknowledged: 1 });
    expect(result.failure).toBeUndefined();
  });

  it('stops at an acknowledgement that is not worth retrying and says what was published', async () => {
    // Prepare
    const denied = Object.assign(new Error('denied'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });

    // Act
    const result = await deliverAlerts({
      decisions: decisions(3, async () => {
        throw denied;
      }),
      build,
      sink: sink(),
      budget: plenty,
      sleep: async () => {},
    });

    // Assess
    expect(result).toMatchObject({ published: 3, acknowledged: 0 });
    expect(result.failure?.stage).toBe('acknowledge');
    expect(result.failure?.error.message).toMatch(/^3 published alert\(s\) could not be recorded/);
  });

  it('acknowledges only what the sink accepted, and reports the rest as a publish failure', async () => {
    // Prepare
    const acked: string[] = [];
    const ds = decisions(3, async () => {});
    for (const d of ds) d.ack = async () => void acked.push(d.group.key.domain);

    // Act
    const result = await deliverAlerts({
      decisions: ds,
      build,
      sink: sink((i) => i === 1),
      budget: plenty,
    });

    // Assess
    expect(acked.sort()).toEqual(['d0.pastebin.com', 'd2.pastebin.com']);
    expect(result.failure?.stage).toBe('publish');
  });
});
