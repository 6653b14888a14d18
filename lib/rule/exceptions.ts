/**
 * Deployment exceptions (docs/detection.md, "Exceptions"): known-good activity a team lists to
 * tune the rule without editing it. Each exception names any combination of host, user, process,
 * parent, image path fragment and domain; an event is excepted when every field given holds. The
 * file is validated once, whole: any problem refuses all of it, so nothing is half-loaded.
 */
import { readFileSync, statSync } from 'node:fs';
import { comparablePath, normalizeHostname, processIdentity, processName } from './compile.ts';
import { ExceptionsError, type RuleProblem } from './errors.ts';
import {
  arrayOf,
  domainName,
  INVALID,
  nonEmptyText,
  object,
  optional,
  pathMarker,
  processBasename,
  refine,
  report,
  type Validator,
} from './validate.ts';

/** Largest exceptions file read, in bytes: thousands of exceptions fit in far less. */
export const MAX_EXCEPTIONS_FILE_BYTES = 1024 * 1024;

/** The fields an exception may test; all given must hold. */
export const EXCEPTION_FIELDS = ['host', 'user', 'process', 'parent', 'path', 'domain'] as const;

export interface RuleException {
  /** Why it is known-good: for the people who read the file, never matched. */
  reason?: string;
  /** Host name, case-insensitive. */
  host?: string;
  /** User name as the telemetry writes it (`CORP\alice`, `alice`), case-insensitive. */
  user?: string;
  /** Lower-case identity: Sysmon OriginalFileName, else the image basename. */
  process?: string;
  /** Lower-case parent basename. */
  parent?: string;
  /** Lower-case fragment of the image path, `\` separators. */
  path?: string;
  /** The observed hostname equals it or is a subdomain of it. */
  domain?: string;
}

/** What an exception is tested against: one matched event, its joins resolved. */
export interface ExceptionSubject {
  host: string | undefined;
  user: string | undefined;
  image: string | undefined;
  originalFileName: string | undefined;
  parentImage: string | undefined;
  hostname: string;
}

export interface CompiledExceptions {
  readonly size: number;
  /** True when any exception holds for the event. */
  excepts(subject: ExceptionSubject): boolean;
}

export const NO_EXCEPTIONS: CompiledExceptions = Object.freeze({
  size: 0,
  excepts: () => false,
});

const exceptionShape = refine(
  object({
    reason: optional(nonEmptyText),
    host: optional(nonEmptyText),
    user: optional(nonEmptyText),
    process: optional(processBasename),
    parent: optional(processBasename),
    path: optional(pathMarker),
    domain: optional(domainName),
  }),
  (e, path, problems) => {
    if (EXCEPTION_FIELDS.some((f) => e[f] !== undefined)) return true;
    report(
      problems,
      path,
      `an exception must name at least one of ${EXCEPTION_FIELDS.join(', ')} (an empty one would except everything)`,
    );
    return false;
  },
);

const fileShape: Validator<{ exceptions: RuleException[] }> = object({
  exceptions: arrayOf(exceptionShape, (e) => JSON.stringify(e), { allowEmpty: true }),
});

/** Validates parsed JSON as an exceptions file; throws ExceptionsError naming every problem. */
export function parseExceptions(json: unknown, source: string): RuleException[] {
  const problems: RuleProblem[] = [];
  const file = fileShape(json, '', problems);
  if (file === INVALID || problems.length > 0) throw ExceptionsError.invalid(source, problems);
  return file.exceptions;
}

/** Parses and validates an exceptions file's text (a local file or an S3 object's body). */
export function exceptionsFromText(text: string, source: string): CompiledExceptions {
  let json: unknown;
  try {
    json = JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text);
  } catch (error) {
    throw ExceptionsError.unreadable(source, `is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return compileExceptions(parseExceptions(json, source));
}

/** Reads, validates and compiles an exceptions file. */
export function loadExceptions(path: string): CompiledExceptions {
  let text: string;
  try {
    const { size } = statSync(path);
    if (size > MAX_EXCEPTIONS_FILE_BYTES) {
      throw ExceptionsError.unreadable(
        path,
        `is ${size} bytes, over MAX_EXCEPTIONS_FILE_BYTES (${MAX_EXCEPTIONS_FILE_BYTES})`,
      );
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof ExceptionsError) throw error;
    throw ExceptionsError.unreadable(path, 'cannot be read', { cause: error });
  }
  return exceptionsFromText(text, path);
}

const equalsIgnoringCase = (want: string | undefined, have: string | undefined): boolean =>
  want === undefined || (have !== undefined && want.toLowerCase() === have.toLowerCase());

/** Label-boundary containment, as the rule matches domains. */
const underDomain = (hostname: string, domain: string): boolean => {
  const host = normalizeHostname(hostname);
  return host === domain || host.endsWith(`.${domain}`);
};

function holds(e: RuleException, s: ExceptionSubject): boolean {
  if (!equalsIgnoringCase(e.host, s.host) || !equalsIgnoringCase(e.user, s.user)) return false;
  if (e.process !== undefined && e.process !== processIdentity(s.image, s.originalFileName))
    return false;
  if (e.parent !== undefined && e.parent !== processName(s.parentImage)) return false;
  if (e.path !== undefined && !comparablePath(s.image)?.includes(e.path)) return false;
  return e.domain === undefined || underDomain(s.hostname, e.domain);
}

export function compileExceptions(list: readonly RuleException[]): CompiledExceptions {
  if (list.length === 0) return NO_EXCEPTIONS;
  const frozen = list.map((e) => Object.freeze({ ...e }));
  return Object.freeze({
    size: frozen.length,
    excepts: (s: ExceptionSubject) => frozen.some((e) => holds(e, s)),
  });
}
