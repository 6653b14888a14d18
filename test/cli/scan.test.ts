import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CSV_HEADER } from '../../lib/alert/index.ts';
import { formatProgress, startProgress } from '../../lib/cli/progress.ts';
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
  it('prints the CSV across several files, sorted by count then key', async () => {
    // Prepare: the Falcon group twice (process start, DNS), the Sysmon group three times (DNS)
    const falcon = write('a.ndjson.gz', gzipSync(falconNdjson()));
    const sysmon = write(
      'b.xml',
      sysmonDns('pastebin.com') + sysmonDns('PASTEBIN.com.') + sysmonDns('pastebin.com'),
    );
    // Act
    const out = await npmRun('scan', ['--format', 'csv', falcon, sysmon]);
    // Assess
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(
      [
        CSV_HEADER,
        'WKS-7,CORP\\jdoe,powershell.exe,pastebin.com,3,2024-03-01T10:00:00.123Z,2024-03-01T10:00:00.123Z',
        'WKS-7,jdoe,powershell.exe,pastebin.com,2,2024-03-01T09:59:59.000Z,2024-03-01T10:00:00.123Z',
        '',
      ].join('\n'),
    );
    expect(out.stderr).toMatch(/a\.ndjson\.gz: falcon-fdr, \d+ bytes .*matched 2, groups 1/);
  });

  it('says how many candidates of a file lacked their process context', async () => {
    // Prepare: a DNS request whose process record is in no file of the run
    const f = write('dns-only.ndjson', `${dnsRequest('a1', '42', 'pastebin.com')}\n`);
    // Act
    const out = await npmRun('scan', ['--format', 'csv', f]);
    // Assess
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(
      /dns-only\.ndjson: falcon-fdr, .*groups 0, \d+ ms, 1 candidate\(s\) dropped for want of their process context/,
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
      /^SEVERITY\s+HOST\s+USER\s+PROCESS\s+DOMAIN\s+COUNT\s+FIRST SEEN\s+LAST SEEN\n/,
    );
    expect(out.stdout).toMatch(
      /^High\s+WKS-7\s+CORP\\jdoe\s+powershell\.exe\s+cdn\.discordapp\.com\s+1\s/m,
    );
  });

  it('gives a medium-tier domain severity Medium (3)', async () => {
    // Act
    const out = await npmRun(
      'scan',
      ['--format', 'json', '-'],
      Buffer.from(sysmonDns('graph.microsoft.com')),
    );
    // Assess
    expect(out.code).toBe(0);
    const finding = JSON.parse(out.stdout.trim()) as { severity_id: number; severity: string };
    expect(finding).toMatchObject({ severity_id: 3, severity: 'Medium' });
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
    expect(out.stdout.split('\n')[1]).toMatch(/^WKS-7,jdoe,powershell\.exe,pastebin\.com,2,/);
  });
});

