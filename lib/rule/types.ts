import type { NormalizedEvent } from '../event/types.ts';

export type Severity = 'informational' | 'low' | 'medium' | 'high' | 'critical';

/** The rule file (`lib/rules/*.json`) after validation. */
export interface Rule {
  id: string;
  title: string;
  description: string;
  severity: Severity;
  attack: {
    technique: { uid: string; name: string };
    tactic: { uid: string; name: string };
  };
  falsePositives: string[];
  references: string[];
  lists: {
    /** Listed domains; a hostname matches one when equal to it or ending in "." + it. */
    domains: string[];
    /** Lower-case basenames of browsers and sync clients. */
    excludedClients: string[];
    /** Lower-case basenames; a trailing `*` stands for one or more digits (`python3.*`: python3.11). */
    suspiciousProcesses: string[];
    /** Lower-case basenames of Office / PDF parents. */
    officeParents: string[];
  };
  tests: {
    positive: RuleTestCase[];
    negative: RuleTestCase[];
  };
}

export interface RuleTestCase {
  name: string;
  event: RuleTestEvent;
}

/** The fields of a resolved event the matcher reads, as written in the rule's own tests. */
export interface RuleTestEvent {
  kind: 'dns' | 'network';
  hostname?: string;
  image?: string;
  originalFileName?: string;
  parentImage?: string;
}

/**
 * What the matcher needs of an event whose joins are resolved: the observed hostname
 * (DNS query name, or the connection's hostname after the DNS / command-line joins).
 */
export interface MatchInput {
  kind: NormalizedEvent['kind'];
  hostname: string | undefined;
  /** Image path or basename (either separator). */
  image: string | undefined;
  /** Sysmon OriginalFileName (path or basename), when the batch has it. */
  originalFileName: string | undefined;
  /** Parent image path or basename. */
  parentImage: string | undefined;
}

/** A rule compiled once: every predicate precomputed, nothing parsed per event. */
export interface CompiledRule {
  readonly rule: Rule;
  /** The listed domain `hostname` falls under (case-insensitive, one trailing dot ignored), else undefined. */
  listedDomain(hostname: string): string | undefined;
  /** Every host in a URL (`scheme://host...`) of `cmdLine` that is listed, lower-case, de-duplicated. */
  listedUrlHosts(cmdLine: string): string[];
  /** True when a process with this image / identity / parent could satisfy clauses 3 and 4. */
  processCouldMatch(input: Pick<MatchInput, 'image' | 'originalFileName' | 'parentImage'>): boolean;
  /** True when any of these lower-case basenames appears in any list that clauses 3-4 read. */
  isProcessNameOfInterest(basenameLower: string): boolean;
  /** The full rule: clauses 1-4 of SPEC §1. */
  matches(input: MatchInput): boolean;
}
