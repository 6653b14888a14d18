/**
 * Renders simulated events as Falcon Data Replicator NDJSON: one JSON object per line, every value
 * a string, `timestamp` in ms, `ContextTimeStamp` in seconds with three decimals, image paths as
 * `\Device\HarddiskVolume2\...`, and `aidmaster` records (no event_simpleName) carrying the host
 * names (compare shared/datasets/falcon).
 */
import type { Formatter, SimEvent } from './events.ts';
import { secondsDotMs } from './events.ts';
import { FALCON_CID, type Host, hashesOf, type Proc } from './world.ts';

const CONFIG_TAIL = `,"ConfigBuild":"1007.3.0017312.1","ConfigStateHash":"1763245019","Entitlements":"15","cid":"${FALCON_CID}"`;
const HEX = '0123456789abcdef';

/** `C:\x` → `\Device\HarddiskVolume2\x`, as the sensor reports image paths on Windows. */
export function devicePath(path: string): string {
  return path.length > 2 && path[1] === ':' ? `\\Device\\HarddiskVolume2${path.slice(2)}` : path;
}

const j = JSON.stringify;

/** FDR `timestamp` (ms): when the cloud received the event, 400-496 ms after it, varied by record. */
function receivedAt(time: number, host: Host): number {
  return time + 400 + ((time + host.index * 7) % 97);
}

export class FalconFormatter implements Formatter {
  private counter = 0;

  /** A v1-style event id that is unique and deterministic (derived from the record counter). */
  private id(time: number): string {
    this.counter++;
    let c = this.counter;
    let tail = '';
    for (let i = 0; i < 12; i++) {
      tail = HEX[c & 15] + tail;
      c = Math.floor(c / 16);
    }
    const t = Math.floor(time / 1000)
      .toString(16)
      .padStart(8, '0')
      .slice(-8);
    return `${t}-d9f1-11ee-8a3b-${tail}`;
  }

  private tail(host: Host, time: number, transmissionClass = '0'): string {
    return `,"aid":"${host.aid}","aip":"198.51.100.${host.index % 250}","event_platform":"${host.platform}","EffectiveTransmissionClass":"${transmissionClass}"${CONFIG_TAIL},"timestamp":"${receivedAt(time, host)}","id":"${this.id(time)}"}\n`;
  }

  /**
   * ContextTimeStamp where the record has one; a ProcessRollup2 has none (as in real FDR
   * exports), so its time is `timestamp`.
   */
  recordTime(event: SimEvent): number {
    return event.t === 'create' ? receivedAt(event.time, event.proc.host) : event.time;
  }

  render(ev: SimEvent): string {
    if (ev.t === 'aidmaster') return this.aidmaster(ev.host, ev.time);
    const p = ev.proc;
    const host = p.host;
    const ctx = `"ContextProcessId":"${p.fpid}","ContextThreadId":"${p.fpid.slice(0, 6)}${p.pid}","ContextTimeStamp":"${secondsDotMs(ev.time)}"`;
    switch (ev.t) {
      case 'create':
        return createLine(p, ev.time) + this.tail(host, ev.time, '2');
      case 'end':
        return `{"event_simpleName":"EndOfProcess","name":"EndOfProcessV17","TargetProcessId":"${p.fpid}","RawProcessId":"${p.pid}","ContextTimeStamp":"${secondsDotMs(ev.time)}","ProcessEndTime":"${secondsDotMs(ev.time)}","CycleTime":"${(p.pid * 104729) % 90000000}","HandleCount":"${100 + (p.pid % 900)}","GdiObjects":"${p.pid % 60}","UserObjects":"${p.pid % 40}","MaxThreadCount":"${4 + (p.pid % 28)}","PageFaultCount":"${(p.pid * 37) % 100000}","PeakWorkingSetSize":"${(p.pid * 4099) % 200000000}","UserTime":"${(p.pid * 31) % 1000000}","KernelTime":"${(p.pid * 17) % 1000000}","IoReadBytes":"${(p.pid * 8191) % 90000000}","IoWriteBytes":"${(p.pid * 127) % 9000000}"${this.tail(host, ev.time)}`;
      case 'dns': {
        let line = `{"event_simpleName":"DnsRequest","name":"DnsRequestV4","DomainName":${j(`${ev.query}.`)},"RequestType":"1","DnsRequestCount":"1","DualRequest":"0","InterfaceIndex":"${3 + (host.index % 9)}",${ctx}`;
        if (ev.status === 0) {
          line += `,"IP4Records":"${ev.ips.join(';')};","FirstIP4Record":"${ev.ips[0] ?? ''}"`;
          if (ev.cname) line += `,"CNAMERecords":${j(`${ev.cname}.`)}`;
        }
        return line + this.tail(host, ev.time);
      }
      case 'conn':
        return `{"event_simpleName":"NetworkConnectIP4","name":"NetworkConnectIP4V5","RemoteAddressIP4":"${ev.ip}","RemotePort":"${ev.port}","LocalAddressIP4":"${host.ip}","LocalPort":"${ev.srcPort}","Protocol":"6","ConnectionDirection":"0","ConnectionFlags":"0","InContext":"0","Icmp":"0",${ctx}${this.tail(host, ev.time)}`;
      case 'load': {
        const h = hashesOf(ev.dll.path);
        return `{"event_simpleName":"ImageHash","name":"ImageHashV5","ImageFileName":${j(devicePath(ev.dll.path))},"MD5HashData":"${h.md5.toLowerCase()}","SHA256HashData":"${h.sha256.toLowerCase()}","SignInfoFlags":"8683538","TargetProcessId":"${p.fpid}",${ctx}${this.tail(host, ev.time)}`;
      }
      case 'file': {
        const name =
          ev.path.endsWith('.exe') || ev.path.endsWith('.dll')
            ? 'PeFileWritten'
            : 'GenericFileWritten';
        return `{"event_simpleName":"${name}","name":"${name}V9","TargetFileName":${j(devicePath(ev.path))},"Size":"${(ev.time % 900000) + 512}","IsOnNetwork":"0","IsOnRemovableDisk":"0","FileOperatorSid":"${p.account.sid}","DiskParentDeviceInstanceId":"","FileIdentifier":"${p.hashes.md5.slice(0, 16)}",${ctx}${this.tail(host, ev.time)}`;
      }
      case 'regKey':
      case 'regValue': {
        const key = `\\REGISTRY\\${ev.key.replace(/^HKLM\\/, 'MACHINE\\').replace(/^HKU\\/, 'USER\\')}`;
        const cut = key.lastIndexOf('\\');
        const value = ev.t === 'regValue' ? ev.details : '';
        return `{"event_simpleName":"RegGenericValueUpdate","name":"RegGenericValueUpdateV4","RegObjectName":${j(key.slice(0, cut))},"RegValueName":${j(key.slice(cut + 1))},"RegOperationType":"${ev.t === 'regKey' ? '4' : '1'}","RegType":"${value.startsWith('DWORD') ? '4' : '1'}","RegStringValue":${j(value)},"AuthenticationId":"${p.account.sid === 'S-1-5-18' ? '999' : '812505'}",${ctx}${this.tail(host, ev.time)}`;
      }
      case 'access':
        throw new TypeError('process access events exist only in Sysmon batches');
    }
  }