describe('scan --exceptions', () => {
  it.each([
    ['not JSON', '{"exceptions": [', /is not valid JSON/],
    [
      'an unknown field',
      '{"exceptions": [{"hostname": "WKS-7"}]}',
      /exceptions\[0\]\.hostname: unknown key/,
    ],
    [
      'an empty exception',
      '{"exceptions": [{}]}',
      /exceptions\[0\]: an exception must name at least one/,
    ],
    [
      'a domain with a scheme',
      '{"exceptions": [{"domain": "https://pastebin.com"}]}',
      /exceptions\[0\]\.domain: expected a hostname without a scheme/,
    ],
  ])(
    'refuses a file with %s: one clear error, exit 2, nothing scanned',
    async (_label, text, message) => {
      // Prepare
      const exceptions = write(`bad-${_label.replace(/\W+/g, '-')}.json`, text);
      const input = write('e.xml', sysmonDns('pastebin.com'));
      // Act
      const out = await npmRun('scan', ['--exceptions', exceptions, input]);
      // Assess
      expect(out.code).toBe(2);
      expect(out.stdout).toBe('');
      expect(out.stderr).toMatch(message);
      expect(out.stderr.trim().split('\n')[0]).toMatch(/^scan: (invalid )?exceptions file /);
    },
  );

  it('leaves out what an exception covers and counts it in the summary', async () => {
    // Prepare: the same DNS query by PowerShell on WKS-7, excepted for that host and domain
    const exceptions = write(
      'good.json',
      JSON.stringify({
        exceptions: [{ reason: 'inventory script', host: 'wks-7', domain: 'pastebin.com' }],
      }),
    );
    const input = write('f.xml', sysmonDns('pastebin.com') + sysmonDns('cdn.discordapp.com'));
    // Act
    const out = await npmRun('scan', ['--format', 'csv', '--exceptions', exceptions, input]);
    // Assess
    expect(out.code).toBe(0);
    expect(out.stdout.trim().split('\n').slice(1)).toEqual([
      'WKS-7,CORP\\jdoe,powershell.exe,cdn.discordapp.com,1,2024-03-01T10:00:00.123Z,2024-03-01T10:00:00.123Z',
    ]);
    expect(out.stderr).toMatch(/matched 2 \(1 excepted\), groups 1/);
  });
});

describe('scan: an input of no known shape is an error, never "nothing found"', () => {
  const winlogbeat = JSON.stringify({
    '@timestamp': '2024-03-01T10:00:00.123Z',
    winlog: {
      channel: 'Microsoft-Windows-Sysmon/Operational',
      event_id: '22',
      computer_name: 'WKS-7',
      event_data: { QueryName: 'pastebin.com', Image: 'C:\\x\\powershell.exe' },
    },
  });

  it.each([
    [
      'Winlogbeat read as Falcon',
      'wlb.ndjson',
      `${winlogbeat}\n`,
      ['--source', 'falcon'],
      /expected falcon content but the object looks like winlogbeat/,
    ],
    [
      'a JSON file of something else',
      'other.json',
      '{"user": "alice", "action": "login"}\n{"user": "bob", "action": "logout"}\n',
      [],
      /not a log of any shape this reads \(tried sysmon-xml, evtx, nxlog, winlogbeat, cwl-firehose, falcon-fdr, falcon-logscale\)/,
    ],
    [
      'a CSV',
      'export.csv',
      'host,user,domain\nWKS-7,jdoe,pastebin.com\n',
      [],
      /not a log of any shape/,
    ],
    [
      'Falcon-looking lines that are not Falcon records',
      'almost.ndjson',
      // The first line names "event_simpleName" (as a value), so it sniffs as FDR.
      '{"sensor": 1, "note": "event_simpleName"}\n{"other": true}\n',
      ['--source', 'falcon-fdr'],
      /none of its 2 records is a falcon-fdr event/,
    ],
  ])('refuses %s: says why and exits 1', async (_label, name, text, args, message) => {
    // Prepare
    const file = write(name, text);
    // Act
    const out = await npmRun('scan', ['--format', 'csv', ...args, file]);
    // Assess
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/DAMAGED \(not-a-log\)/);
    expect(out.stderr).toMatch(message);
  });

  it('lists every registered shape in --help', async () => {
    // Act
    const out = await npmRun('scan', ['--help']);
    // Assess
    for (const name of [
      'sysmon-xml',
      'nxlog',
      'winlogbeat',
      'cwl-firehose',
      'falcon-fdr',
      'falcon-logscale',
    ])
      expect(`${out.stdout}${out.stderr}`).toContain(name);
  });

  it('reads a Winlogbeat file by its own name', async () => {
    // Prepare
    const file = write('named.ndjson', `${winlogbeat}\n`);
    // Act
    const out = await npmRun('scan', ['--format', 'csv', '--source', 'winlogbeat', file]);
    // Assess: no UtcTime in the event, so its time is @timestamp
    expect(out.code).toBe(0);
    expect(out.stdout.trim().split('\n').slice(1)).toEqual([
      'WKS-7,,powershell.exe,pastebin.com,1,2024-03-01T10:00:00.123Z,2024-03-01T10:00:00.123Z',
    ]);
  });

  it('prints --help on standard output with the exit codes and exits 0', async () => {
    // Act
    const out = await npmRun('scan', ['--help']);
    // Assess
    expect(out.code).toBe(0);
    expect(out.stderr).toBe('');
    expect(out.stdout).toMatch(/^usage: npm run scan/);
    expect(out.stdout).toMatch(/Exit status:\n {2}0 .+\n {2}1 .+\n.+\n {2}2 {2}bad usage/);
  });

  it('reads every file under a directory, recursively', async () => {
    // Prepare
    const root = join(dir, 'tree');
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    writeFileSync(join(root, 'a', 'one.xml'), sysmonDns('pastebin.com'));
    writeFileSync(join(root, 'a', 'b', 'two.ndjson.gz'), gzipSync(falconNdjson()));
    // Act
    const out = await npmRun('scan', ['--format', 'csv', root]);
    // Assess
    expect(out.code).toBe(0);
    expect(out.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(out.stderr).toContain(`${join(root, 'a', 'b', 'two.ndjson.gz')}: falcon`);
    expect(out.stderr).toContain(`${join(root, 'a', 'one.xml')}: sysmon`);
  });

  it('expands a quoted glob, ** included', async () => {
    // Prepare
    const root = join(dir, 'globbed');
    mkdirSync(join(root, 'x', 'y'), { recursive: true });
    writeFileSync(join(root, 'x', 'y', 'hit.xml'), sysmonDns('pastebin.com'));
    writeFileSync(join(root, 'x', 'miss.txt'), sysmonDns('pastebin.com'));
    // Act
    const out = await npmRun('scan', ['--format', 'csv', `${root}/**/*.xml`]);
    // Assess
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('hit.xml: sysmon');
    expect(out.stderr).not.toContain('miss.txt');
  });

  it('prints nothing on standard output when no input could be read', async () => {
    // Act
    const missing = await npmRun('scan', [join(dir, 'missing.xml')]);
    const unmatched = await npmRun('scan', ['--format', 'csv', `${dir}/nothing/*.xml`]);
    // Assess
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('no input could be read');
    expect(unmatched.code).toBe(1);
    expect(unmatched.stdout).toBe('');
    expect(unmatched.stderr).toContain(`${dir}/nothing/*.xml: no file matches`);
  });

  it('shows no progress line when standard error is not a terminal', async () => {
    // Act
    const out = await npmRun('scan', [write('p.xml', sysmonDns('pastebin.com'))]);
    // Assess
    expect(out.stderr).not.toContain('\r');
  });
});

