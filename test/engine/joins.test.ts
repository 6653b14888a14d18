import { describe, expect, it } from 'vitest';
import { type ScanLimits, type ScanObjectOptions, scanObject } from '../../lib/engine/index.ts';
import { defaultRule } from '../../lib/rule/index.ts';
import { SOURCE_PLUGINS } from '../../lib/sources/index.ts';
import { chunks, falconLines, sysmonDns } from './fixtures.ts';

/**
 * The joins of docs/detection.md under the engine's memory bounds (lib/engine/limits.ts): a connection
 * waits for the DNS answer that names its host and is joined when it arrives; what is kept is
 * bounded by bytes of input and by process ends, never by the size of the object.
 */

/** powershell (aid a1, pid 100) connecting to the IP its pastebin.com query resolved to. */
const connection =
  '{"event_simpleName":"NetworkConnectIP4","aid":"a1","ContextProcessId":"100","RemoteAddressIP4":"104.20.67.143","RemotePort":"443","ConnectionDirection":"0","ContextTimeStamp":"1709287200.100"}';
const CONNECTION_TIME = Date.parse('2024-03-01T10:00:00.100Z');
/** The DNS query's ContextTimeStamp in falconLines.dns. */
const DNS_TIME = Date.parse('2024-03-01T10:00:00.123Z');

/** Unrelated outbound connections of other processes (~230 bytes each). */
function otherConnections(n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) =>
      `{"event_simpleName":"NetworkConnectIP4","aid":"a1","ContextProcessId":"${900_000 + i}","RemoteAddressIP4":"10.0.${(i >> 8) & 255}.${i & 255}","RemotePort":"443","ConnectionDirection":"0","ContextTimeStamp":"1709287201.000"}`,
  );
}

const processOf = (pid: number, image: string, cmd = image) =>
  `{"event_simpleName":"ProcessRollup2","aid":"a1","TargetProcessId":"${pid}","ImageFileName":"\\\\Device\\\\HarddiskVolume2\\\\Windows\\\\System32\\\\${image}","CommandLine":"${cmd}","ParentBaseFileName":"explorer.exe","UserName":"jdoe","timestamp":"1709287199000"}`;
const endOf = (pid: number) =>
  `{"event_simpleName":"EndOfProcess","aid":"a1","TargetProcessId":"${pid}","ContextTimeStamp":"1709287202.000"}`;
/** powershell without a URL in its command line: only the DNS answer can name its host. */
const powershell = processOf(100, 'powershell.exe');
/** cmd.exe (pid 201, which could match too) and its pastebin.com query. */
const cmd = processOf(201, 'cmd.exe');
const cmdQuery = falconLines.dns.replace('"ContextProcessId":"100"', '"ContextProcessId":"201"');

/**
 * Yields each part (whole records) in turn from ONE buffer, overwritten before the next part. A
 * record the engine keeps past its chunk as a view of the chunk would then read the next part's
 * bytes; with real input such a view keeps the chunk's whole zlib buffer alive instead. (Records
 * that straddle two chunks are not tested this way: the splitter holds those as views until they
 * end.)
 */
async function* reusingOneBuffer(parts: string[]): AsyncGenerator<Uint8Array> {
  const shared = Buffer.alloc(Math.max(...parts.map((p) => Buffer.byteLength(p))));
  for (const part of parts) {
    shared.fill(0x20);
    yield shared.subarray(0, shared.write(part));
  }
}

/** powershell's Sysmon network connection (EventID 3) to `ip`, with no destination hostname. */
const sysmonConnection = (ip: string) =>
  `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>3</EventID><TimeCreated SystemTime='2024-03-01T09:59:59.9000000Z'/><Computer>WKS-7</Computer></System><EventData><Data Name='RuleName'>-</Data><Data Name='UtcTime'>2024-03-01 09:59:59.900</Data><Data Name='ProcessGuid'>{11111111-2222-3333-4444-555555555555}</Data><Data Name='ProcessId'>4242</Data><Data Name='Image'>C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe</Data><Data Name='User'>CORP\\jdoe</Data><Data Name='Protocol'>tcp</Data><Data Name='Initiated'>true</Data><Data Name='SourceIsIpv6'>false</Data><Data Name='SourceIp'>10.0.0.7</Data><Data Name='SourceHostname'>-</Data><Data Name='SourcePort'>50123</Data><Data Name='SourcePortName'>-</Data><Data Name='DestinationIsIpv6'>false</Data><Data Name='DestinationIp'>${ip}</Data><Data Name='DestinationHostname'>-</Data><Data Name='DestinationPort'>443</Data><Data Name='DestinationPortName'>https</Data></EventData></Event>`;

