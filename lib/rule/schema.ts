/**
 * A strict, hand-written validator for rule files. A rule is data written by people, so it is
 * checked once at load and every problem is reported with its field path: unknown keys (a typo
 * such as `exludedClients` would otherwise silently disable a clause), wrong types, empty lists,
 * duplicates, and list entries the matcher could never hit (upper-case names, paths).
 */
import { type RuleProblem, RuleValidationError } from './errors.ts';
import type { Rule, Severity } from './types.ts';

/** Longest hostname DNS allows, in characters (RFC 1035 §2.3.4, without the trailing dot). */
export const MAX_HOSTNAME_CHARS = 253;
/** Longest DNS label, in characters (RFC 1035 §2.3.4). */
export const MAX_LABEL_CHARS = 63;
/** Longest value quoted back in a problem message, in characters (the rest is elided). */
export const MAX_QUOTED_VALUE_CHARS = 80;

/** Marks a value that failed validation; its problems are already recorded. */
const INVALID = Symbol('invalid');
type Invalid = typeof INVALID;

type Validator<T> = (value: unknown, path: string, problems: RuleProblem[]) => T | Invalid;

interface OptionalField<T> {
  readonly optional: Validator<T>;
}

type Field = Validator<unknown> | OptionalField<unknown>;
type FieldValue<F> =
  F extends OptionalField<infer T> ? T : F extends Validator<infer T> ? T : never;
type RequiredKeys<S> = {
  [K in keyof S]: S[K] extends OptionalField<unknown> ? never : K;
}[keyof S];
type OptionalKeys<S> = {
  [K in keyof S]: S[K] extends OptionalField<unknown> ? K : never;
}[keyof S];
type ObjectValue<S> = { [K in RequiredKeys<S>]: FieldValue<S[K]> } & {
  [K in OptionalKeys<S>]?: FieldValue<S[K]>;
};

const SEVERITIES = [
  'informational',
  'low',
  'medium',
  'high',
  'critical',
] as const satisfies readonly Severity[];
const EVENT_KINDS = ['dns', 'network'] as const;

