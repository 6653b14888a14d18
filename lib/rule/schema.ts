/**
 * The rule file's schema. A rule is data written by people, so it is checked once at load and
 * every problem is reported with its field path (see validate.ts), and so are the cross-list
 * mistakes a matcher would hide: a domain in both tiers, a client excluded twice.
 */
import { type RuleProblem, RuleValidationError } from './errors.ts';
import { type Rule, TIERS } from './types.ts';
import {
  anyString,
  arrayOf,
  byValue,
  domainName,
  INVALID,
  isLowerCaseBasename,
  nonEmptyArray,
  nonEmptyText,
  object,
  oneOf,
  optional,
  pathMarker,
  processBasename,
  refine,
  report,
  stringWhere,
  type Validator,
} from './validate.ts';

export { MAX_HOSTNAME_CHARS, MAX_LABEL_CHARS, MAX_QUOTED_VALUE_CHARS } from './validate.ts';

const EVENT_KINDS = ['dns', 'network', 'process'] as const;
const RULE_VERSION = 2;

const RULE_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const TECHNIQUE_UID = /^T\d{4}(?:\.\d{3})?$/;
const TACTIC_UID = /^TA\d{4}$/;
const WILDCARD = '*';

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * A suspicious-process entry: a basename, or a prefix ending in `*`, which stands for one or more
 * digits (`python3.*` is every versioned `python3.N`).
 */
const suspiciousProcess = stringWhere(
  (s) =>
    isLowerCaseBasename(s) ||
    (s.endsWith(WILDCARD) && s.length > 1 && isLowerCaseBasename(s.slice(0, -1))),
  'a lower-case process basename, optionally ending in "*"',
);

const version: Validator<2> = (value, path, problems) =>
  value === RULE_VERSION
    ? RULE_VERSION
    : report(problems, path, `expected ${RULE_VERSION} (the rule logic this engine implements)`);

const testCase = object({
  name: nonEmptyText,
  event: object({
    kind: oneOf(EVENT_KINDS),
    hostname: optional(anyString()),
    image: optional(anyString()),
    originalFileName: optional(anyString()),
    parentImage: optional(anyString()),
    cmdLine: optional(anyString()),
  }),
  tier: optional(oneOf(TIERS)),
});

const excludedClient = object({
  name: processBasename,
  homes: arrayOf(pathMarker, byValue),
});

/** The two tiers' lists, and no domain in both: its tier would depend on list order. */
const domainTiers = refine(
  object({
    high: nonEmptyArray(domainName, byValue),
    medium: nonEmptyArray(domainName, byValue),
  }),
  (tiers, path, problems) => {
    const high = new Set(tiers.high);
    const both = tiers.medium.filter((d) => high.has(d));
    for (const d of both) report(problems, `${path}.medium`, `${JSON.stringify(d)} is also high`);
    return both.length === 0;
  },
);

const ruleValidator: Validator<Rule> = object({
  id: stringWhere((s) => RULE_ID.test(s), 'a lower-case kebab-case id'),
  version,
  title: nonEmptyText,
  description: nonEmptyText,
  attack: object({
    technique: object({
      uid: stringWhere((s) => TECHNIQUE_UID.test(s), 'an ATT&CK technique id such as "T1102"'),
      name: nonEmptyText,
    }),
    tactic: object({
      uid: stringWhere((s) => TACTIC_UID.test(s), 'an ATT&CK tactic id such as "TA0011"'),
      name: nonEmptyText,
    }),
  }),
  falsePositives: nonEmptyArray(nonEmptyText, byValue),
  references: nonEmptyArray(stringWhere(isHttpUrl, 'an http(s) URL'), byValue),
  lists: object({
    domains: domainTiers,
    excludedClients: nonEmptyArray(excludedClient, (c) => c.name),
    suspiciousProcesses: nonEmptyArray(suspiciousProcess, byValue),
    officeParents: nonEmptyArray(processBasename, byValue),
    userWritablePaths: nonEmptyArray(pathMarker, byValue),
  }),
  tests: object({
    positive: nonEmptyArray(testCase, (c) => c.name),
    negative: nonEmptyArray(testCase, (c) => c.name),
  }),
});

/**
 * Validates parsed JSON as a rule. Throws a RuleValidationError listing every problem;
 * `sourceName` (a path or a label) is only used in that message. The result shares nothing
 * with `json`.
 */
export function parseRule(json: unknown, sourceName: string): Rule {
  const problems: RuleProblem[] = [];
  const rule = ruleValidator(json, '', problems);
  if (rule === INVALID || problems.length > 0) throw new RuleValidationError(sourceName, problems);
  return rule;
}
