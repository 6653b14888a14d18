import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CSV_HEADER } from '../../lib/alert/index.ts';
import { falconNdjson, sysmonDns } from '../engine/fixtures.ts';
import { dnsRequest } from '../helpers/falcon-records.ts';
import { npmRun } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'scan-cli-'));
const write = (name: string, data: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};

describe('scan command', () => {
  it('prints the SPEC §3 CSV across several files, sorted by count then key', async () => {
    // Prepare: the Falcon group once, the Sysmon group twice (two DNS queries)
    const falcon = write('a.ndjson.gz', gzipSync(falconNdjson()));
    const sysmon = write('b.xml', sysmonDns('pastebin.com') + sysmonDns('PASTEBIN.com.'));
    // Act
    const out = await npmRun('scan', ['--format', 'csv', falcon, sysmon]);
    // Assess
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(
      [
        CSV_HEADER,
        'WKS-7,CORP\\jdoe,powershell.exe,pastebin.com,2,2024-03-01T10:00:00.123Z,2024-03-01T10:00:00.123Z',
        'WKS-7,jdoe,powershell.exe,pastebin.com,1,2024-03-01T10:00:00.123Z,2024-03-01T10:00:00.123Z',
        '',
      ].join('\n'),
    );
    expect(out.stderr).toMatch(/a\.ndjson\.gz: falcon, \d+ bytes .*matched 1, groups 1/);
  });

  it('says how many candidates of a file lacked their process context', async () => {
    // Prepare: a DNS request whose process record is in no file of the run
    const f = write('dns-only.ndjson', `${dnsRequest('a1', '42', 'pastebin.com')}\n`);
    // Act
    const out = await npmRun('scan', ['--format', 'csv', f]);
    // Assess
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(
      /dns-only\.ndjson: falcon, .*groups 0, \d+ ms, 1 candidate\(s\) dropped for want of their process context/,
    );
  });

  it('quotes fields per RFC 4180', async () => {
    // Prepare: a user name with a comma and a quote
    const f = write('q.xml', sysmonDns('pastebin.com').replace('CORP\\jdoe', 'CORP\\"j,doe"'));
    // Act
    const out = await npmRun('scan', ['--format', 'csv', f]);
    // Assess
    expect(out.stdout.split('\n')[1]).toBe(
      'WKS-7,"CORP\\""j,doe""",powershell.exe,pastebin.com,1,2024-03-01T10:00:00.123Z,2024-03-01T10:00:00.123Z',
    );
  });

  it('prints one OCSF Detection Finding per line with --format json', async () => {
    // Prepare
    const f = write('j.xml', sysmonDns('api.telegram.org.'));
    // Act
    const out = await npmRun('scan', ['--format', 'json', f]);
    // Assess
    const lines = out.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const finding = JSON.parse(lines[0]!);
    expect(finding).toMatchObject({
      class_uid: 2004,
      count: 1,
      severity_id: 4,
      device: { hostname: 'WKS-7' },
      attacks: [{ technique: { uid: 'T1102' }, tactic: { uid: 'TA0011' } }],
      finding_info: { first_seen_time: Date.parse('2024-03-01T10:00:00.123Z') },
    });
    expect(finding.finding_info.uid).toMatch(/^[0-9a-f]{32}$/);
  });

  it('prints a table by default and reads standard input for -', async () => {
    // Act
    const out = await npmRun('scan', ['-'], gzipSync(sysmonDns('cdn.discordapp.com')));
    // Assess
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(
      /^HOST\s+USER\s+PROCESS\s+DOMAIN\s+COUNT\s+FIRST SEEN\s+LAST SEEN\n/,
    );
    expect(out.stdout).toMatch(/WKS-7\s+CORP\\jdoe\s+powershell\.exe\s+cdn\.discordapp\.com\s+1\s/);
  });

  it('exits 2 on bad usage', async () => {
    // Act
    const out = await npmRun('scan', ['--format', 'yaml', 'x']);
    // Assess
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/unknown --format yaml/);
  });

  it('exits 1 with the file and the reason in one line when a file cannot be read', async () => {
    // Prepare
    const good = write('good.xml', sysmonDns('pastebin.com'));
    // Act
    const out = await npmRun('scan', ['--format', 'csv', join(dir, 'missing.xml'), good]);
    // Assess
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`${join(dir, 'missing.xml')}: cannot be read: no such file\n`);
    expect(out.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(out.stdout.split('\n')).toHaveLength(3); // the good file still scanned
  });

  it('reports a damaged file and still prints what it found', async () => {
    // Prepare
    const gz = gzipSync(
      falconNdjson() + '\n'.repeat(1).concat('{"event_simpleName":"EndOfProcess"}\n'.repeat(3000)),
    );
    const f = write('cut.ndjson.gz', gz.subarray(0, gz.length - 20));
    // Act
    const out = await npmRun('scan', ['--format', 'csv', '--stats', f]);
    // Assess
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/DAMAGED \(truncated-gzip\)/);
    expect(out.stderr).toMatch(/stats: peak RSS [\d.]+ MiB/);
    expect(out.stdout.split('\n')[1]).toMatch(/^WKS-7,jdoe,powershell\.exe,pastebin\.com,1,/);
  });
});