/** scanObject with the default rule; the format is sniffed from the content, not the origin. */
function scanInput(
  input: AsyncIterable<Uint8Array>,
  mode: 'fast' | 'full',
  more: Partial<ScanObjectOptions> = {},
) {
  return scanObject(input, {
    origin: 'joins',
    sources: SOURCE_PLUGINS,
    rule: defaultRule(),
    mode,
    ...more,
  });
}

async function scan(lines: string[], mode: 'fast' | 'full', limits: Partial<ScanLimits> = {}) {
  return scanInput(chunks(Buffer.from(lines.join('\n'))), mode, { limits });
}

/** powershell's connection, `others` unrelated connections, then the DNS answer it joins. */
const answerAfter = (others: number) => [
  falconLines.aidmaster,
  powershell,
  connection,
  ...otherConnections(others),
  falconLines.dns,
];

describe.each(['fast', 'full'] as const)('Joins under bounded memory (%s mode)', (mode) => {
  it('joins a connection to the DNS answer written after it, however many connections follow', async () => {
    // Arrange: 60,000 other connections after the join (more than the connections that may wait)
    const lines = [
      falconLines.aidmaster,
      powershell,
      connection,
      falconLines.dns,
      ...otherConnections(60_000),
    ];
    // Act
    const { groups } = await scan(lines, mode);
    // Assess: the DNS query and the connection, one group
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({
      key: { host: 'WKS-7', user: 'jdoe', process: 'powershell.exe', domain: 'pastebin.com' },
      count: 2,
      firstSeen: CONNECTION_TIME,
      lastSeen: DNS_TIME,
    });
  });

  it('joins a connection whose DNS answer comes thousands of records later, within the window', async () => {
    // Arrange: ~1.1 MB between them, under the 2 MiB window
    const lines = answerAfter(5_000);
    // Act
    const { groups } = await scan(lines, mode);
    // Assess
    expect(groups.map((g) => g.count)).toEqual([2]);
  });

  it('lets a connection go once its wait passes maxPendingBytes: only the DNS query matches', async () => {
    // Arrange: ~23 KB between the connection and its answer, with a 10 KB window
    const lines = answerAfter(100);
    // Act
    const bounded = await scan(lines, mode, { maxPendingBytes: 10_000 });
    const unbounded = await scan(lines, mode);
    // Assess
    expect(bounded.groups.map((g) => g.count)).toEqual([1]);
    expect(bounded.groups[0]?.firstSeen).toBe(DNS_TIME);
    expect(unbounded.groups.map((g) => g.count)).toEqual([2]);
  });

  it('forgets an ended process once maxEndedProcesses other processes have ended', async () => {
    // Arrange: powershell ends, then three cmd.exe processes (which could match) start and end
    const others = [201, 202, 203].flatMap((pid) => [processOf(pid, 'cmd.exe'), endOf(pid)]);
    const lines = [falconLines.aidmaster, powershell, endOf(100), ...others, falconLines.dns];
    // Act
    const forgotten = await scan(lines, mode, { maxEndedProcesses: 3 });
    const kept = await scan(lines, mode, { maxEndedProcesses: 4 });
    // Assess: without its process record a Falcon DNS query names no process (docs/detection.md, "Joins")
    expect(forgotten.groups).toEqual([]);
    expect(kept.groups.map((g) => g.key.process)).toEqual(['powershell.exe']);
  });

  it('forgets an ended process once the input is maxEndedBytes past its end', async () => {
    // Arrange: ~23 KB of other records after powershell's end, then one more process ends
    const lines = [
      falconLines.aidmaster,
      powershell,
      endOf(100),
      ...otherConnections(100),
      cmd,
      endOf(201),
      falconLines.dns,
    ];
    // Act
    const forgotten = await scan(lines, mode, { maxEndedBytes: 10_000 });
    const kept = await scan(lines, mode, { maxEndedBytes: 40_000 });
    // Assess: without its process record a Falcon DNS query names no process (docs/detection.md, "Joins")
    expect(forgotten.groups).toEqual([]);
    expect(kept.groups.map((g) => g.key.process)).toEqual(['powershell.exe']);
  });

  it('keeps an ended process while records written after its end still need it', async () => {
    // Arrange: the DNS query and connection come after the EndOfProcess record
    const lines = [falconLines.aidmaster, powershell, endOf(100), connection, falconLines.dns];
    // Act
    const { groups } = await scan(lines, mode);
    // Assess
    expect(groups.map((g) => g.count)).toEqual([2]);
  });

  it('joins a waiting connection from its own bytes, after the buffer it was read from is reused', async () => {
    // Arrange: whole lines per chunk
    const parts = [
      [falconLines.aidmaster, powershell],
      [connection],
      otherConnections(40),
      [falconLines.dns],
    ].map((group) => `${group.join('\n')}\n`);
    // Act
    const { groups } = await scanInput(reusingOneBuffer(parts), mode);
    // Assess: the connection (written before its answer) and the DNS query, one group
    expect(groups.map((g) => [g.count, g.firstSeen])).toEqual([[2, CONNECTION_TIME]]);
  });

  it('reports a waiting connection that is not UTF-8 where it is, once a join asks for it', async () => {
    // Arrange: the connection's port holds a byte that no UTF-8 text has
    const bad = Buffer.from(connection.replace('"443"', '"4\u00ff3"'), 'latin1');
    const head = Buffer.from(`${falconLines.aidmaster}\n${powershell}\n`);
    const text = Buffer.concat([head, bad, Buffer.from(`\n${falconLines.dns}\n`)]);
    const skips: Array<[string, number, number]> = [];
    // Act
    const { groups, stats } = await scanInput(chunks(text), mode, {
      onSkip: (s) => skips.push([s.reason, s.record, s.offset]),
    });
    // Assess: record 3, at the byte after the two lines before it; the DNS query still matches
    expect(skips).toEqual([['invalid-encoding', 3, head.length]]);
    expect(stats.skipped).toEqual({ 'invalid-encoding': 1 });
    expect(groups.map((g) => g.count)).toEqual([1]);
  });

  it('drops the events of a process whose own record shows it cannot match', async () => {
    // Arrange: chrome.exe (an excluded client) resolving and connecting to pastebin.com
    const chrome = processOf(100, 'chrome.exe');
    const lines = [falconLines.aidmaster, chrome, connection, falconLines.dns];
    // Act
    const { groups, stats } = await scan(lines, mode);
    // Assess: nothing matches; the fast path parsed only the aidmaster record
    expect(groups).toEqual([]);
    expect(stats.recordsParsed).toBe(mode === 'fast' ? 1 : lines.length);
  });
});

