import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { StateConfigError, stateFromEnv, statelessPolicy } from '../../lib/state/index.ts';

// Never sent anything: stateFromEnv only builds objects.
const client = new DynamoDBClient({ region: 'us-east-1' });

describe('State configuration from the environment', () => {
  it.each([
    [{}, 'no STATE_TABLE'],
    [{ STATE_TABLE: '' }, 'an empty STATE_TABLE'],
    [{ STATE_TABLE: '  ', WINDOW_MINUTES: '60' }, 'a blank STATE_TABLE'],
  ])('keeps per-object grouping with %j (%s)', (env, _why) => {
    // Act
    const state = stateFromEnv(env, client, 'rule');

    // Assess
    expect(state).toEqual({ mode: 'stateless', policy: statelessPolicy });
  });

  it.each([
    [{ STATE_TABLE: 'alerts-state' }, { windowMs: 86_400_000, threshold: 1, ttlSeconds: 604_800 }],
    [
      { STATE_TABLE: 'alerts-state', WINDOW_MINUTES: '60', THRESHOLD: '5', STATE_TTL_DAYS: '30' },
      { windowMs: 3_600_000, threshold: 5, ttlSeconds: 2_592_000 },
    ],
    [
      { STATE_TABLE: ' alerts-state ', WINDOW_MINUTES: ' 10080 ' },
      { windowMs: 604_800_000, threshold: 1, ttlSeconds: 604_800 },
    ],
  ])('keeps state in DynamoDB with %j', (env, expected) => {
    // Act
    const state = stateFromEnv(env, client, 'rule');

    // Assess
    expect(state).toMatchObject({ mode: 'dynamodb', tableName: 'alerts-state', ...expected });
    expect(state.mode === 'dynamodb' && typeof state.contextStore.lookup).toBe('function');
  });

  it.each([
    ['WINDOW_MINUTES', '0'],
    ['WINDOW_MINUTES', '10081'],
    ['WINDOW_MINUTES', '1.5'],
    ['WINDOW_MINUTES', '1e3'],
    ['THRESHOLD', '0'],
    ['THRESHOLD', '-1'],
    ['THRESHOLD', 'many'],
    ['STATE_TTL_DAYS', '0'],
    ['STATE_TTL_DAYS', '366'],
    ['STATE_TABLE', 'ab'],
    ['STATE_TABLE', 'table/with/slashes'],
  ])('rejects %s=%j naming the variable', (variable, value) => {
    // Prepare
    const env = { STATE_TABLE: 'alerts-state', [variable]: value };

    // Act
    const act = () => stateFromEnv(env, client, 'rule');

    // Assess
    expect(act).toThrow(StateConfigError);
    expect(act).toThrow(new RegExp(`^${variable} must`));
  });

  it('reports every problem at once', () => {
    // Act
    const act = () =>
      stateFromEnv(
        { STATE_TABLE: 'alerts-state', WINDOW_MINUTES: 'abc', THRESHOLD: '-1' },
        client,
        'rule',
      );

    // Assess
    expect(act).toThrow(StateConfigError);
    expect(act).toThrow(/^WINDOW_MINUTES .+\nTHRESHOLD must be a whole number of events/);
  });
});
