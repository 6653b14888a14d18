import type { MatchInput, RuleTestEvent } from '../../lib/rule/index.ts';

/** A match input with every field present (as the engine builds it), overridden per test. */
export function matchInput(overrides: Partial<MatchInput>): MatchInput {
  return {
    kind: 'dns',
    hostname: undefined,
    image: undefined,
    originalFileName: undefined,
    parentImage: undefined,
    ...overrides,
  };
}

/** The match input a rule file's own test event stands for. */
export function fromTestEvent(event: RuleTestEvent): MatchInput {
  return {
    kind: event.kind,
    hostname: event.hostname,
    image: event.image,
    originalFileName: event.originalFileName,
    parentImage: event.parentImage,
  };
}

/** The error `act` throws; fails the test when it throws nothing. */
export function thrown(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw, got none');
}
