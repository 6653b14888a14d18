import type { ProcessInfo, ProcessStart, ReaderOptions, RecordSkip } from '../engine/input.ts';
import type { EventKind, NormalizedEvent } from '../event/types.ts';
import { basename } from '../text/fields.ts';
import { parseUtcTime } from '../text/time.ts';

/**
 * Sysmon's events, whatever shape carries them (XML, NXLog or Winlogbeat JSON, CloudWatch Logs,
 * EVTX): the EventID and `<Data>` names the engine reads, and what it makes of one event. Each
 * Sysmon shape reads its records into a ParsedSysmon and hands it to `createSysmonDispatch`.
 */

export type NetworkKind = Exclude<EventKind, 'process'>;

/** Sysmon EventID -> what the engine makes of it. Every other EventID is irrelevant to the rule. */
export const SYSMON_EVENTS = {
  '1': 'process',
  '3': 'network',
  '22': 'dns',
  '5': 'end',
} as const satisfies Record<string, NetworkKind | 'process' | 'end'>;

/** Normalized field <- Sysmon `<Data Name=…>` (docs/detection.md, "The normalized event"). */
export const SYSMON_FIELDS = {
  processKey: 'ProcessGuid',
  image: 'Image',
  user: 'User',
  time: 'UtcTime',
  originalFileName: 'OriginalFileName',
  parentImage: 'ParentImage',
  cmdLine: 'CommandLine',
  query: 'QueryName',
  answers: 'QueryResults',
  hostname: 'DestinationHostname',
  ip: 'DestinationIp',
  port: 'DestinationPort',
  initiated: 'Initiated',
} as const;

/** SYSMON_EVENTS by number, for the pre-filter. */
export const KIND_BY_ID: Array<(typeof SYSMON_EVENTS)[keyof typeof SYSMON_EVENTS] | undefined> = [];
for (const [id, kind] of Object.entries(SYSMON_EVENTS)) KIND_BY_ID[Number(id)] = kind;

/** Sysmon writes this GUID for `<unknown process>`: it names no process, so it joins nothing. */
const NULL_GUID = '{00000000-0000-0000-0000-000000000000}';
export interface ParsedSysmon {
  eventId: string;
  computer: string | undefined;
  systemTime: string | undefined;
  data: Record<string, string>;
}

export const nonEmpty = (v: string | undefined): string | undefined =>
  v === undefined || v === '' || v === '-' ? undefined : v;

export function sysmonProcessKey(guid: string | undefined): string | undefined {
  const g = nonEmpty(guid?.trim())?.toLowerCase();
  return g === undefined || g === NULL_GUID ? undefined : g;
}

