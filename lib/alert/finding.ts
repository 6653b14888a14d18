import { createHash } from 'node:crypto';
import type { Rule, Severity, Tier } from '../rule/types.ts';
import { groupKeyString } from './group.ts';
import type { AlertGroup } from './types.ts';

/** OCSF schema version the findings follow. */
export const OCSF_VERSION = '1.3.0';
export const PRODUCT = {
  name: 't1102-web-service-detection',
  vendor_name: 'T1102 Detection',
  version: '0.1.0',
};

/** OCSF Detection Finding (class 2004) as published: the fields this product fills. */
export interface DetectionFinding {
  class_uid: 2004;
  class_name: 'Detection Finding';
  category_uid: 2;
  category_name: 'Findings';
  activity_id: 1 | 2;
  activity_name: 'Create' | 'Update';
  type_uid: 200401 | 200402;
  type_name: string;
  severity_id: number;
  severity: string;
  status_id: 1;
  status: 'New';
  time: number;
  count: number;
  message: string;
  metadata: {
    version: string;
    product: typeof PRODUCT;
    uid: string;
  };
  finding_info: {
    uid: string;
    title: string;
    desc: string;
    types: string[];
    first_seen_time: number;
    last_seen_time: number;
    analytic: { uid: string; name: string; type_id: 1; type: 'Rule' };
  };
  attacks: Array<{
    technique: { uid: string; name: string };
    tactic: { uid: string; name: string };
  }>;
  device: { hostname: string; type_id: 0 };
  actor: {
    user: { name: string };
    process: {
      name: string;
      file: { name: string; path?: string };
      cmd_line?: string;
      parent_process?: { file: { name: string } };
    };
  };
  observables: Array<{ name: string; type_id: number; type: string; value: string }>;
  evidences: Array<Record<string, unknown>>;
  /** Everything kept per group that OCSF has no place for; `evidence_trimmed` when cut to fit. */
  unmapped: {
    domain: string;
    /** The listed domain's tier, which the severity follows. */
    tier: Tier;
    command_lines: string[];
    parent_processes: string[];
    process_paths: string[];
    dst_ips: string[];
    dst_ports: number[];
    event_kinds: string[];
    sources: string[];
    provenance: Array<{ origin: string; record: number }>;
    false_positives: string[];
    evidence_trimmed?: boolean;
    /** A summary finding (the object passed its group cap): what it stands for. */
    summary?: {
      listed_domain: string;
      sample_domains: string[];
      sample_users: string[];
    };
  };
}

const SEVERITY_ID: Record<Severity, number> = {
  informational: 1,
  low: 2,
  medium: 3,
  high: 4,
  critical: 5,
};
const SEVERITY_NAME: Record<Severity, string> = {
  informational: 'Informational',
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  critical: 'Critical',
};

/** Stable id: the same rule and group key always give the same id, so a replay dedupes. */
export function findingUid(ruleId: string, group: AlertGroup, window?: string): string {
  const h = createHash('sha256').update(ruleId).update('\u0000').update(groupKeyString(group.key));
  if (window !== undefined) h.update('\u0000').update(window);
  return h.digest('hex').slice(0, 32);
}

export interface FindingOptions {
  activity?: 'create' | 'update';
  /** Window start (issue: cross-object state) folded into the uid. */
  window?: string;
}

/** Builds the OCSF Detection Finding for one alert group. */
export function buildFinding(
  rule: Rule,
  g: AlertGroup,
  options: FindingOptions = {},
): DetectionFinding {
  const uid = findingUid(rule.id, g, options.window);
  const update = options.activity === 'update';
  const { host, user, process, domain } = g.key;
  const ev = g.evidence;
  const path = ev.processPaths[0];
  const cmd = ev.commandLines[0];
  const parent = ev.parents[0];
  return {
    class_uid: 2004,
    class_name: 'Detection Finding',
    category_uid: 2,
    category_name: 'Findings',
    activity_id: update ? 2 : 1,
    activity_name: update ? 'Update' : 'Create',
    type_uid: update ? 200402 : 200401,
    type_name: `Detection Finding: ${update ? 'Update' : 'Create'}`,
    // A tier's severity has the tier's name.
    severity_id: SEVERITY_ID[g.tier],
    severity: SEVERITY_NAME[g.tier],
    status_id: 1,
    status: 'New',
    time: g.lastSeen,
    count: g.count,
    message: g.summary
      ? `${process} contacted names under ${g.summary.listedDomain} on ${host || 'an unknown host'} ${g.count} time(s), past the per-object group cap (summary)`
      : `${process} contacted ${domain} on ${host || 'an unknown host'} ${g.count} time(s)`,
    metadata: { version: OCSF_VERSION, product: PRODUCT, uid },
    finding_info: {
      uid,
      title: rule.title,
      desc: rule.description,
      types: [`${rule.attack.technique.uid} ${rule.attack.technique.name}`],
      first_seen_time: g.firstSeen,
      last_seen_time: g.lastSeen,
      analytic: { uid: rule.id, name: rule.title, type_id: 1, type: 'Rule' },
    },
    attacks: [{ technique: rule.attack.technique, tactic: rule.attack.tactic }],
    device: { hostname: host, type_id: 0 },
    actor: {
      user: { name: user },
      process: {
        name: process,
        file: { name: process, ...(path === undefined ? {} : { path }) },
        ...(cmd === undefined ? {} : { cmd_line: cmd }),
        ...(parent === undefined ? {} : { parent_process: { file: { name: parent } } }),
      },
    },
    observables: [
      { name: 'device.hostname', type_id: 1, type: 'Hostname', value: host },
      { name: 'query.hostname', type_id: 1, type: 'Hostname', value: domain },
      { name: 'actor.user.name', type_id: 4, type: 'User Name', value: user },
      { name: 'actor.process.name', type_id: 9, type: 'Process Name', value: process },
    ].filter((o) => o.value !== ''),
    evidences: ev.kinds.map((kind) =>
      kind === 'dns'
        ? { query: { hostname: domain } }
        : kind === 'process'
          ? {
              url: { hostname: domain },
              ...(cmd === undefined ? {} : { process: { cmd_line: cmd } }),
            }
          : { dst_endpoint: { hostname: domain, ...(ev.dstIps[0] ? { ip: ev.dstIps[0] } : {}) } },
    ),
    unmapped: {
      domain,
      tier: g.tier,
      command_lines: ev.commandLines,
      parent_processes: ev.parents,
      process_paths: ev.processPaths,
      dst_ips: ev.dstIps,
      dst_ports: ev.dstPorts,
      event_kinds: ev.kinds,
      sources: ev.sources,
      provenance: ev.provenance,
      false_positives: rule.falsePositives,
      ...(g.summary
        ? {
            summary: {
              listed_domain: g.summary.listedDomain,
              sample_domains: g.summary.sampleDomains,
              sample_users: g.summary.sampleUsers,
            },
          }
        : {}),
    },
  };
}
