import { MAX_EVIDENCE_ITEMS } from '../engine/limits.ts';
import type { NormalizedEvent } from '../event/types.ts';
import type { Tier } from '../rule/types.ts';
import type { AlertGroup, GroupEvidence, GroupKey } from './types.ts';

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

/** Groups matches by their key (docs/detection.md, Grouping and output) with count, first and last seen in event time. */
export class Grouper {
  private readonly groups = new Map<string, AlertGroup>();

  /** `windowMs`: also split groups by tumbling event-time window of this length. */
  constructor(private readonly windowMs?: number) {}

  add(m: ResolvedMatch): void {
    const t = m.event.time;
    const windowStart = this.windowMs ? Math.floor(t / this.windowMs) * this.windowMs : undefined;
    const id =
      windowStart === undefined
        ? groupKeyString(m.key)
        : `${groupKeyString(m.key)}\u0000${windowStart}`;
    let g = this.groups.get(id);
    if (!g) {
      g = {
        key: m.key,
        tier: m.tier,
        count: 0,
        firstSeen: t,
        lastSeen: t,
        evidence: emptyEvidence(),
      };
      if (windowStart !== undefined) g.windowStart = windowStart;
      this.groups.set(id, g);
    }
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

  /** Takes the groups and empties the grouper (an explicit flush at the end of each object). */
  flush(): AlertGroup[] {
    const out = [...this.groups.values()];
    this.groups.clear();
    return out;
  }

  get size(): number {
    return this.groups.size;
  }
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
