/**
 * Renders simulated events as `wevtutil qe /f:xml` writes Sysmon: concatenated `<Event>`
 * elements, no root, no separators, single-quoted attributes, the full System block, and the
 * EventData fields in Sysmon schema 4.x order (compare shared/datasets/sysmon).
 */
import type { Formatter, SimEvent } from './events.ts';
import { utcTime } from './events.ts';
import { type Host, hashesOf, type Proc } from './world.ts';

const PROVIDER =
  "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385f-c22a-43e0-bf4c-06f5698ffbd9}'/><EventID>";
export const SYSMON_CHANNEL = 'Microsoft-Windows-Sysmon/Operational';
const SPECIAL = /[&<>"']/;
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

export function xmlEscape(text: string): string {
  return SPECIAL.test(text) ? text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c) : text;
}

/** Sysmon `Version` of each EventID in schema 4.x. */
const VERSIONS: Record<number, number> = {
  1: 5,
  3: 5,
  5: 3,
  7: 3,
  10: 3,
  11: 2,
  12: 2,
  13: 2,
  22: 5,
};

/** One `<Data>` of EventData: its name and its value as Sysmon writes it (unescaped). */
export type SysmonData = readonly [name: string, value: string];

const d = (name: string, value: string | number): SysmonData => [name, String(value)];

/**
 * One Sysmon event as the event log holds it, before any shape renders it: the System fields the
 * shapes carry and the EventData in schema order. Every shape (XML here, the JSON shapes and
 * CloudWatch Logs in shapes.ts) renders this, so they all carry the same values.
 */
export interface SysmonRecord {
  eventId: number;
  version: number;
  /** TimeCreated SystemTime, ISO 8601 with 7 fractional digits. */
  systemTime: string;
  recordId: number;
  /** Sysmon's own process and thread (System/Execution). */
  processId: number;
  threadId: number;
  computer: string;
  data: readonly SysmonData[];
}

interface HostState {
  recordId: number;
  sysmonPid: number;
}

export class SysmonFormatter implements Formatter {
  private readonly hostState = new Map<Host, HostState>();

  /** UtcTime, which every rendered record carries, to the millisecond. */
  recordTime(event: SimEvent): number {
    return event.time;
  }

  render(ev: SimEvent): string {
    return sysmonXml(this.record(ev));
  }

  /** The event as Sysmon records it; each call is the next record of its host (EventRecordID). */
  record(ev: SimEvent): SysmonRecord {
    if (ev.t === 'aidmaster') throw new TypeError('aidmaster records exist only in Falcon batches');
    const host = ev.proc.host;
    let st = this.hostState.get(host);
    if (!st) {
      st = { recordId: 1_000 + host.index * 7919, sysmonPid: 2_000 + ((host.index * 52) % 2_000) };
      this.hostState.set(host, st);
    }
    st.recordId++;
    const utc = utcTime(ev.time);
    switch (ev.t) {
      case 'create':
        return this.wrap(1, ev.time, st, host, createData(ev.proc, utc));
      case 'end':
        return this.wrap(5, ev.time, st, host, [
          d('RuleName', '-'),
          d('UtcTime', utc),
          d('ProcessGuid', ev.proc.guid),
          d('ProcessId', ev.proc.pid),
          d('Image', ev.proc.image),
        ]);
      case 'dns': {
        let results = '';
        if (ev.cname) results += `type:  5 ${ev.cname};`;
        for (const ip of ev.ips) results += `::ffff:${ip};`;
        if (ev.status !== 0) results = '-';
        return this.wrap(22, ev.time, st, host, [
          d('RuleName', '-'),
          d('UtcTime', utc),
          d('ProcessGuid', ev.proc.guid),
          d('ProcessId', ev.proc.pid),
          d('QueryName', ev.query),
          d('QueryStatus', ev.status),
          d('QueryResults', results),
          d('Image', ev.proc.image),
        ]);
      }
      case 'conn':
        return this.wrap(3, ev.time, st, host, [
          d('RuleName', '-'),
          d('UtcTime', utc),
          d('ProcessGuid', ev.proc.guid),
          d('ProcessId', ev.proc.pid),
          d('Image', ev.proc.image),
          d('User', ev.proc.guid === UNKNOWN_GUID ? '-' : ev.proc.account.sysmon),
          d('Protocol', 'tcp'),
          d('Initiated', 'true'),
          d('SourceIsIpv6', 'false'),
          d('SourceIp', host.ip),
          d('SourceHostname', host.fqdn),
          d('SourcePort', ev.srcPort),
          d('SourcePortName', '-'),
          d('DestinationIsIpv6', 'false'),
          d('DestinationIp', ev.ip),
          d('DestinationHostname', ev.hostname),
          d('DestinationPort', ev.port),
          d('DestinationPortName', ev.port === 443 ? 'https' : ev.port === 80 ? 'http' : '-'),
        ]);
      case 'load':
        return this.wrap(7, ev.time, st, host, [
          d('RuleName', '-'),
          d('UtcTime', utc),
          d('ProcessGuid', ev.proc.guid),
          d('ProcessId', ev.proc.pid),
          d('Image', ev.proc.image),
          d('ImageLoaded', ev.dll.path),
          d('FileVersion', ev.dll.version),
          d('Description', ev.dll.description),
          d('Product', ev.dll.product),
          d('Company', ev.dll.company),
          d('OriginalFileName', ev.dll.original),
          d('Hashes', hashesText(ev.dll.path)),
          d('Signed', 'true'),
          d('Signature', 'Microsoft Windows'),
          d('SignatureStatus', 'Valid'),
        ]);
      case 'access':
        return this.wrap(10, ev.time, st, host, [
          d('RuleName', '-'),
          d('UtcTime', utc),
          d('SourceProcessGUID', ev.proc.guid),
          d('SourceProcessId', ev.proc.pid),
          d('SourceThreadId', (ev.proc.pid * 3 + 1_060) % 16_000),
          d('SourceImage', ev.proc.image),
          d('TargetProcessGUID', ev.target.guid),
          d('TargetProcessId', ev.target.pid),
          d('TargetImage', ev.target.image),
          d('GrantedAccess', ev.access),
          d('CallTrace', ev.callTrace),
        ]);
      case 'file':
        return this.wrap(11, ev.time, st, host, [
          d('RuleName', '-'),
          d('UtcTime', utc),
          d('ProcessGuid', ev.proc.guid),
          d('ProcessId', ev.proc.pid),
          d('Image', ev.proc.image),
          d('TargetFilename', ev.path),
          d('CreationUtcTime', utc),
        ]);
      case 'regKey':
        return this.wrap(12, ev.time, st, host, [
          d('RuleName', '-'),
          d('EventType', 'CreateKey'),
          d('UtcTime', utc),
          d('ProcessGuid', ev.proc.guid),
          d('ProcessId', ev.proc.pid),
          d('Image', ev.proc.image),
          d('TargetObject', ev.key),
        ]);
      case 'regValue':
        return this.wrap(13, ev.time, st, host, [
          d('RuleName', '-'),
          d('EventType', 'SetValue'),
          d('UtcTime', utc),
          d('ProcessGuid', ev.proc.guid),
          d('ProcessId', ev.proc.pid),
          d('Image', ev.proc.image),
          d('TargetObject', ev.key),
          d('Details', ev.details),
        ]);
    }
  }

