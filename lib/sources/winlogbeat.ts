import type { SourcePlugin } from '../engine/input.ts';
import { type Json, jsonPath, jsonText, textMembers } from './json-records.ts';
import type { ParsedSysmon } from './sysmon-events.ts';
import { createSysmonJsonReader, OTHER_CHANNEL, SYSMON_CHANNEL } from './sysmon-json.ts';

/**
 * Sysmon `<Data>` names <- ECS fields, for events that went through an ingest pipeline (the raw
 * `winlog.event_data` is read when present, and is what the tests use).
 */
const ECS_FIELDS = {
  ProcessGuid: ['process', 'entity_id'],
  Image: ['process', 'executable'],
  CommandLine: ['process', 'command_line'],
  ParentImage: ['process', 'parent', 'executable'],
  QueryName: ['dns', 'question', 'name'],
  DestinationIp: ['destination', 'ip'],
  DestinationPort: ['destination', 'port'],
  DestinationHostname: ['destination', 'domain'],
} as const;

function ecsData(json: Json): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [name, path] of Object.entries(ECS_FIELDS)) {
    const v = jsonText(jsonPath(json, ...path));
    if (v !== undefined) data[name] = v;
  }
  const user = jsonText(jsonPath(json, 'user', 'name'));
  const domain = jsonText(jsonPath(json, 'user', 'domain'));
  if (user !== undefined) data.User = domain === undefined ? user : `${domain}\\${user}`;
  const time = jsonText(json['@timestamp']);
  if (time !== undefined) data.UtcTime = time;
  return data;
}

/**
 * Winlogbeat / Elastic Agent NDJSON before an ingest pipeline: `winlog.channel`,
 * `winlog.event_id` (a string), `winlog.computer_name`, `winlog.event_data.<Name>`. `winlog.user`
 * is the event log's own user (SYSTEM for Sysmon), not Sysmon's `User`.
 */
export function winlogbeatEvent(json: Json): ParsedSysmon | typeof OTHER_CHANNEL | undefined {
  const eventId = jsonText(jsonPath(json, 'winlog', 'event_id'));
  const channel = jsonText(jsonPath(json, 'winlog', 'channel'));
  if (eventId === undefined || channel === undefined) return undefined;
  if (channel !== SYSMON_CHANNEL) return OTHER_CHANNEL;
  const eventData = jsonPath(json, 'winlog', 'event_data');
  return {
    eventId,
    computer:
      jsonText(jsonPath(json, 'winlog', 'computer_name')) ??
      jsonText(jsonPath(json, 'host', 'name')),
    systemTime: jsonText(json['@timestamp']),
    data: eventData === undefined ? ecsData(json) : textMembers(eventData),
  };
}

export const winlogbeat: SourcePlugin = {
  name: 'winlogbeat',
  family: 'sysmon',
  summary:
    'Winlogbeat / Elastic Agent NDJSON (winlog.channel, winlog.event_id, winlog.event_data.*); ECS-mapped fields where present',
  format: 'ndjson',
  sniff: (head) => (head.trimStart().startsWith('{') && head.includes('"winlog"') ? 0.9 : 0),
  createReader: (o) =>
    createSysmonJsonReader(o, {
      eventIdKey: '"event_id"',
      toSysmon: winlogbeatEvent,
      notOfShape: 'not a Winlogbeat Windows event: no winlog.event_id or winlog.channel',
    }),
};
