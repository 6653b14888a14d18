import { describe, expect, it } from 'vitest';
import type { ResolvedMatch } from '../../lib/alert/group.ts';
import { buildFinding, Grouper, mergeGroups, SUMMARY_USER } from '../../lib/alert/index.ts';
import type { NormalizedEvent } from '../../lib/event/types.ts';
import { defaultRule } from '../../lib/rule/index.ts';

const rule = defaultRule();
const caps = (maxGroups: number, maxSummaries = 10) => ({
  maxGroups,
  maxSummaries,
  listedDomain: (d: string) => rule.listedDomain(d)?.domain,
});

/** A matched DNS query of `domain` by powershell on `host` at `t`. */
function match(host: string, domain: string, t: number, user = 'jdoe'): ResolvedMatch {
  const event = {
    kind: 'dns',
    time: t,
    provenance: { source: 'falcon', origin: 's3://b/k', record: t },
  } as unknown as NormalizedEvent;
  return {
    event,
    key: { host, user, process: 'powershell.exe', domain },
    tier: 'high',
    cmdLine: undefined,
    parent: undefined,
    processPath: undefined,
  };
}

describe('Grouper: the per-object cap', () => {
  it('keeps the first maxGroups groups and folds later names into one summary per host, process and listed domain', () => {
    // Prepare
    const grouper = new Grouper(undefined, caps(2));

    // Act
    grouper.add(match('H1', 'a.firebaseio.com', 1));
    grouper.add(match('H1', 'b.firebaseio.com', 2));
    grouper.add(match('H1', 'c.firebaseio.com', 3));
    grouper.add(match('H1', 'd.firebaseio.com', 4, 'root'));
    grouper.add(match('H1', 'a.firebaseio.com', 5)); // an open group keeps counting
    grouper.add(match('H2', 'pastebin.com', 6));
    const overflow = grouper.overflow;
    const groups = grouper.flush();

    // Assess
    expect(groups.map((g) => [g.key.host, g.key.user, g.key.domain, g.count])).toEqual([
      ['H1', 'jdoe', 'a.firebaseio.com', 2],
      ['H1', 'jdoe', 'b.firebaseio.com', 1],
      ['H1', SUMMARY_USER, '*.firebaseio.com', 2],
      ['H2', SUMMARY_USER, '*.pastebin.com', 1],
    ]);
    expect(groups[2]!.summary).toEqual({
      listedDomain: 'firebaseio.com',
      sampleDomains: ['c.firebaseio.com', 'd.firebaseio.com'],
      sampleUsers: ['jdoe', 'root'],
    });
    expect([groups[2]!.firstSeen, groups[2]!.lastSeen]).toEqual([3, 4]);
    expect(overflow).toEqual({ summarized: 3, dropped: 0 });
    expect(grouper.overflow).toEqual({ summarized: 0, dropped: 0 });
  });

  it('counts matches past the summary cap without keeping them', () => {
    // Prepare
    const grouper = new Grouper(undefined, caps(1, 1));

    // Act
    grouper.add(match('H0', 'pastebin.com', 1));
    for (let h = 1; h <= 5; h++) grouper.add(match(`H${h}`, 'pastebin.com', h));

    // Assess
    expect(grouper.overflow).toEqual({ summarized: 1, dropped: 4 });
    expect(grouper.flush()).toHaveLength(2);
  });

  it('splits summaries by window like groups', () => {
    // Prepare
    const grouper = new Grouper(10, caps(0));

    // Act
    grouper.add(match('H1', 'a.pastebin.com', 1));
    grouper.add(match('H1', 'b.pastebin.com', 15));

    // Assess
    expect(grouper.flush().map((g) => [g.windowStart, g.count])).toEqual([
      [0, 1],
      [10, 1],
    ]);
  });

  it('merges the samples of summaries of several objects', () => {
    // Prepare
    const a = new Grouper(undefined, caps(0));
    const b = new Grouper(undefined, caps(0));
    a.add(match('H1', 'a.pastebin.com', 1));
    b.add(match('H1', 'b.pastebin.com', 2, 'root'));

    // Act
    const [merged] = mergeGroups([...a.flush(), ...b.flush()]);

    // Assess
    expect(merged!.count).toBe(2);
    expect(merged!.summary?.sampleDomains).toEqual(['a.pastebin.com', 'b.pastebin.com']);
    expect(merged!.summary?.sampleUsers).toEqual(['jdoe', 'root']);
  });

  it('builds a summary finding that says what it stands for, with its own uid', () => {
    // Prepare
    const grouper = new Grouper(undefined, caps(1));
    grouper.add(match('H1', 'a.pastebin.com', 1));
    grouper.add(match('H1', 'b.pastebin.com', 2));
    const [group, summary] = grouper.flush();

    // Act
    const f = buildFinding(rule.rule, summary!);

    // Assess
    expect(f.unmapped.summary).toEqual({
      listed_domain: 'pastebin.com',
      sample_domains: ['b.pastebin.com'],
      sample_users: ['jdoe'],
    });
    expect(f.message).toContain('past the per-object group cap');
    expect(f.finding_info.uid).not.toBe(buildFinding(rule.rule, group!).finding_info.uid);
  });
});
