/**
 * The shapes Sysmon reaches S3 in besides `wevtutil` XML (issue 17), rendered from the same
 * SysmonRecord the XML comes from, so a shape batch holds exactly the events (and the oracle) of
 * the XML batch of the same size, seed and attack rate. Field names and layout follow the
 * recordings in shared/datasets/json/:
 *
 *   nxlog       NXLog / HELK flat JSON lines: the System fields and the EventData names side by
 *               side at the top level, EventID a number, every data value a string
 *   winlogbeat  raw Winlogbeat 8 NDJSON: `winlog.event_id` a string, `winlog.event_data.*`;
 *               `winlog.user` is the event log's user (SYSTEM), Sysmon's `User` is in event_data
 *   cwl         CloudWatch agent (event XML) -> CloudWatch Logs subscription -> Firehose -> S3:
 *               one gzip member per JSON envelope, no separator, a CONTROL_MESSAGE first
 */
import type { SysmonRecord } from './sysmon-format.ts';

export type SysmonShape = 'nxlog' | 'winlogbeat' | 'cwl';
export const SYSMON_SHAPES: readonly SysmonShape[] = ['nxlog', 'winlogbeat', 'cwl'];

/** Bump when a shape's rendering changes, so cached shape batches under .bench/ are not reused. */
export const SHAPES_VERSION = 1;

/** The engine's name for each shape (lib/sources), what `--source` passes to scanObject. */
export const SHAPE_SOURCE_NAMES: Record<SysmonShape, string> = {
  nxlog: 'nxlog',
  winlogbeat: 'winlogbeat',
  cwl: 'cwl-firehose',
};

/** File name ending (before `.gz`) of each shape's batch. */
export const SHAPE_EXTENSIONS: Record<SysmonShape, string> = {
  nxlog: 'nxlog.json',
  winlogbeat: 'winlogbeat.ndjson',
  cwl: 'cwl-firehose',
};

/**
 * Log events per CloudWatch Logs envelope, as in the recorded delivery
 * (shared/datasets/json/otrf-wmic-xsl.cwl-firehose.gz).
 */
export const CWL_EVENTS_PER_ENVELOPE = 50;

const PROVIDER = 'Microsoft-Windows-Sysmon';
const PROVIDER_GUID = '{5770385f-c22a-43e0-bf4c-06f5698ffbd9}';
const CHANNEL = 'Microsoft-Windows-Sysmon/Operational';
const CWL_OWNER = '123456789012';
const CWL_LOG_GROUP = 'windows-sysmon';
/** A Windows Event Collector's agent: one stream holds every forwarding host's events. */
const CWL_LOG_STREAM = 'i-0a1b2c3d4e5f67890';
const CWL_FILTER = 'sysmon-to-s3';

/** The first line of the rendered `Message` of each EventID, as the event log formats it. */
const TITLES: Record<number, string> = {
  1: 'Process Create',
  3: 'Network connection detected',
  5: 'Process terminated',
  7: 'Image loaded',
  10: 'Process accessed',
  11: 'File created',
  12: 'Registry object added or deleted',
  13: 'Registry value set',
  22: 'Dns query',
};

/** The rendered message every shipper adds beside the fields (it doubles a record's size). */
function message(r: SysmonRecord): string {
  let text = `${TITLES[r.eventId] ?? 'Sysmon event'}:`;
  for (const [name, value] of r.data) text += `\r\n${name}: ${value}`;
  return text;
}

/** SystemTime to the millisecond, ISO 8601 (what `@timestamp` carries). */
const isoMs = (r: SysmonRecord): string => `${r.systemTime.slice(0, 23)}Z`;

export function nxlogLine(r: SysmonRecord): string {
  const o: Record<string, string | number> = {
    '@timestamp': isoMs(r),
    TimeCreated: isoMs(r),
    Hostname: r.computer,
    Keywords: '0x8000000000000000',
    SourceName: PROVIDER,
    ProviderGuid: PROVIDER_GUID,
    EventID: r.eventId,
    Level: '4',
    Task: String(r.eventId),
    Channel: CHANNEL,
  };
  for (const [name, value] of r.data) o[name] = value;
  o.Message = message(r);
  return `${JSON.stringify(o)}\n`;
}

export function winlogbeatLine(r: SysmonRecord): string {
  const o = {
    '@timestamp': isoMs(r),
    agent: { type: 'winlogbeat', version: '8.15.0' },
    ecs: { version: '8.0.0' },
    event: { code: String(r.eventId), kind: 'event', provider: PROVIDER },
    host: { name: r.computer },
    log: { level: 'information' },
    message: message(r),
    winlog: {
      api: 'wineventlog',
      channel: CHANNEL,
      computer_name: r.computer,
      event_id: String(r.eventId),
      provider_name: PROVIDER,
      provider_guid: PROVIDER_GUID,
      record_id: String(r.recordId),
      process: { pid: r.processId, thread: { id: r.threadId } },
      user: { identifier: 'S-1-5-18', domain: 'NT AUTHORITY', name: 'SYSTEM', type: 'User' },
      event_data: Object.fromEntries(r.data),
    },
  };
  return `${JSON.stringify(o)}\n`;
}

/**
 * Groups event XML into CloudWatch Logs subscription envelopes. `add` returns an envelope's JSON
 * when one is full; `flush` the last, partial one. The first envelope is the CONTROL_MESSAGE
 * CloudWatch Logs sends when the subscription is created.
 */
export class CwlEnvelopes {
  private logEvents: string[] = [];
  private sent = 0;

  control(firstTimestamp: number): string {
    return envelope('CONTROL_MESSAGE', [
      logEvent('', firstTimestamp, 'CWL CONTROL MESSAGE: Checking health of destination Firehose.'),
    ]);
  }

  /** `xml` is `sysmonXml(r)`, which the caller has already rendered. */
  add(r: SysmonRecord, xml: string): string | undefined {
    const timestamp = Date.parse(isoMs(r));
    // CloudWatch Logs event ids are 56 decimal digits; these are unique and ordered.
    const id = `${timestamp}${String(++this.sent).padStart(43, '0')}`;
    this.logEvents.push(logEvent(id, timestamp, xml));
    return this.logEvents.length >= CWL_EVENTS_PER_ENVELOPE ? this.flush() : undefined;
  }

  flush(): string | undefined {
    if (this.logEvents.length === 0) return undefined;
    const text = envelope('DATA_MESSAGE', this.logEvents);
    this.logEvents = [];
    return text;
  }
}

const logEvent = (id: string, timestamp: number, text: string): string =>
  JSON.stringify({ id, timestamp, message: text });

function envelope(messageType: string, logEvents: readonly string[]): string {
  const head = JSON.stringify({
    messageType,
    owner: CWL_OWNER,
    logGroup: CWL_LOG_GROUP,
    logStream: CWL_LOG_STREAM,
    subscriptionFilters: [CWL_FILTER],
  });
  return `${head.slice(0, -1)},"logEvents":[${logEvents.join(',')}]}`;
}