  private wrap(
    eventId: number,
    time: number,
    st: HostState,
    host: Host,
    data: readonly SysmonData[],
  ): SysmonRecord {
    // Sysmon writes the event a few ms after UtcTime; SystemTime has 7 fractional digits.
    const iso = new Date(time + (st.recordId % 3)).toISOString();
    return {
      eventId,
      version: VERSIONS[eventId] ?? 1,
      systemTime: `${iso.slice(0, 23)}0000Z`,
      recordId: st.recordId,
      processId: st.sysmonPid,
      threadId: st.sysmonPid + 1_228,
      computer: host.fqdn,
      data,
    };
  }
}

/** The record as `wevtutil qe /f:xml` writes it. */
export function sysmonXml(r: SysmonRecord): string {
  let data = '';
  for (const [name, value] of r.data) data += `<Data Name='${name}'>${xmlEscape(value)}</Data>`;
  return (
    `${PROVIDER}${r.eventId}</EventID><Version>${r.version}</Version><Level>4</Level><Task>${r.eventId}</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime='${r.systemTime}'/><EventRecordID>${r.recordId}</EventRecordID><Correlation/><Execution ProcessID='${r.processId}' ThreadID='${r.threadId}'/><Channel>${SYSMON_CHANNEL}</Channel><Computer>${xmlEscape(r.computer)}</Computer><Security UserID='S-1-5-18'/></System><EventData>` +
    data +
    '</EventData></Event>'
  );
}

export const UNKNOWN_GUID = '{00000000-0000-0000-0000-000000000000}';

function hashesText(path: string): string {
  const h = hashesOf(path);
  return `SHA1=${h.sha1},MD5=${h.md5},SHA256=${h.sha256},IMPHASH=${h.imphash}`;
}

function createData(p: Proc, utc: string): SysmonData[] {
  return [
    d('RuleName', '-'),
    d('UtcTime', utc),
    d('ProcessGuid', p.guid),
    d('ProcessId', p.pid),
    d('Image', p.image),
    d('FileVersion', p.bin.version),
    d('Description', p.bin.description),
    d('Product', p.bin.product),
    d('Company', p.bin.company),
    d('OriginalFileName', p.bin.original),
    d('CommandLine', p.cmd),
    d(
      'CurrentDirectory',
      p.account.sid.startsWith('S-1-5-21')
        ? `C:\\Users\\${p.account.falcon}\\`
        : 'C:\\Windows\\system32\\',
    ),
    d('User', p.account.sysmon),
    d('LogonGuid', `{${p.host.guidPrefix}-f1ac-5f8b-d961-0c0000000000}`),
    d('LogonId', p.account.sid === 'S-1-5-18' ? '0x3e7' : '0xc61d9'),
    d('TerminalSessionId', p.account.sid === 'S-1-5-18' ? 0 : 1),
    d('IntegrityLevel', p.integrity),
    d(
      'Hashes',
      `SHA1=${p.hashes.sha1},MD5=${p.hashes.md5},SHA256=${p.hashes.sha256},IMPHASH=${p.hashes.imphash}`,
    ),
    d('ParentProcessGuid', p.parent.guid),
    d('ParentProcessId', p.parent.pid),
    d('ParentImage', p.parent.image),
    d('ParentCommandLine', p.parent.cmd),
    d('ParentUser', p.account.sid === 'S-1-5-18' ? 'NT AUTHORITY\\SYSTEM' : p.account.sysmon),
  ];
}
