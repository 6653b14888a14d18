import { MAX_EVIDENCE_ITEMS } from '../engine/limits.ts';
import type { NormalizedEvent } from '../event/types.ts';
import type { Tier } from '../rule/types.ts';
import type { AlertGroup, GroupEvidence, GroupKey, GroupOverflow } from './types.ts';

/** What the grouper needs of a matched event once its joins are resolved. */
export interface ResolvedMatch {
  event: NormalizedEvent;
  key: GroupKey;
  tier: Tier;
  cmdLine: string | undefined;
  parent: string | undefined;
  processPath: string | undefined;
}

/** Evidence of a group before its first match. */
export const emptyEvidence = (): GroupEvidence => ({
  commandLines: [],
  parents: [],
  processPaths: [],
  dstIps: [],
  dstPorts: [],
  kinds: [],
  sources: [],
  provenance: [],
});

/** Adds `v` unless present or the list is full: evidence is bounded and de-duplicated. */
function addBounded<T>(
  list: T[],
  v: T | undefined,
  same: (a: T, b: T) => boolean = Object.is,
): void {
  if (v === undefined || list.length >= MAX_EVIDENCE_ITEMS) return;
  if (!list.some((x) => same(x, v))) list.push(v);
}

export const groupKeyString = (k: GroupKey): string =>
  `${k.host}\u0000${k.user}\u0000${k.process}\u0000${k.domain}`;

/** The grouper's bounds: distinct groups, then summary groups, per flush (one object). */
export interface GroupCaps {
  maxGroups: number;
  maxSummaries: number;
  /** The listed domain a matched name falls under (the rule's), for summary keys. */
  listedDomain: (domain: string) => string | undefined;
}

/** User of a summary group: it stands for every user of its host and process. */
export const SUMMARY_USER = '*';

/**
 * Groups matches by their key (docs/detection.md, Grouping and output) with count, first and last seen in event time.
 *
 * Bounded (`caps`): past `maxGroups` distinct groups, a match of a new group is folded into one
 * summary group per host, process and listed domain (and window), so a flood of random names
 * under a listed domain costs one group, not one per name; past `maxSummaries` of those, matches
 * are only counted (`overflow`). Groups already open keep counting in full.
 */
export class Grouper {
  private readonly groups = new Map<string, AlertGroup>();
  private readonly summaries = new Map<string, AlertGroup>();
  private overflowCounts: GroupOverflow = { summarized: 0, dropped: 0 };

  /** `windowMs`: also split groups by tumbling event-time window of this length. */
  constructor(
    private readonly windowMs?: number,
    private readonly caps?: GroupCaps,
  ) {}

  add(m: ResolvedMatch): void {
    const t = m.event.time;
    const windowStart = this.windowMs ? Math.floor(t / this.windowMs) * this.windowMs : undefined;
    const suffix = windowStart === undefined ? '' : `\u0000${windowStart}`;
    const id = `${groupKeyString(m.key)}${suffix}`;
    let g = this.groups.get(id);
    if (!g && this.caps && this.groups.size >= this.caps.maxGroups) {
      this.summarize(m, windowStart, suffix);
      return;
    }
    if (!g) {
      g = newGroup(m.key, m.tier, t, windowStart);
      this.groups.set(id, g);
    }
    count(g, m);
  }

  private summarize(m: ResolvedMatch, windowStart: number | undefined, suffix: string): void {
    const caps = this.caps as GroupCaps;
    const listed = caps.listedDomain(m.key.domain) ?? m.key.domain;
    const key: GroupKey = {
      host: m.key.host,
      user: SUMMARY_USER,
      process: m.key.process,
      domain: `*.${listed}`,
    };
    const id = `${groupKeyString(key)}${suffix}`;
    let g = this.summaries.get(id);
    if (!g) {
      if (this.summaries.size >= caps.maxSummaries) {
        this.overflowCounts.dropped++;
        return;
      }
      g = newGroup(key, m.tier, m.event.time, windowStart);
      g.summary = { listedDomain: listed, sampleDomains: [], sampleUsers: [] };
      this.summaries.set(id, g);
    }
    this.overflowCounts.summarized++;
    count(g, m);
    addBounded(g.summary!.sampleDomains, m.key.domain);
    addBounded(g.summary!.sampleUsers, m.key.user || undefined);
  }