describe.each(['fast', 'full'] as const)(
  'Candidates waiting for late context (%s mode)',
  (mode) => {
    const processes = (groups: Array<{ key: { process: string } }>) =>
      groups.map((g) => g.key.process).sort();

    it('gives a candidate the process record written after it, though an early flush comes between', async () => {
      // Arrange: cmd.exe's query, ~4.6 kB of other records, then powershell's query and, after
      // it, powershell's process record. Two candidates fill the buffer.
      const lines = [
        falconLines.aidmaster,
        cmd,
        cmdQuery,
        ...otherConnections(20),
        falconLines.dns,
        powershell,
      ];
      // Act
      const { groups } = await scan(lines, mode, {
        maxCandidates: 2,
        maxCandidateWaitBytes: 2_000,
      });
      // Assess: the flush resolved only cmd.exe's query, which had waited out the 2 kB; powershell's
      // waited for its process record (docs/detection.md, "Joins": a Falcon query names no process of its own)
      expect(processes(groups)).toEqual(['cmd.exe', 'powershell.exe']);
    });

    it('resolves a candidate without a process record written more than maxCandidateWaitBytes after it', async () => {
      // Arrange: powershell's query, ~4.6 kB of other records, cmd.exe's query, then powershell's
      // process record
      const lines = [
        falconLines.aidmaster,
        falconLines.dns,
        ...otherConnections(20),
        cmd,
        cmdQuery,
        powershell,
      ];
      // Act
      const bounded = await scan(lines, mode, { maxCandidates: 2, maxCandidateWaitBytes: 2_000 });
      const unbounded = await scan(lines, mode);
      // Assess: the second candidate made the flush due, and powershell's query had waited 2 kB
      expect(processes(bounded.groups)).toEqual(['cmd.exe']);
      expect(processes(unbounded.groups)).toEqual(['cmd.exe', 'powershell.exe']);
    });
  },
);

