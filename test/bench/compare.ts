/** Puts alert groups from any producer (engine, naive path, generator oracle) side by side. */
import type { AlertGroup } from '../../lib/alert/types.ts';
import { compareKeys, type PlantedGroup } from './generate.ts';

/** The part of a group both the generator's oracle and SPEC §3 define: key, count, times. */
export type GroupSummary = PlantedGroup;

/** Differences listed before the rest is only counted. */
const MAX_LISTED_DIFFERENCES = 10;

export function summarize(groups: readonly (AlertGroup | PlantedGroup)[]): GroupSummary[] {
  return groups
    .map((g) => ({
      key: {
        host: g.key.host,
        user: g.key.user,
        process: g.key.process,
        domain: g.key.domain,
      },
      count: g.count,
      firstSeen: g.firstSeen,
      lastSeen: g.lastSeen,
    }))
    .sort((a, b) => compareKeys(a.key, b.key));
}

/** Whole groups (evidence too) sorted by key: what the fast and the full path must agree on. */
export function sortGroups(groups: readonly AlertGroup[]): AlertGroup[] {
  return [...groups].sort((a, b) => compareKeys(a.key, b.key));
}

const keyText = (g: GroupSummary): string =>
  `${g.key.host} | ${g.key.user} | ${g.key.process} | ${g.key.domain}`;
const valueText = (g: GroupSummary): string =>
  `count ${g.count}, ${new Date(g.firstSeen).toISOString()} .. ${new Date(g.lastSeen).toISOString()}`;

/** Human-readable differences between two summaries (empty when identical). */
export function diffSummaries(
  leftName: string,
  left: readonly GroupSummary[],
  rightName: string,
  right: readonly GroupSummary[],
): string[] {
  const byKey = (list: readonly GroupSummary[]) => new Map(list.map((g) => [keyText(g), g]));
  const l = byKey(left);
  const r = byKey(right);
  const out: string[] = [];
  for (const key of [...new Set([...l.keys(), ...r.keys()])].sort()) {
    const a = l.get(key);
    const b = r.get(key);
    if (a && b && a.count === b.count && a.firstSeen === b.firstSeen && a.lastSeen === b.lastSeen)
      continue;
    out.push(
      `${key}: ${leftName} ${a ? valueText(a) : 'absent'}; ${rightName} ${b ? valueText(b) : 'absent'}`,
    );
  }
  if (out.length > MAX_LISTED_DIFFERENCES) {
    const rest = out.length - MAX_LISTED_DIFFERENCES;
    return [...out.slice(0, MAX_LISTED_DIFFERENCES), `... and ${rest} more`];
  }
  return out;
}