describe('scan progress on a terminal', () => {
  it.each([
    [
      { bytesRead: 3 * 2 ** 20, size: 12 * 2 ** 20, elapsedMs: 2000 },
      'f: 25% (3.0/12 MiB) 1.5 MiB/s',
    ],
    [{ bytesRead: 40 * 2 ** 20, size: undefined, elapsedMs: 4000 }, 'f: 40 MiB read, 10.0 MiB/s'],
    [{ bytesRead: 0, size: 0, elapsedMs: 0 }, 'f: 0.0 MiB read, 0.0 MiB/s'],
  ])('formats %o', (p, line) => {
    expect(formatProgress({ file: 'f', ...p })).toBe(line);
  });

  it('redraws one line with percentage and rate, and erases it when done', async () => {
    // Prepare
    const written: string[] = [];
    const tty = {
      isTTY: true,
      write: (s: string) => written.push(s),
    } as unknown as NodeJS.WriteStream;
    // Act
    const stop = startProgress(tty, 'big.gz', 100, () => 50);
    await new Promise((r) => setTimeout(r, 600));
    stop();
    // Assess
    expect(written[0]).toMatch(/^\r\u001b\[Kbig\.gz: 50% \(0\.0\/0\.0 MiB\) [\d.]+ MiB\/s$/);
    expect(written.at(-1)).toBe('\r\u001b[K');
  });
});
