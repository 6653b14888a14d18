/**
 * Compiles a validated rule into the matcher of SPEC §1. Everything is precomputed here (sets
 * of names and domains, wildcard prefixes), so matching an event is a few string operations and
 * set lookups, never a regular expression built per event or per domain.
 */
import type { CompiledRule, MatchInput, Rule } from './types.ts';

/** What Sysmon writes as the image of a process it could not attribute (with the all-zero GUID). */
const UNKNOWN_PROCESS = '<unknown process>';

/**
 * Image names that name no process: absent, or Sysmon's placeholders (`-` is its "no value").
 * SPEC §2: a process nobody can name is not suspicious, whatever its parent.
 */
const UNNAMED_IMAGES: ReadonlySet<string> = new Set(['', '-', UNKNOWN_PROCESS]);

/**
 * `OriginalFileName` values that carry no identity: Sysmon writes `-` when the field is absent
 * and `?` when the binary has no version resource; the image name is the identity then.
 */
const ABSENT_ORIGINAL_FILE_NAMES: ReadonlySet<string> = new Set(['', '-', '?']);

/** In a list entry, a trailing `*` stands for one or more digits (`python3.*` → `python3.11`). */
const WILDCARD = '*';
const DIGITS = /^[0-9]+$/;

const CODE_0 = 0x30;
const CODE_9 = 0x39;
const CODE_A = 0x41;
const CODE_Z = 0x5a;
const CODE_LOWER_A = 0x61;
const CODE_LOWER_Z = 0x7a;
const CODE_SPACE = 0x20;

/** Characters that end a URL's authority in a command line: path, query, fragment, quoting, shell syntax. */
const AUTHORITY_TERMINATORS: ReadonlySet<string> = new Set([
  '/',
  '?',
  '#',
  '\\',
  '"',
  "'",
  '`',
  '<',
  '>',
  '(',
  ')',
  '{',
  '}',
  '|',
  '^',
  ',',
  ';',
]);

function isAlpha(code: number): boolean {
  return (code >= CODE_A && code <= CODE_Z) || (code >= CODE_LOWER_A && code <= CODE_LOWER_Z);
}

function isDigit(code: number): boolean {
  return code >= CODE_0 && code <= CODE_9;
}

/** RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). */
function isSchemeChar(char: string): boolean {
  const code = char.charCodeAt(0);
  return isAlpha(code) || isDigit(code) || char === '+' || char === '-' || char === '.';
}

/** Letters, digits, `-`, `.`, and `_` (real DNS names carry it, e.g. `_dmarc`). */
function isHostChar(char: string): boolean {
  const code = char.charCodeAt(0);
  return isAlpha(code) || isDigit(code) || char === '-' || char === '.' || char === '_';
}

function isAuthorityEnd(char: string): boolean {
  return char.charCodeAt(0) <= CODE_SPACE || AUTHORITY_TERMINATORS.has(char);
}

/** The last segment of a Windows (`\`) or POSIX (`/`) path, or the name itself. */
export function pathBasename(path: string): string {
  const cut = Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
  return path.slice(cut + 1);
}

/**
 * The lower-case basename of an image, OriginalFileName or parent value, without surrounding
 * whitespace or double quotes (Sysmon quotes some OriginalFileName values).
 */
function processName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let name = pathBasename(value.trim()).trim();
  if (name.length >= 2 && name.startsWith('"') && name.endsWith('"')) name = name.slice(1, -1);
  return name.toLowerCase();
}

/**
 * Lower-cases a hostname and removes one trailing dot (the DNS root, as Falcon writes it): how
 * the rule compares names (SPEC §1.2) and how alerts group them (SPEC §3).
 */