  private aidmaster(host: Host, time: number): string {
    const lin = host.platform === 'Lin';
    return `{"aid":"${host.aid}","ComputerName":${j(host.name)},"event_platform":"${host.platform}","Time":"${Math.floor(time / 1000)}","AgentVersion":"${lin ? '7.10.16303.0' : '7.11.18110.0'}","AgentLoadFlags":"1","AgentLocalTime":"${secondsDotMs(time)}","AgentTimeOffset":"0.123","BiosManufacturer":"${lin ? 'Amazon EC2' : 'Dell Inc.'}","BiosVersion":"${lin ? '1.0' : '1.21.0'}","ChassisType":"${lin ? 'Other' : 'Laptop'}","City":"Frankfurt am Main","Continent":"Europe","Country":"Germany","FirstSeen":"1672531200.000","HostHiddenStatus":"Visible","MachineDomain":"${lin ? '' : 'corp.example.com'}","MAC":"${host.aid.slice(0, 2)}-${host.aid.slice(2, 4)}-${host.aid.slice(4, 6)}-${host.aid.slice(6, 8)}-${host.aid.slice(8, 10)}-${host.aid.slice(10, 12)}","OU":"${lin ? '' : 'Workstations;Corp'}","ProductType":"${lin ? '3' : '1'}","SystemManufacturer":"${lin ? 'Amazon EC2' : 'Dell Inc.'}","SystemProductName":"${lin ? 't3.large' : 'Latitude 7440'}","Timezone":"UTC","Version":"${lin ? 'Ubuntu 22.04' : 'Windows 11'}","cid":"${FALCON_CID}"}\n`;
  }
}

function createLine(p: Proc, time: number): string {
  const lin = p.host.platform === 'Lin';
  return `{"event_simpleName":"ProcessRollup2","name":"${lin ? 'ProcessRollup2LinV6' : 'ProcessRollup2V19'}","TargetProcessId":"${p.fpid}","ParentProcessId":"${p.parent.fpid}","SourceProcessId":"${p.parent.fpid}","SourceThreadId":"${p.parent.fpid.slice(0, 7)}${p.pid}","RawProcessId":"${p.pid}","ImageFileName":${j(devicePath(p.image))},"CommandLine":${j(p.cmd)},"ParentBaseFileName":${j(baseName(p.parent.image))},"UserName":${j(p.account.falcon)},"UserSid":"${p.account.sid}","AuthenticationId":"${p.account.sid === 'S-1-5-18' ? '999' : '812505'}","IntegrityLevel":"${p.integrity === 'System' ? '16384' : p.integrity === 'High' ? '12288' : '8192'}","SessionId":"${p.account.sid === 'S-1-5-18' ? '0' : '1'}","TokenType":"1","ProcessStartTime":"${secondsDotMs(time)}","ProcessCreateFlags":"1024","ProcessParameterFlags":"24577","ProcessSxsFlags":"1600","ImageSubsystem":"${lin ? '0' : '2'}","MD5HashData":"${p.hashes.md5.toLowerCase()}","SHA1HashData":"0000000000000000000000000000000000000000","SHA256HashData":"${p.hashes.sha256.toLowerCase()}"`;
}

function baseName(path: string): string {
  const cut = Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
  return path.slice(cut + 1);
}
