/**
 * One SNS message per alert group: the OCSF Detection Finding for machines (`default`), a text a
 * person reads in a mail client (`email`), a one-line subject, and attributes for subscription
 * filter policies, all within SNS's limits.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sns';
import type { AlertGroup, DetectionFinding, GroupKey } from '../alert/index.ts';
import { buildFinding, isoTime } from '../alert/index.ts';
import { MAX_EVIDENCE_ITEMS } from '../engine/index.ts';
import type { SourceName } from '../event/types.ts';
import type { Rule } from '../rule/index.ts';
import { AlertTooLargeError } from './errors.ts';

/**
 * SNS: message body plus attributes at most 256 KiB (262,144 bytes).
 * https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
 */
export const MAX_SNS_MESSAGE_BYTES = 262_144;
/**
 * docs/detection.md (Platform limits) allows 100 characters; the SNS API reference says "less
 * than 100 characters long", so subjects stay at 99, which satisfies both. ASCII, no line breaks or control characters.
 */
export const MAX_SUBJECT_CHARS = 99;
/** Attribute values are for filter policies: the group key, capped so a hostile name stays small. */
export const MAX_ATTRIBUTE_VALUE_CHARS = 256;

/**
 * How far evidence is cut when an alert is too large, tried in order until the message fits:
 * characters per evidence string, items per evidence list.
 */
export const TRIM_LEVELS: ReadonlyArray<{ maxChars: number; maxItems: number }> = [
  { maxChars: 16_384, maxItems: MAX_EVIDENCE_ITEMS },
  { maxChars: 2_048, maxItems: MAX_EVIDENCE_ITEMS },
  { maxChars: 512, maxItems: 5 },
  { maxChars: 128, maxItems: 2 },
  { maxChars: 64, maxItems: 0 },
];
/** The group key (host, user, process, domain) is what identifies an alert: never cut below this. */
export const MIN_KEY_CHARS = 256;

const TRIM_MARK = '…';

export interface AlertMessage {
  /** `finding_info.uid`: stable for the rule and group. */
  uid: string;
  key: GroupKey;
  subject: string;
  /** The `MessageStructure: "json"` body: `{"default": <finding JSON>, "email": <text>}`. */
  message: string;
  attributes: Record<string, MessageAttributeValue>;
  /** What SNS counts against MAX_SNS_MESSAGE_BYTES: body, subject and attributes. */
  bytes: number;
  trimmed: boolean;
  finding: DetectionFinding;
}

export interface AlertMessageOptions {
  activity: 'create' | 'update';
  /** The telemetry family of the object the alert came from. */
  source: SourceName;
  /** Event-time window start (ISO) when alerts are windowed across objects; part of the finding uid. */
  window?: string;
  maxBytes?: number;
}

/** Cuts to at most `max` characters (UTF-16 units), never splitting a surrogate pair. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = Math.max(0, max - TRIM_MARK.length);
  const code = s.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return s.slice(0, end) + TRIM_MARK;
}

// SQS (where most subscriptions end) accepts only XML 1.0 characters; JSON escapes the control
// characters, but not U+FFFE/U+FFFF.
const sqsSafe = (s: string): string => s.replace(/[\uFFFE\uFFFF]/g, '\uFFFD');

/** Printable ASCII only: accents folded (Ü -> U), anything else as `?`, whitespace collapsed. */
export function toAscii(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
}

/** `T1102 web service C2: powershell.exe -> pastebin.com on WKS-7 (12x)`, at most 99 ASCII chars. */
export function alertSubject(finding: DetectionFinding): string {
  const technique = finding.attacks[0]?.technique;
  const prefix = toAscii(`${technique?.uid ?? ''} ${(technique?.name ?? '').toLowerCase()} C2`);
  const process = toAscii(finding.actor.process.name) || 'unknown process';
  const domain = toAscii(finding.unmapped.domain) || 'unknown domain';
  const host = toAscii(finding.device.hostname) || 'unknown host';
  let subject = '';
  // Shorten the variable parts evenly before cutting the whole line.
  for (const max of [Number.POSITIVE_INFINITY, 40, 28, 20, 12]) {
    const part = (s: string) => (s.length > max ? `${s.slice(0, max - 3)}...` : s);
    subject = `${prefix}: ${part(process)} -> ${part(domain)} on ${part(host)} (${finding.count}x)`;
    if (subject.length <= MAX_SUBJECT_CHARS) return subject;
  }
  return `${subject.slice(0, MAX_SUBJECT_CHARS - 3)}...`;
}