export function normalizeHostname(hostname: string): string {
  const lower = hostname.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

interface NameList {
  exact: ReadonlySet<string>;
  /** Prefixes of wildcard entries (`python3.` for `python3.*`). */
  digitPrefixes: readonly string[];
}

function compileNameList(entries: readonly string[]): NameList {
  const exact = new Set<string>();
  const digitPrefixes: string[] = [];
  for (const entry of entries) {
    if (entry.endsWith(WILDCARD)) digitPrefixes.push(entry.slice(0, -WILDCARD.length));
    else exact.add(entry);
  }
  return { exact, digitPrefixes };
}

function inNameList(list: NameList, name: string): boolean {
  if (list.exact.has(name)) return true;
  for (const prefix of list.digitPrefixes) {
    if (name.startsWith(prefix) && DIGITS.test(name.slice(prefix.length))) return true;
  }
  return false;
}

/** Compiles a validated rule (see `parseRule`) into its matcher. */
export function compileRule(rule: Rule): CompiledRule {
  const domains: ReadonlySet<string> = new Set(rule.lists.domains);
  const excluded = compileNameList(rule.lists.excludedClients);
  const suspicious = compileNameList(rule.lists.suspiciousProcesses);
  const officeParents = compileNameList(rule.lists.officeParents);

  /**
   * Clause 2 by label boundary: the name itself, then each suffix that starts after a dot, is
   * looked up in the set. The first hit is the most specific listed domain.
   */
  function listedDomain(hostname: string): string | undefined {
    const host = normalizeHostname(hostname);
    if (host === '') return undefined;
    let suffix = host;
    let from = 0;
    for (;;) {
      if (domains.has(suffix)) return suffix;
      const dot = host.indexOf('.', from);
      if (dot === -1) return undefined;
      from = dot + 1;
      suffix = host.slice(from);
    }
  }

  /**
   * Scans for `://` and reads the scheme backwards and the authority forwards, so the work is
   * linear in the command line length (a regex that tries every start position is not, on a long
   * run of letters).
   */
  function listedUrlHosts(cmdLine: string): string[] {
    const found = new Set<string>();
    let from = 0;
    for (;;) {
      const separator = cmdLine.indexOf('://', from);
      if (separator === -1) break;
      from = separator + 3;

      let schemeStart = separator;
      while (schemeStart > 0 && isSchemeChar(cmdLine.charAt(schemeStart - 1))) schemeStart -= 1;
      // A scheme starts with a letter: `/i:1http://` still has the scheme `http`.
      while (schemeStart < separator && !isAlpha(cmdLine.charCodeAt(schemeStart))) {
        schemeStart += 1;
      }
      if (schemeStart === separator) continue;

      let authorityEnd = from;
      while (authorityEnd < cmdLine.length && !isAuthorityEnd(cmdLine.charAt(authorityEnd))) {
        authorityEnd += 1;
      }
      const authority = cmdLine.slice(from, authorityEnd);
      // Userinfo ends at the last `@` (as WHATWG URL parsing does): `a@pastebin.com@evil.io` is evil.io.
      const hostAndPort = authority.slice(authority.lastIndexOf('@') + 1);
      // An IPv6 literal names no domain.
      if (hostAndPort.startsWith('[')) continue;
      let hostEnd = 0;
      while (hostEnd < hostAndPort.length && isHostChar(hostAndPort.charAt(hostEnd))) hostEnd += 1;
      const host = normalizeHostname(hostAndPort.slice(0, hostEnd));
      if (host !== '' && listedDomain(host) !== undefined) found.add(host);
    }
    return [...found];
  }

  /** Clauses 3 and 4 of SPEC §1. */
  function processCouldMatch(
    input: Pick<MatchInput, 'image' | 'originalFileName' | 'parentImage'>,
  ): boolean {
    const imageName = processName(input.image);
    if (imageName === undefined || UNNAMED_IMAGES.has(imageName)) return false;
    const originalName = processName(input.originalFileName);
    const identity =
      originalName === undefined || ABSENT_ORIGINAL_FILE_NAMES.has(originalName)
        ? imageName
        : originalName;
    if (inNameList(excluded, identity)) return false;
    if (inNameList(suspicious, imageName) || inNameList(suspicious, identity)) return true;
    const parentName = processName(input.parentImage);
    return parentName !== undefined && inNameList(officeParents, parentName);
  }

  function isProcessNameOfInterest(basenameLower: string): boolean {
    const name = basenameLower.toLowerCase();
    return (
      inNameList(suspicious, name) || inNameList(excluded, name) || inNameList(officeParents, name)
    );
  }

  function matches(input: MatchInput): boolean {
    if (input.kind !== 'dns' && input.kind !== 'network') return false;
    if (input.hostname === undefined || listedDomain(input.hostname) === undefined) return false;
    return processCouldMatch(input);
  }

  return Object.freeze({
    rule,
    listedDomain,
    listedUrlHosts,
    processCouldMatch,
    isProcessNameOfInterest,
    matches,
  });
}