describe.each(['fast', 'full'] as const)(
  'Process contexts under their bounds (%s mode)',
  (mode) => {
    /** A command line of `n` characters with no URL in it, as `-EncodedCommand` ones are. */
    const longCommand = (image: string, n: number) =>
      `${image} -NoProfile -EncodedCommand ${'A'.repeat(n - image.length - 28)}`;

    it('drops the oldest context past maxProcessContexts, and says so', async () => {
      // Arrange: powershell, then two cmd.exe processes (which could match too), then its query
      const lines = [
        falconLines.aidmaster,
        powershell,
        cmd,
        processOf(202, 'cmd.exe'),
        falconLines.dns,
      ];
      // Act
      const dropped = await scan(lines, mode, { maxProcessContexts: 2 });
      const kept = await scan(lines, mode, { maxProcessContexts: 3 });
      // Assess: without its process record a Falcon DNS query names no process (docs/detection.md, "Joins")
      expect(dropped.groups).toEqual([]);
      expect(dropped.stats.skipped).toEqual({ 'context-evicted': 1 });
      expect(kept.groups.map((g) => g.key.process)).toEqual(['powershell.exe']);
      expect(kept.stats.skipped).toEqual({});
    });

    it('drops the oldest contexts once they hold more than maxContextBytes, and says so', async () => {
      // Arrange: five processes that could match, each with a 4,000-character command line
      const lines = [
        falconLines.aidmaster,
        processOf(100, 'powershell.exe', longCommand('powershell.exe', 4_000)),
        ...[201, 202, 203, 204].map((pid) =>
          processOf(pid, 'cmd.exe', longCommand('cmd.exe', 4_000)),
        ),
        falconLines.dns,
      ];
      const messages: string[] = [];
      // Act: room for two of them, then for all five
      const dropped = await scanInput(chunks(Buffer.from(lines.join('\n'))), mode, {
        limits: { maxContextBytes: 10_000 },
        onSkip: (s) => messages.push(s.message),
      });
      const kept = await scan(lines, mode, { maxContextBytes: 25_000 });
      // Assess: the third, fourth and fifth each push the oldest out, powershell first
      expect(dropped.groups).toEqual([]);
      expect(dropped.stats.skipped).toEqual({ 'context-evicted': 3 });
      expect(messages[0]).toBe(
        'the oldest process context was dropped: the process contexts held passed 10000 characters',
      );
      expect(kept.groups.map((g) => [g.key.process, g.evidence.commandLines[0]?.length])).toEqual([
        ['powershell.exe', 4_000],
      ]);
      expect(kept.stats.skipped).toEqual({});
    });

    it('holds a process re-sent many times at the size of a few of its records', async () => {
      // Arrange: a cmd.exe process, then the same powershell record 40 times (sensors re-send
      // records), then cmd.exe's query. Forty 900-character records would pass the bound.
      const resent = processOf(100, 'powershell.exe', longCommand('powershell.exe', 700));
      const lines = [falconLines.aidmaster, cmd, ...Array(40).fill(resent), cmdQuery];
      // Act
      const { groups, stats } = await scan(lines, mode, { maxContextBytes: 12_000 });
      // Assess: cmd.exe's context stayed, so its query names it
      expect(groups.map((g) => g.key.process)).toEqual(['cmd.exe']);
      expect(stats.skipped).toEqual({});
    });

    it('counts the characters of a held Sysmon process record too', async () => {
      // Arrange: powershell's process record with a 4,000-character command line between three
      // cmd.exe ones whose command lines hold entity references (held another way), then
      // powershell's query (which names its image itself)
      const create = (guid: string, image: string, cmd: string) =>
        `<Event><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID><TimeCreated SystemTime='2024-03-01T09:59:00.0000000Z'/><Computer>WKS-7</Computer></System><EventData><Data Name='UtcTime'>2024-03-01 09:59:00.000</Data><Data Name='ProcessGuid'>${guid}</Data><Data Name='Image'>C:\\Windows\\System32\\${image}</Data><Data Name='CommandLine'>${cmd}</Data><Data Name='ParentImage'>C:\\Windows\\explorer.exe</Data><Data Name='User'>CORP\\jdoe</Data></EventData></Event>`;
      const cmd = (i: number) =>
        create(
          `{11111111-2222-3333-4444-00000000000${i}}`,
          'cmd.exe',
          `cmd.exe /c &quot;${'A'.repeat(4_000)}&quot;`,
        );
      const text = [
        cmd(1),
        create(
          '{11111111-2222-3333-4444-555555555555}',
          'powershell.exe',
          longCommand('powershell.exe', 4_000),
        ),
        cmd(2),
        cmd(3),
        sysmonDns('pastebin.com'),
      ].join('');
      // Act
      const dropped = await scanInput(chunks(Buffer.from(text)), mode, {
        limits: { maxContextBytes: 10_000 },
      });
      const kept = await scanInput(chunks(Buffer.from(text)), mode);
      // Assess: the second and third cmd.exe push out the first, then powershell. Its query still
      // matches on its own image; only its context (the command line, the parent) went
      expect(dropped.stats.skipped).toEqual({ 'context-evicted': 2 });
      expect(dropped.groups.map((g) => [g.key.process, g.evidence.commandLines])).toEqual([
        ['powershell.exe', []],
      ]);
      expect(kept.groups.map((g) => [g.key.process, g.evidence.commandLines[0]?.length])).toEqual([
        ['powershell.exe', 4_000],
      ]);
    });
  },
);