const list = (items: readonly (string | number)[], empty = '(none)'): string =>
  items.length === 0 ? empty : items.join(', ');

/** The `email` body: what happened, where, how often, the evidence, what to check. */
export function alertEmail(finding: DetectionFinding, source: SourceName): string {
  const f = finding;
  const u = f.unmapped;
  const p = f.actor.process;
  const host = f.device.hostname || '(unknown host)';
  const user = f.actor.user.name || '(unknown user)';
  const attack = f.attacks[0];
  const parent = p.parent_process?.file.name;
  const first = isoTime(f.finding_info.first_seen_time);
  const last = isoTime(f.finding_info.last_seen_time);
  const attackUrl = attack
    ? `https://attack.mitre.org/techniques/${attack.technique.uid.replace('.', '/')}/`
    : undefined;
  const lines = [
    `${f.finding_info.title}`,
    `Severity ${f.severity}. Rule ${f.finding_info.analytic.uid}. Finding ${f.finding_info.uid} (${f.activity_name}).`,
    '',
    'WHAT HAPPENED',
    `  ${p.name} on ${host} (user ${user}) contacted ${u.domain} ${f.count} time(s). ` +
      'That is a legitimate web service which attackers use for command and control or as a dead drop.',
    '',
    'WHERE',
    `  Host:       ${host}`,
    `  User:       ${user}`,
    `  Process:    ${p.name}${p.file.path ? ` (${p.file.path})` : ''}`,
    `  Parent:     ${list(u.parent_processes, '(unknown)')}`,
    `  Domain:     ${u.domain}`,
    `  Telemetry:  ${source} (${list(u.event_kinds)})`,
    `  Found in:   ${list(
      u.provenance.map((r) => `${r.origin} record ${r.record}`),
      '(not kept)',
    )}`,
    '',
    'HOW OFTEN',
    `  ${f.count} event(s), first seen ${first}, last seen ${last}.`,
    '',
    'EVIDENCE',
    '  Command lines:',
    ...(u.command_lines.length === 0
      ? ['    (none recorded)']
      : u.command_lines.map((c) => `    ${c}`)),
    `  Destination IPs:   ${list(u.dst_ips)}`,
    `  Destination ports: ${list(u.dst_ports)}`,
    ...(u.evidence_trimmed
      ? [
          '  (Evidence trimmed to fit the SNS message size limit; the full records are in the',
          '  object named above.)',
        ]
      : []),
    '',
    'WHAT TO CHECK',
    `  1. Is ${p.name} on ${host} expected to reach ${u.domain}? Ask the owner of ${user}.`,
    `  2. What started it${parent ? ` (parent ${parent})` : ''}: a document, a script, a scheduled task?`,
    '  3. Read the command lines for URLs, encoded commands (-enc), download cradles or paste ids.',
    `  4. What else ${host} did between ${first} and ${last}: child processes, files written,`,
    '     other outbound connections. Isolate the host if the activity is not explained.',
    ...(u.false_positives.length > 0
      ? ['', 'KNOWN FALSE POSITIVES', ...u.false_positives.map((x) => `  - ${x}`)]
      : []),
    '',
    attack
      ? `MITRE ATT&CK ${attack.technique.uid} ${attack.technique.name} (${attack.tactic.uid} ${attack.tactic.name}): ${attackUrl}`
      : '',
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}

/** The finding with its evidence cut to a trim level, marked `unmapped.evidence_trimmed`. */
export function trimFinding(
  f: DetectionFinding,
  level: { maxChars: number; maxItems: number },
): DetectionFinding {
  const cut = (s: string) => truncate(s, level.maxChars);
  const keyCut = (s: string) => truncate(s, Math.max(level.maxChars, MIN_KEY_CHARS));
  const few = <T>(xs: readonly T[], map: (x: T) => T = (x) => x): T[] =>
    xs.slice(0, level.maxItems).map(map);
  const p = f.actor.process;
  const u = f.unmapped;
  return {
    ...f,
    message: truncate(f.message, Math.max(level.maxChars, 4 * MIN_KEY_CHARS)),
    device: { ...f.device, hostname: keyCut(f.device.hostname) },
    actor: {
      user: { name: keyCut(f.actor.user.name) },
      process: {
        name: keyCut(p.name),
        file: {
          name: keyCut(p.file.name),
          ...(p.file.path === undefined ? {} : { path: cut(p.file.path) }),
        },
        ...(p.cmd_line === undefined ? {} : { cmd_line: cut(p.cmd_line) }),
        ...(p.parent_process === undefined
          ? {}
          : { parent_process: { file: { name: cut(p.parent_process.file.name) } } }),
      },
    },
    observables: f.observables.map((o) => ({ ...o, value: keyCut(o.value) })),
    unmapped: {
      ...u,
      domain: keyCut(u.domain),
      command_lines: few(u.command_lines, cut),
      parent_processes: few(u.parent_processes, cut),
      process_paths: few(u.process_paths, cut),
      dst_ips: few(u.dst_ips, cut),
      dst_ports: few(u.dst_ports),
      provenance: few(u.provenance, (r) => ({ origin: cut(r.origin), record: r.record })),
      false_positives: few(u.false_positives, cut),
      evidence_trimmed: true,
    },
  };
}

/** Attributes for subscription filter policies. SNS rejects empty values, so those are left out. */
export function alertAttributes(
  finding: DetectionFinding,
  rule: Rule,
  source: SourceName,
): Record<string, MessageAttributeValue> {
  const values: Record<string, string> = {
    rule: rule.id,
    severity: finding.severity,
    technique: rule.attack.technique.uid,
    source,
    host: finding.device.hostname,
    process: finding.actor.process.name,
    domain: finding.unmapped.domain,
  };
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(values)) {
    // Control characters are not allowed in attribute values; a filter policy cannot match them.
    const clean = sqsSafe(
      truncate(value.replace(/[\u0000-\u001f\u007f]/g, ' ').trim(), MAX_ATTRIBUTE_VALUE_CHARS),
    );
    if (clean !== '') out[name] = { DataType: 'String', StringValue: clean };
  }
  return out;
}

