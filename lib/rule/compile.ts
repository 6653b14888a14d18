/**
 * Compiles a validated rule into the matcher of docs/detection.md ("The rule"). Everything is
 * precomputed here (maps of names, domains and tiers, wildcard prefixes), so matching an event is
 * a few string operations and lookups, never a regular expression built per event or per domain.
 */
import {
  type CompiledRule,
  type ListedDomain,
  type MatchInput,
  type ProcessInput,
  type Reach,
  type Rule,
  TIERS,
} from './types.ts';

/** What Sysmon writes as the image of a process it could not attribute (with the all-zero GUID). */
const UNKNOWN_PROCESS = '<unknown process>';

/**
 * Image names that name no process: absent, or Sysmon's placeholders (`-` is its "no value").
 * A process nobody can name matches no branch, whatever its parent.
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

/** docs/detection.md, "Events": a URL's host is letters, digits, `-` and `.`. */
function isHostChar(char: string): boolean {
  const code = char.charCodeAt(0);
  return isAlpha(code) || isDigit(code) || char === '-' || char === '.';
}

/** The schemes whose URLs name a host the rule reads (case-insensitive). */
const URL_SCHEMES: ReadonlySet<string> = new Set(['http', 'https', 'ftp']);

function isAuthorityEnd(char: string): boolean {
  return char.charCodeAt(0) <= CODE_SPACE || AUTHORITY_TERMINATORS.has(char);
}

/** The last segment of a Windows (`\`) or POSIX (`/`) path, or the name itself. */
export function pathBasename(path: string): string {
  const cut = Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
  return path.slice(cut + 1);
}

/** `value` without surrounding whitespace or double quotes (Sysmon quotes some values). */
function unquote(value: string): string {
  const v = value.trim();
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).trim() : v;
}

/** The lower-case basename of an image, OriginalFileName or parent value. */
export function processName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return unquote(pathBasename(unquote(value))).toLowerCase();
}

/**
 * The process's identity: the basename of OriginalFileName when it carries one, else of the image
 * (lower-case); undefined for a process nobody can name.
 */
export function processIdentity(
  image: string | undefined,
  originalFileName: string | undefined,
): string | undefined {
  const imageName = processName(image);
  if (imageName === undefined || UNNAMED_IMAGES.has(imageName)) return undefined;
  const originalName = processName(originalFileName);
  return originalName === undefined || ABSENT_ORIGINAL_FILE_NAMES.has(originalName)
    ? imageName
    : originalName;
}

/**
 * The image path as the path clauses compare it (lower-case, `/` turned into `\`); undefined when
 * the path is unknown: a bare name, as Falcon events that only carry ContextBaseFileName have.
 */
export function comparablePath(image: string | undefined): string | undefined {
  if (image === undefined) return undefined;
  const path = unquote(image);
  if (!path.includes('\\') && !path.includes('/')) return undefined;
  return path.toLowerCase().replaceAll('/', '\\');
}

/**
 * Lower-cases a hostname and removes one trailing dot (the DNS root, as Falcon writes it): how
 * the rule compares names and how alerts group them (docs/detection.md).
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
  const tiers = new Map<string, ListedDomain>();
  for (const tier of TIERS) {
    for (const domain of rule.lists.domains[tier]) tiers.set(domain, { domain, tier });
  }
  const excluded = new Map(rule.lists.excludedClients.map((c) => [c.name, c.homes]));
  const suspicious = compileNameList(rule.lists.suspiciousProcesses);
  const officeParents = compileNameList(rule.lists.officeParents);
  const userWritable = rule.lists.userWritablePaths;

  /**
   * Clause 2 by label boundary: the name itself, then each suffix that starts after a dot, is
   * looked up. The first hit is the longest listed domain, whose tier decides.
   */
  function listedDomain(hostname: string): ListedDomain | undefined {
    const host = normalizeHostname(hostname);
    if (host === '') return undefined;
    let suffix = host;
    let from = 0;
    for (;;) {
      const listed = tiers.get(suffix);
      if (listed !== undefined) return listed;
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
      if (!URL_SCHEMES.has(cmdLine.slice(schemeStart, separator).toLowerCase())) continue;

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

  /**
   * Clause 3: an excluded client where it lives. `name` is on the list and the image path is
   * unknown or holds one of that client's homes.
   */
  function excludedAtHome(name: string, path: string | undefined): boolean {
    const homes = excluded.get(name);
    return homes !== undefined && (path === undefined || homes.some((h) => path.includes(h)));
  }

  /** Clauses 3 and 4: which tiers the process can match. */
  function processReach(input: ProcessInput): Reach {
    const identity = processIdentity(input.image, input.originalFileName);
    const imageName = processName(input.image);
    if (identity === undefined || imageName === undefined) return 'none';
    const path = comparablePath(input.image);
    if (excludedAtHome(identity, path) || excludedAtHome(imageName, path)) return 'none';
    if (inNameList(suspicious, imageName) || inNameList(suspicious, identity)) return 'any';
    const parentName = processName(input.parentImage);
    if (parentName !== undefined && inNameList(officeParents, parentName)) return 'any';
    if (path !== undefined && userWritable.some((m) => path.includes(m))) return 'high';
    return 'none';
  }

  function match(input: MatchInput): ListedDomain | undefined {
    if (input.hostname === undefined) return undefined;
    const listed = listedDomain(input.hostname);
    if (listed === undefined) return undefined;
    const reach = processReach(input);
    return reach === 'any' || (reach === 'high' && listed.tier === 'high') ? listed : undefined;
  }

  return Object.freeze({
    rule,
    listedDomain,
    listedUrlHosts,
    processReach,
    processCouldMatch: (input: ProcessInput) => processReach(input) !== 'none',
    match,
  });
}