/** DNS answers in `QueryResults`: `type:  5 github.map.fastly.net;::ffff:151.101.208.133;` */
export function parseQueryResults(results: string | undefined): string[] {
  if (!results) return [];
  const ips: string[] = [];
  for (const raw of results.split(';')) {
    const token = raw.trim();
    if (token === '' || token.startsWith('type:')) continue;
    const v4 = /^(?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(token);
    if (v4) ips.push(v4[1]!);
    else if (/^[0-9a-f:]+$/i.test(token) && token.includes(':')) ips.push(token.toLowerCase());
  }
  return ips;
}

export function toProcess(p: ParsedSysmon): ProcessInfo | undefined {
  const f = SYSMON_FIELDS;
  const key = sysmonProcessKey(p.data[f.processKey]);
  if (!key) return undefined;
  const info: ProcessInfo = { key };
  const set = (k: Exclude<keyof ProcessInfo, 'key' | 'start'>, v: string | undefined) => {
    const value = nonEmpty(v);
    if (value !== undefined) info[k] = value;
  };
  set('image', p.data[f.image]);
  set('originalFileName', p.data[f.originalFileName]);
  set('parentImage', p.data[f.parentImage]);
  set('cmdLine', p.data[f.cmdLine]);
  set('user', p.data[f.user]);
  return info;
}

/** Where and when the process record was written, for its process-start events. */
export function processStart(
  p: ParsedSysmon,
  origin: string,
  record: number,
): ProcessStart | undefined {
  const time = parseUtcTime(p.data[SYSMON_FIELDS.time]) ?? parseUtcTime(p.systemTime);
  if (time === undefined) return undefined;
  const computer = nonEmpty(p.computer);
  return {
    time,
    device: computer === undefined ? {} : { hostname: computer },
    provenance: { source: 'sysmon', origin, record },
  };
}

export function toEvent(
  kind: NetworkKind,
  p: ParsedSysmon,
  origin: string,
  record: number,
): NormalizedEvent | RecordSkip | undefined {
  const f = SYSMON_FIELDS;
  const d = p.data;
  const time = parseUtcTime(d[f.time]) ?? parseUtcTime(p.systemTime);
  if (time === undefined)
    return { skip: 'unrecognised-record', message: 'event has no readable UtcTime or SystemTime' };
  if (kind === 'network' && d[f.initiated]?.trim().toLowerCase() === 'false') return undefined; // inbound
  const image = nonEmpty(d[f.image]);
  const user = nonEmpty(d[f.user]);
  const key = sysmonProcessKey(d[f.processKey]);
  const computer = nonEmpty(p.computer);
  const e: NormalizedEvent = {
    kind,
    time,
    device: computer === undefined ? {} : { hostname: computer },
    actor: {
      user: user === undefined ? {} : { name: user },
      process: {
        ...(image === undefined ? {} : { file: { name: basename(image), path: image } }),
        ...(key === undefined ? {} : { uid: key }),
      },
    },
    provenance: { source: 'sysmon', origin, record },
  };
  if (kind === 'dns') {
    const q = nonEmpty(d[f.query]);
    if (q === undefined)
      return { skip: 'unrecognised-record', message: 'DNS event has no QueryName' };
    e.query = { hostname: q };
    const answers = parseQueryResults(d[f.answers]);
    if (answers.length > 0) e.answers = answers;
  } else {
    const host = nonEmpty(d[f.hostname]);
    const ip = nonEmpty(d[f.ip]);
    const port = Number(d[f.port]);
    e.dst_endpoint = {
      ...(host === undefined ? {} : { hostname: host }),
      ...(ip === undefined ? {} : { ip: ip.toLowerCase() }),
      ...(Number.isInteger(port) && port > 0 ? { port } : {}),
    };
  }
  return e;
}

/** The `<Data>` names each event kind needs (docs/detection.md, "The normalized event"), read off the raw text when entity-free. */
/**
 * What the engine makes of one Sysmon event of any shape: a process record, an end, or a DNS or
 * connection event handed to the analyzer. `excerpt` is only called for a skip.
 */
export function createSysmonDispatch(
  o: ReaderOptions,
): (p: ParsedSysmon, record: number, offset: number, excerpt: () => string) => void {
  const { analyzer, origin } = o;
  return (p, record, offset, xmlExcerpt) => {
    const kind = SYSMON_EVENTS[p.eventId as keyof typeof SYSMON_EVENTS];
    if (kind === undefined) return;
    if (kind === 'process') {
      const info = toProcess(p);
      if (!info) return;
      const start = processStart(p, origin, record);
      analyzer.process(start === undefined ? info : { ...info, start });
      return;
    }
    if (kind === 'end') {
      const key = sysmonProcessKey(p.data[SYSMON_FIELDS.processKey]);
      if (key) analyzer.processEnd(key, offset);
      return;
    }
    const e = toEvent(kind, p, origin, record);
    if (e === undefined) return;
    if ('skip' in e) {
      o.skip(e.skip, e.message, record, offset, xmlExcerpt());
      return;
    }
    if (kind === 'dns') analyzer.dns(e);
    else {
      analyzer.connection({
        key: e.actor.process.uid,
        record,
        offset,
        hostname: e.dst_endpoint?.hostname,
        ip: e.dst_endpoint?.ip,
        resolve: () => e,
      });
    }
  };
}