/** Bytes SNS counts for a message: body, subject, and each attribute's name, type and value. */
export function messageBytes(
  message: string,
  subject: string,
  attributes: Record<string, MessageAttributeValue>,
): number {
  let bytes = Buffer.byteLength(message) + Buffer.byteLength(subject);
  for (const [name, a] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(a.DataType ?? '');
    bytes += Buffer.byteLength(a.StringValue ?? '') + (a.BinaryValue?.byteLength ?? 0);
  }
  return bytes;
}

/**
 * Builds the SNS message of one alert group. When the whole message would exceed
 * MAX_SNS_MESSAGE_BYTES, the evidence is cut level by level (TRIM_LEVELS) until it fits, and the
 * finding says so (`unmapped.evidence_trimmed = true`). The finding's uid never changes.
 */
export function buildAlertMessage(
  rule: Rule,
  group: AlertGroup,
  options: AlertMessageOptions,
): AlertMessage {
  const maxBytes = options.maxBytes ?? MAX_SNS_MESSAGE_BYTES;
  const full = buildFinding(rule, group, {
    activity: options.activity,
    ...(options.window === undefined ? {} : { window: options.window }),
  });
  const attributes = alertAttributes(full, rule, options.source);
  const subject = alertSubject(full);
  const render = (finding: DetectionFinding) => {
    const message = sqsSafe(
      JSON.stringify({
        default: JSON.stringify(finding),
        email: alertEmail(finding, options.source),
      }),
    );
    return { message, bytes: messageBytes(message, subject, attributes) };
  };
  let finding = full;
  let rendered = render(full);
  for (const level of TRIM_LEVELS) {
    if (rendered.bytes <= maxBytes) break;
    finding = trimFinding(full, level);
    rendered = render(finding);
  }
  if (rendered.bytes > maxBytes) {
    throw new AlertTooLargeError(
      `alert ${full.finding_info.uid} is ${rendered.bytes} bytes even with its evidence trimmed (limit ${maxBytes})`,
    );
  }
  return {
    uid: full.finding_info.uid,
    key: group.key,
    subject,
    message: rendered.message,
    attributes,
    bytes: rendered.bytes,
    trimmed: finding !== full,
    finding,
  };
}
