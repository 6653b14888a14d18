import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WaitingCandidate } from '../../lib/engine/index.ts';
import {
  createDynamoWaitingStore,
  WAITING_GRACE_SECONDS,
  WAITING_WINDOW_SECONDS,
} from '../../lib/state/index.ts';
import { type Dynalite, startDynalite } from './helpers.ts';

/** 2024-03-01T10:00:00Z. */
const NOW = Date.parse('2024-03-01T10:00:00.000Z');

let db: Dynalite;
beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db.stop();
});

const candidate = (processKey: string, record: number): WaitingCandidate => ({
  processKey,
  hostname: 'pastebin.com',
  event: {
    kind: 'dns',
    time: NOW - 60_000,
    device: { uid: 'a1' },
    actor: { user: {}, process: { uid: processKey } },
    query: { hostname: 'pastebin.com.' },
    provenance: { source: 'falcon', origin: 's3://b/part-b', record },
  },
});

async function storeAt() {
  const clock = { now: NOW };
  const tableName = await db.newTable();
  const store = () =>
    createDynamoWaitingStore({ client: db.client, tableName, now: () => clock.now });
  return { store, clock };
}

describe('Waiting candidates: claims', () => {
  it('hands a waiting candidate to one resolver only, and again to that one on its retry', async () => {
    // Prepare
    const { store } = await storeAt();
    const s = store();
    await s.keep([candidate('a1:1', 7)], 's3://b/part-b#1');

    // Act
    const first = await s.claim(['a1:1'], 's3://b/part-a#1');
    const other = await s.claim(['a1:1'], 's3://b/part-a2#1');
    const retry = await s.claim(['a1:1'], 's3://b/part-a#1');

    // Assess
    expect(first.map((c) => c.event.provenance.record)).toEqual([7]);
    expect(other).toEqual([]);
    expect(retry).toEqual(first);
  });

  it('keeps a candidate kept twice (a retry of its object) once, with its resolver', async () => {
    // Prepare
    const { store } = await storeAt();
    const s = store();
    await s.keep([candidate('a1:1', 7)], 's3://b/part-b#1');
    await s.claim(['a1:1'], 's3://b/part-a#1');

    // Act
    await s.keep([candidate('a1:1', 7)], 's3://b/part-b#1');
    const other = await s.claim(['a1:1'], 's3://b/part-a2#1');

    // Assess
    expect(other).toEqual([]);
  });

  it('names the process keys an object kept candidates for, for its retry', async () => {
    // Prepare
    const { store } = await storeAt();
    const s = store();
    await s.keep([candidate('a1:1', 7)], 's3://b/part-b#1');
    await s.keep([candidate('a1:2', 8)], 's3://b/other#1');

    // Act
    const held = await s.keptBy(['a1:1', 'a1:2', 'a1:3'], 's3://b/part-b#1');

    // Assess
    expect([...held]).toEqual(['a1:1']);
  });

  it('does not hand out a candidate whose wait has ended', async () => {
    // Prepare
    const { store, clock } = await storeAt();
    const s = store();
    await s.keep([candidate('a1:1', 7)], 's3://b/part-b#1');
    clock.now = NOW + (WAITING_WINDOW_SECONDS + 1) * 1000;

    // Act
    const late = await s.claim(['a1:1'], 's3://b/part-a#1');

    // Assess
    expect(late).toEqual([]);
  });
});

describe('Waiting candidates: expiry', () => {
  it('counts the unresolved candidates of an hour once its waits have ended, once across functions', async () => {
    // Prepare: three waiting, one resolved in time
    const { store, clock } = await storeAt();
    const s = store();
    await s.keep(
      [candidate('a1:1', 1), candidate('a1:2', 2), candidate('a1:3', 3)],
      's3://b/part-b#1',
    );
    await s.claim(['a1:2'], 's3://b/part-a#1');
    clock.now = NOW + (WAITING_WINDOW_SECONDS + 3_600) * 1000;

    // Act
    const reports = await s.sweepExpired();
    const again = await store().sweepExpired(); // another function, later

    // Assess
    expect(reports).toHaveLength(1);
    expect(reports[0]!.count).toBe(2);
    expect(reports[0]!.examples.map((e) => [e.processKey, e.hostname, e.record]).sort()).toEqual([
      ['a1:1', 'pastebin.com', 1],
      ['a1:3', 'pastebin.com', 3],
    ]);
    expect(again).toEqual([]);
  });

  it('counts nothing while the waits are still running', async () => {
    // Prepare
    const { store, clock } = await storeAt();
    const s = store();
    await s.keep([candidate('a1:1', 1)], 's3://b/part-b#1');
    clock.now = NOW + (WAITING_WINDOW_SECONDS - 60) * 1000;

    // Act
    const reports = await s.sweepExpired();

    // Assess
    expect(reports).toEqual([]);
    expect(WAITING_GRACE_SECONDS).toBeGreaterThan(WAITING_WINDOW_SECONDS);
  });
});
