import type { NormalizedEvent } from '../event/types.ts';

export type Severity = 'informational' | 'low' | 'medium' | 'high' | 'critical';

/**
 * How strongly a listed domain suggests abuse (docs/detection.md, "Domain tiers"): `high` for
 * dead drops, paste sites, raw content and bot or webhook APIs; `medium` for enterprise cloud APIs
 * with routine administrative use. A group's severity follows its domain's tier.
 */
export type Tier = 'high' | 'medium';

/** Tiers in the order the rule lists them; a tier's severity has the same name. */
export const TIERS = ['high', 'medium'] as const satisfies readonly Tier[];

/** An excluded client (browser, sync or chat client) and the path fragments of its real homes. */
export interface ExcludedClient {
  /** Lower-case basename. */
  name: string;
  /** Lower-case path fragments with `\` separators; one in the image path makes it the client. */
  homes: string[];
}

/** The rule file (`lib/rules/*.json`) after validation. */
export interface Rule {
  id: string;
  /** Version of the rule's logic (docs/detection.md describes version 2). */
  version: 2;
  title: string;
  description: string;
  attack: {
    technique: { uid: string; name: string };
    tactic: { uid: string; name: string };
  };
  falsePositives: string[];
  references: string[];
  lists: {
    /** Listed domains by tier; a hostname matches one when equal to it or ending in "." + it. */
    domains: Record<Tier, string[]>;
    excludedClients: ExcludedClient[];
    /** Lower-case basenames; a trailing `*` stands for one or more digits (`python3.*`: python3.11). */
    suspiciousProcesses: string[];
    /** Lower-case basenames of Office / PDF parents. */
    officeParents: string[];
    /** Lower-case path fragments (`\appdata\`) of places any user can write to. */
    userWritablePaths: string[];
  };
  tests: {
    positive: RuleTestCase[];
    negative: RuleTestCase[];
  };
}

export interface RuleTestCase {
  name: string;
  event: RuleTestEvent;
  /** Positive cases: the tier the match must have. */
  tier?: Tier;
}

/** The fields of a resolved event the matcher reads, as written in the rule's own tests. */
export interface RuleTestEvent {
  kind: 'dns' | 'network' | 'process';
  /** DNS query name or connection hostname; process starts take theirs from `cmdLine`. */
  hostname?: string;
  image?: string;
  originalFileName?: string;
  parentImage?: string;
  cmdLine?: string;
}

/**
 * What the matcher needs of an event whose joins are resolved: the observed hostname (DNS query
 * name, the connection's hostname after the joins, or a process start's URL host).
 */
export interface MatchInput {
  kind: NormalizedEvent['kind'];
  hostname: string | undefined;
  /** Image path when known, else its basename (either separator). */
  image: string | undefined;
  /** Sysmon OriginalFileName (path or basename), when the batch has it. */
  originalFileName: string | undefined;
  /** Parent image path or basename. */
  parentImage: string | undefined;
}

/** The process fields clauses 3 and 4 read. */
export type ProcessInput = Pick<MatchInput, 'image' | 'originalFileName' | 'parentImage'>;

/**
 * Which listed domains a process can match (clauses 3 and 4): `none` (an excluded client at home,
 * or no branch holds), `high` (only branch c: a user-writable image, high-tier domains only), or
 * `any` (a suspicious process or an Office/PDF child).
 */
export type Reach = 'none' | 'high' | 'any';

export interface ListedDomain {
  /** The longest listed domain the hostname falls under. */
  domain: string;
  tier: Tier;
}

/** A rule compiled once: every predicate precomputed, nothing parsed per event. */
export interface CompiledRule {
  readonly rule: Rule;
  /** The longest listed domain `hostname` falls under (case-insensitive, one trailing dot ignored). */
  listedDomain(hostname: string): ListedDomain | undefined;
  /** Every host in a URL (`scheme://host...`) of `cmdLine` that is listed, lower-case, de-duplicated. */
  listedUrlHosts(cmdLine: string): string[];
  /** Which tiers a process with this image / identity / parent can match (clauses 3 and 4). */
  processReach(input: ProcessInput): Reach;
  /** True when the process can match anything: `processReach(input) !== 'none'`. */
  processCouldMatch(input: ProcessInput): boolean;
  /** The full rule (clauses 1-4 of docs/detection.md): the listed domain matched, else undefined. */
  match(input: MatchInput): ListedDomain | undefined;
}
