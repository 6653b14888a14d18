/**
 * Strict validators for JSON written by people (the rule file, a deployment's exceptions). Each
 * is checked once at load and every problem is reported with its field path: unknown keys (a typo
 * such as `exludedClients` would otherwise silently disable a clause), wrong types, empty lists,
 * duplicates, and entries the matcher could never hit (upper-case names, paths).
 */
import type { RuleProblem } from './errors.ts';

/** Longest hostname DNS allows, in characters (RFC 1035 §2.3.4, without the trailing dot). */
export const MAX_HOSTNAME_CHARS = 253;
/** Longest DNS label, in characters (RFC 1035 §2.3.4). */
export const MAX_LABEL_CHARS = 63;
/** Longest value quoted back in a problem message, in characters (the rest is elided). */
export const MAX_QUOTED_VALUE_CHARS = 80;

/** Marks a value that failed validation; its problems are already recorded. */
export const INVALID = Symbol('invalid');
export type Invalid = typeof INVALID;

export type Validator<T> = (value: unknown, path: string, problems: RuleProblem[]) => T | Invalid;

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

const IDENTIFIER_KEY = /^[A-Za-z_$][\w$]*$/;
const HOSTNAME_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
/** No path separators (entries are basenames), no `*` (wildcards are handled apart), no controls. */
const BASENAME = /^[^\\/*\u0000-\u001f]+$/;

function displayPath(path: string): string {
  return path === '' ? '(root)' : path;
}

export function childPath(path: string, key: string): string {
  const segment = IDENTIFIER_KEY.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (path === '') return segment;
  return segment.startsWith('[') ? `${path}${segment}` : `${path}.${segment}`;
}

export function quote(value: string): string {
  const shown =
    value.length > MAX_QUOTED_VALUE_CHARS ? `${value.slice(0, MAX_QUOTED_VALUE_CHARS)}…` : value;
  return JSON.stringify(shown);
}

/** How a JSON value is named in a message: strings quoted, other values by kind. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export function report(problems: RuleProblem[], path: string, message: string): Invalid {
  problems.push({ path: displayPath(path), message });
  return INVALID;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function optional<T>(validate: Validator<T>): OptionalField<T> {
  return { optional: validate };
}

/** An object with exactly these keys: unknown keys and missing required keys are problems. */
export function object<S extends Record<string, Field>>(shape: S): Validator<ObjectValue<S>> {
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

/** A validator whose result must also pass `check` (which reports its own problem). */
export function refine<T>(
  validate: Validator<T>,
  check: (value: T, path: string, problems: RuleProblem[]) => boolean,
): Validator<T> {
  return (value, path, problems) => {
    const result = validate(value, path, problems);
    if (result === INVALID) return INVALID;
    return check(result, path, problems) ? result : INVALID;
  };
}

/**
 * An array of items; `identity` names an item for the duplicate check (a duplicate is almost
 * always a copy-paste slip). Non-empty unless `allowEmpty`: an empty list would silently disable
 * a clause.
 */
export function arrayOf<T>(
  item: Validator<T>,
  identity: (item: T) => string,
  { allowEmpty = false } = {},
): Validator<T[]> {
  const expectation = allowEmpty ? 'an array' : 'a non-empty array';
  return (value, path, problems) => {
    if (!Array.isArray(value)) {
      return report(problems, path, `expected ${expectation}, got ${describe(value)}`);
    }
    if (value.length === 0 && !allowEmpty) {
      return report(problems, path, `expected ${expectation}, got []`);
    }
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

export const nonEmptyArray = <T>(item: Validator<T>, identity: (item: T) => string) =>
  arrayOf(item, identity);

export function anyString(): Validator<string> {
  return (value, path, problems) =>
    typeof value === 'string'
      ? value
      : report(problems, path, `expected a string, got ${describe(value)}`);
}

/** A string that passes `test`; `expectation` completes "expected ..." in the message. */
export function stringWhere(
  test: (value: string) => boolean,
  expectation: string,
): Validator<string> {
  return (value, path, problems) =>
    typeof value === 'string' && test(value)
      ? value
      : report(problems, path, `expected ${expectation}, got ${describe(value)}`);
}

export function oneOf<const V extends string>(values: readonly V[]): Validator<V> {
  const expectation = values.map((v) => JSON.stringify(v)).join(', ');
  return (value, path, problems) =>
    typeof value === 'string' && (values as readonly string[]).includes(value)
      ? (value as V)
      : report(problems, path, `expected one of ${expectation}, got ${describe(value)}`);
}

export const nonEmptyText = stringWhere((s) => s.trim() !== '', 'a non-empty string');

export const byValue = (value: string): string => value;

export function isLowerCaseHostname(value: string): boolean {
  if (value.length > MAX_HOSTNAME_CHARS) return false;
  return value
    .split('.')
    .every((label) => label.length <= MAX_LABEL_CHARS && HOSTNAME_LABEL.test(label));
}

/**
 * A domain to match by label boundary: a lower-case hostname without a trailing dot, scheme or
 * path, and at least two labels (a bare top-level domain such as `com` would take in every name
 * under it).
 */
export const domainName: Validator<string> = (value, path, problems) => {
  if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    return report(
      problems,
      path,
      `expected a hostname without a scheme (write "example.com", not "https://example.com"), got ${quote(value)}`,
    );
  }
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

export function isLowerCaseBasename(value: string): boolean {
  return BASENAME.test(value) && value === value.toLowerCase() && value === value.trim();
}

export const processBasename = stringWhere(isLowerCaseBasename, 'a lower-case process basename');

/**
 * A path fragment matched as a substring of a lower-cased image path with `/` turned into `\`:
 * written that way, or it could never match.
 */
export const pathMarker = stringWhere(
  (s) => s.length > 0 && s === s.toLowerCase() && !s.includes('/') && s.trim() === s,
  'a non-empty lower-case path fragment using "\\" as the separator',
);