describe.each(['fast', 'full'] as const)('A waiting Sysmon connection (%s mode)', (mode) => {
  it('joins from its own bytes, after the buffer it was read from is reused', async () => {
    // Arrange: after a first chunk (the reader copies the first to sniff it), powershell's
    // connection to the IP and another, then over the same bytes an unlisted DNS query and
    // the listed one that answers with the IP
    const parts = [
      sysmonDns('example.com'),
      sysmonConnection('104.20.67.143') + sysmonConnection('10.1.2.3'),
      sysmonDns('example.org') + sysmonDns('pastebin.com'),
    ];
    // Act
    const { groups } = await scanInput(reusingOneBuffer(parts), mode);
    // Assess: the connection (written first) and the DNS query, one group (docs/detection.md)
    expect(groups.map((g) => [g.key.domain, g.count, g.firstSeen])).toEqual([
      ['pastebin.com', 2, Date.parse('2024-03-01T09:59:59.900Z')],
    ]);
  });
});

describe('A URL host in a Sysmon command line that entity references spell', () => {
  const guid = '{11111111-2222-3333-4444-555555555555}';
  const event = (id: number, data: string) =>
    // No xmlns: its `http://` must not be what makes the engine look for URLs.
    `<Event><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>${id}</EventID><TimeCreated SystemTime='2024-03-01T10:00:00.1230000Z'/><Computer>WKS-7</Computer></System><EventData><Data Name='UtcTime'>2024-03-01 10:00:00.123</Data><Data Name='ProcessGuid'>${guid}</Data>${data}</EventData></Event>`;
  const image =
    "<Data Name='Image'>C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe</Data>";
  /** `https&#58;//pastebin.com/raw/x`: the colon is a character reference. */
  const processCreate = event(
    1,
    `${image}<Data Name='OriginalFileName'>PowerShell.EXE</Data><Data Name='CommandLine'>powershell -c iwr https&#58;//pastebin.com/raw/x</Data><Data Name='ParentImage'>C:\\Windows\\explorer.exe</Data><Data Name='User'>CORP\\jdoe</Data>`,
  );
  /** A connection with no hostname: only the command line can name its host (docs/detection.md, "Joins"). */
  const connect = event(
    3,
    `${image}<Data Name='User'>CORP\\jdoe</Data><Data Name='Initiated'>true</Data><Data Name='DestinationIp'>104.20.67.143</Data><Data Name='DestinationHostname'>-</Data><Data Name='DestinationPort'>443</Data>`,
  );

  it.each(['fast', 'full'] as const)('names the connection in %s mode', async (mode) => {
    // Act
    const { groups } = await scanInput(chunks(Buffer.from(processCreate + connect)), mode);
    // Assess: the connection and the process start
    expect(groups.map((g) => [g.key.process, g.key.domain, g.count, g.evidence.kinds])).toEqual([
      ['powershell.exe', 'pastebin.com', 2, ['process', 'network']],
    ]);
  });
});

describe('A URL host in a Falcon command line written with escaped slashes', () => {
  /** `https:\/\/pastebin.com\/raw\/x`, as JSON encoders that escape `/` write it. */
  const processCreate =
    '{"event_simpleName":"ProcessRollup2","aid":"a1","TargetProcessId":"100","ImageFileName":"\\\\Device\\\\HarddiskVolume2\\\\Windows\\\\System32\\\\WindowsPowerShell\\\\v1.0\\\\powershell.exe","CommandLine":"powershell -c iwr https:\\/\\/pastebin.com\\/raw\\/x","ParentBaseFileName":"explorer.exe","UserName":"jdoe","timestamp":"1709287199000"}';

  it.each(['fast', 'full'] as const)('names the connection in %s mode', async (mode) => {
    // Act: no DNS record, so only the command line can name the connection's host
    const { groups } = await scan([falconLines.aidmaster, processCreate, connection], mode);
    // Assess: the process start and the connection
    expect(groups.map((g) => [g.key.process, g.key.domain, g.count, g.evidence.kinds])).toEqual([
      ['powershell.exe', 'pastebin.com', 2, ['process', 'network']],
    ]);
  });
});
