import type {
  CompiledRule,
  ListedDomain,
  MatchInput,
  RuleTestEvent,
} from '../../lib/rule/index.ts';

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

/**
 * What the rule makes of one of its own test events: the first listed domain it matches. A
 * process start is one event per listed host in a URL of its command line.
 */
export function matchTestEvent(rule: CompiledRule, event: RuleTestEvent): ListedDomain | undefined {
  const input = (hostname: string | undefined): MatchInput => ({
    kind: event.kind,
    hostname,
    image: event.image,
    originalFileName: event.originalFileName,
    parentImage: event.parentImage,
  });
  if (event.kind !== 'process') return rule.match(input(event.hostname));
  for (const host of rule.listedUrlHosts(event.cmdLine ?? '')) {
    const matched = rule.match(input(host));
    if (matched) return matched;
  }
  return undefined;
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
