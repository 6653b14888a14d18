import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoObjectClaims } from '../../lib/state/index.ts';
import { type Dynalite, startDynalite } from './helpers.ts';

const NOW = Date.parse('2024-03-01T10:00:00.000Z');

let db: Dynalite;
beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db.stop();
});

/** Claims on a fresh table, with a clock the test moves. */
async function claimsAt() {
  const clock = { now: NOW };
  const claims = createDynamoObjectClaims({
    client: db.client,
    tableName: await db.newTable(),
    now: () => clock.now,
  });
  return { claims, clock };
}

describe('Object claims: one holder at a time', () => {
  it('lets the first claim in and turns a second away until the holder is done', async () => {
    // Prepare
    const { claims } = await claimsAt();

    // Act
    const first = await claims.claim('s3://b/k#e1', NOW + 60_000);
    const second = await claims.claim('s3://b/k#e1', NOW + 60_000);
    if (first.state !== 'claimed') throw new Error('expected the first claim');
    await first.complete();
    const third = await claims.claim('s3://b/k#e1', NOW + 60_000);

    // Assess
    expect(first.takenOver).toBe(false);
    expect(second).toEqual({ state: 'in-progress', until: NOW + 60_000 });
    expect(third).toEqual({ state: 'completed' });
  });

  it('claims another version of the same key on its own', async () => {
    // Prepare
    const { claims } = await claimsAt();
    await claims.claim('s3://b/k#e1', NOW + 60_000);

    // Act
    const other = await claims.claim('s3://b/k#e2', NOW + 60_000);

    // Assess
    expect(other.state).toBe('claimed');
  });

  it('takes over a claim whose holder passed its deadline, and says so', async () => {
    // Prepare: a holder that was killed (never completed nor released)
    const { claims, clock } = await claimsAt();
    await claims.claim('s3://b/k#e1', NOW + 60_000);
    clock.now = NOW + 60_001;

    // Act
    const next = await claims.claim('s3://b/k#e1', clock.now + 60_000);

    // Assess
    expect(next).toMatchObject({ state: 'claimed', takenOver: true });
  });

  it('lets a released claim be taken at once, without calling it a takeover', async () => {
    // Prepare: the holder failed and let go
    const { claims } = await claimsAt();
    const first = await claims.claim('s3://b/k#e1', NOW + 60_000);
    if (first.state !== 'claimed') throw new Error('expected the first claim');
    await first.release();

    // Act
    const next = await claims.claim('s3://b/k#e1', NOW + 60_000);

    // Assess
    expect(next).toMatchObject({ state: 'claimed', takenOver: false });
  });

  it('processes a completed object again once its record has expired', async () => {
    // Prepare
    const { claims, clock } = await claimsAt();
    const first = await claims.claim('s3://b/k#e1', NOW + 60_000);
    if (first.state !== 'claimed') throw new Error('expected the first claim');
    await first.complete();
    clock.now = NOW + 2 * 3_600_000;

    // Act
    const again = await claims.claim('s3://b/k#e1', clock.now + 60_000);

    // Assess
    expect(again).toMatchObject({ state: 'claimed', takenOver: false });
  });

  it('does not let a holder whose claim was taken over mark it done', async () => {
    // Prepare
    const { claims, clock } = await claimsAt();
    const stale = await claims.claim('s3://b/k#e1', NOW + 1_000);
    clock.now = NOW + 2_000;
    const fresh = await claims.claim('s3://b/k#e1', clock.now + 60_000);
    if (stale.state !== 'claimed' || fresh.state !== 'claimed') throw new Error('expected claims');

    // Act
    await stale.complete();
    const other = await claims.claim('s3://b/k#e1', clock.now + 60_000);

    // Assess: still the fresh holder's, in progress
    expect(other).toEqual({ state: 'in-progress', until: NOW + 62_000 });
  });
});