  /** Matches past the caps since the last flush. */
  get overflow(): GroupOverflow {
    return { ...this.overflowCounts };
  }

  /** Takes the groups and empties the grouper (an explicit flush at the end of each object). */
  flush(): AlertGroup[] {
    const out = [...this.groups.values(), ...this.summaries.values()];
    this.groups.clear();
    this.summaries.clear();
    this.overflowCounts = { summarized: 0, dropped: 0 };
    return out;
  }

  get size(): number {
    return this.groups.size + this.summaries.size;
  }
}

function newGroup(
  key: GroupKey,
  tier: Tier,
  t: number,
  windowStart: number | undefined,
): AlertGroup {
  const g: AlertGroup = {
    key,
    tier,
    count: 0,
    firstSeen: t,
    lastSeen: t,
    evidence: emptyEvidence(),
  };
  if (windowStart !== undefined) g.windowStart = windowStart;
  return g;
}

/** Counts one match into `g` and adds its evidence. */
function count(g: AlertGroup, m: ResolvedMatch): void {
  const t = m.event.time;
  g.count++;
  if (t < g.firstSeen) g.firstSeen = t;
  if (t > g.lastSeen) g.lastSeen = t;
  const ev = g.evidence;
  addBounded(ev.commandLines, m.cmdLine);
  addBounded(ev.parents, m.parent);
  addBounded(ev.processPaths, m.processPath);
  addBounded(ev.dstIps, m.event.dst_endpoint?.ip);
  addBounded(ev.dstPorts, m.event.dst_endpoint?.port);
  addBounded(ev.kinds, m.event.kind);
  addBounded(ev.sources, m.event.provenance.source);
  addBounded(
    ev.provenance,
    { origin: m.event.provenance.origin, record: m.event.provenance.record },
    (a, b) => a.origin === b.origin && a.record === b.record,
  );
}

/** Merges groups of several objects (the CLI's view across files): counts add, times widen. */
export function mergeGroups(groups: Iterable<AlertGroup>): AlertGroup[] {
  const out = new Map<string, AlertGroup>();
  for (const g of groups) {
    const id = `${groupKeyString(g.key)}\u0000${g.windowStart ?? ''}`;
    const have = out.get(id);
    if (!have) {
      out.set(id, structuredClone(g));
      continue;
    }
    have.count += g.count;
    have.firstSeen = Math.min(have.firstSeen, g.firstSeen);
    have.lastSeen = Math.max(have.lastSeen, g.lastSeen);
    const a = have.evidence;
    const b = g.evidence;
    for (const v of b.commandLines) addBounded(a.commandLines, v);
    for (const v of b.parents) addBounded(a.parents, v);
    for (const v of b.processPaths) addBounded(a.processPaths, v);
    for (const v of b.dstIps) addBounded(a.dstIps, v);
    for (const v of b.dstPorts) addBounded(a.dstPorts, v);
    for (const v of b.kinds) addBounded(a.kinds, v);
    for (const v of b.sources) addBounded(a.sources, v);
    for (const v of b.provenance) {
      addBounded(a.provenance, v, (x, y) => x.origin === y.origin && x.record === y.record);
    }
    if (have.summary && g.summary) {
      for (const v of g.summary.sampleDomains) addBounded(have.summary.sampleDomains, v);
      for (const v of g.summary.sampleUsers) addBounded(have.summary.sampleUsers, v);
    }
  }
  return [...out.values()];
}

/** The order of docs/detection.md (Grouping and output): count descending, then host, user, process, domain (plain string order). */
export function sortGroups(groups: AlertGroup[]): AlertGroup[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...groups].sort(
    (a, b) =>
      b.count - a.count ||
      cmp(a.key.host, b.key.host) ||
      cmp(a.key.user, b.key.user) ||
      cmp(a.key.process, b.key.process) ||
      cmp(a.key.domain, b.key.domain),
  );
}