const IDENTIFIER_KEY = /^[A-Za-z_$][\w$]*$/;
const RULE_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const TECHNIQUE_UID = /^T\d{4}(?:\.\d{3})?$/;
const TACTIC_UID = /^TA\d{4}$/;
const HOSTNAME_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
/** No path separators (entries are basenames), no `*` (wildcards are handled apart), no controls. */
const BASENAME = /^[^\\/*\u0000-\u001f]+$/;
const WILDCARD = '*';

function displayPath(path: string): string {
  return path === '' ? '(root)' : path;
}

function childPath(path: string, key: string): string {
  const segment = IDENTIFIER_KEY.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (path === '') return segment;
  return segment.startsWith('[') ? `${path}${segment}` : `${path}.${segment}`;
}

function quote(value: string): string {
  const shown =
    value.length > MAX_QUOTED_VALUE_CHARS ? `${value.slice(0, MAX_QUOTED_VALUE_CHARS)}…` : value;
  return JSON.stringify(shown);
}

/** How a JSON value is named in a message: strings quoted, other values by kind. */
function describe(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function report(problems: RuleProblem[], path: string, message: string): Invalid {
  problems.push({ path: displayPath(path), message });
  return INVALID;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optional<T>(validate: Validator<T>): OptionalField<T> {
  return { optional: validate };
}

/** An object with exactly these keys: unknown keys and missing required keys are problems. */
function object<S extends Record<string, Field>>(shape: S): Validator<ObjectValue<S>> {
  const allowed = Object.keys(shape);
  return (value, path, problems) => {
    if (!isRecord(value)) {
      return report(problems, path, `expected an object, got ${describe(value)}`);
    }
    let valid = true;
    for (const key of Object.keys(value)) {
      if (!Object.hasOwn(shape, key)) {
        report(problems, childPath(path, key), `unknown key (allowed: ${allowed.join(', ')})`);
        valid = false;
      }
    }
    const out: Record<string, unknown> = {};
    for (const key of allowed) {
      const field = shape[key] as Field;
      const isOptional = typeof field !== 'function';
      const validate = isOptional ? field.optional : field;
      if (!Object.hasOwn(value, key)) {
        if (!isOptional) {
          report(problems, childPath(path, key), 'is required');
          valid = false;
        }
        continue;
      }
      const result = validate(value[key], childPath(path, key), problems);
      if (result === INVALID) valid = false;
      else out[key] = result;
    }
    return valid ? (out as ObjectValue<S>) : INVALID;
  };
}

/**
 * A non-empty array of items; `identity` names an item for the duplicate check (an empty list
 * would silently disable a clause, and a duplicate is almost always a copy-paste slip).
 */
function nonEmptyArray<T>(item: Validator<T>, identity: (item: T) => string): Validator<T[]> {
  return (value, path, problems) => {
    if (!Array.isArray(value)) {
      return report(problems, path, `expected a non-empty array, got ${describe(value)}`);
    }
    if (value.length === 0) return report(problems, path, 'expected a non-empty array, got []');
    let valid = true;
    const out: T[] = [];
    const firstIndex = new Map<string, number>();
    value.forEach((element: unknown, index) => {
      const itemPath = `${path}[${index}]`;
      const result = item(element, itemPath, problems);
      if (result === INVALID) {
        valid = false;
        return;
      }
      const id = identity(result);
      const first = firstIndex.get(id);
      if (first !== undefined) {
        report(problems, itemPath, `duplicate of ${path}[${first}] (${quote(id)})`);
        valid = false;
        return;
      }
      firstIndex.set(id, index);
      out.push(result);
    });
    return valid ? out : INVALID;
  };
}

function anyString(): Validator<string> {
  return (value, path, problems) =>
    typeof value === 'string'
      ? value
      : report(problems, path, `expected a string, got ${describe(value)}`);
}

/** A string that passes `test`; `expectation` completes "expected ..." in the message. */
function stringWhere(test: (value: string) => boolean, expectation: string): Validator<string> {
  return (value, path, problems) =>
    typeof value === 'string' && test(value)
      ? value
      : report(problems, path, `expected ${expectation}, got ${describe(value)}`);
}

function oneOf<const V extends string>(values: readonly V[]): Validator<V> {
  const expectation = values.map((v) => JSON.stringify(v)).join(', ');
  return (value, path, problems) =>
    typeof value === 'string' && (values as readonly string[]).includes(value)
      ? (value as V)
      : report(problems, path, `expected one of ${expectation}, got ${describe(value)}`);
}

const nonEmptyText = stringWhere((s) => s.trim() !== '', 'a non-empty string');

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function isLowerCaseHostname(value: string): boolean {
  if (value.length > MAX_HOSTNAME_CHARS) return false;
  return value
    .split('.')
    .every((label) => label.length <= MAX_LABEL_CHARS && HOSTNAME_LABEL.test(label));
}

/**
 * A listed domain: a lower-case hostname without a trailing dot, and at least two labels — a bare
 * top-level domain (`com`) would put every name under it on the list.
 */
const listedDomain: Validator<string> = (value, path, problems) => {
  if (typeof value !== 'string' || !isLowerCaseHostname(value)) {
    return report(problems, path, `expected a lower-case hostname, got ${describe(value)}`);
  }
  if (!value.includes('.')) {
    return report(
      problems,
      path,
      `expected a hostname with at least two labels, got ${quote(value)}`,
    );
  }
  return value;
};

function isLowerCaseBasename(value: string): boolean {
  return BASENAME.test(value) && value === value.toLowerCase() && value === value.trim();
}

const processBasename = stringWhere(isLowerCaseBasename, 'a lower-case process basename');

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

const testCase = object({
  name: nonEmptyText,
  event: object({
    kind: oneOf(EVENT_KINDS),
    hostname: optional(anyString()),
    image: optional(anyString()),
    originalFileName: optional(anyString()),
    parentImage: optional(anyString()),
  }),
});

const byValue = (value: string): string => value;

const ruleValidator: Validator<Rule> = object({
  id: stringWhere((s) => RULE_ID.test(s), 'a lower-case kebab-case id'),
  title: nonEmptyText,
  description: nonEmptyText,
  severity: oneOf(SEVERITIES),
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
    domains: nonEmptyArray(listedDomain, byValue),
    excludedClients: nonEmptyArray(processBasename, byValue),
    suspiciousProcesses: nonEmptyArray(suspiciousProcess, byValue),
    officeParents: nonEmptyArray(processBasename, byValue),
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
