import type { SourcePlugin } from '../engine/input.ts';
import { findMember, jsonValueSpan } from '../text/fields.ts';
import { flatMembers, flatMembersFor, flatText } from '../text/json-flat.ts';
import { type Json, jsonPath, jsonText, textMembers } from './json-records.ts';
import type { ParsedSysmon } from './sysmon-events.ts';
import {
  createSysmonJsonReader,
  OTHER_CHANNEL,
  SYSMON_CHANNEL,
  type SysmonTextReaders,
} from './sysmon-json.ts';

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

const SYSMON_CHANNEL_MEMBER = `channel":"${SYSMON_CHANNEL}"`;
const EVENT_DATA_MEMBER = 'event_data":{';

/** A member's string value, decoded; null for any other value (and undefined when absent). */
function stringMember(s: string, quotedKey: string, start: number, end: number) {
  const span = jsonValueSpan(s, quotedKey, start, end);
  return span ? flatText(s, span[0] - 1, span[1] + 1) : span;
}

/**
 * `winlog.event_data` is the flat object of EventData names. The raw text is trusted to hold one
 * `channel`, one `event_data` and one `computer_name` member, winlog's (Winlogbeat writes no
 * other); the channel must be written compactly as Sysmon's.
 */
function winlogbeatReaders(names: readonly string[]): SysmonTextReaders {
  const room = flatMembersFor(names.length);
  return {
    data: (s, start, end) => {
      if (findMember(s, SYSMON_CHANNEL_MEMBER, start, end) < 0) return null;
      const data = findMember(s, EVENT_DATA_MEMBER, start, end);
      return data < 0 ? null : flatMembers(s, data + EVENT_DATA_MEMBER.length, end, names, room);
    },
    system: (s, start, end) => {
      // Without computer_name, host.name stands in: the parser reads it.
      const computer = stringMember(s, '"computer_name"', start, end);
      const time = stringMember(s, '"@timestamp"', start, end);
      return computer == null || time === null ? null : { computer, systemTime: time };
    },
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
      textReaders: winlogbeatReaders,
      toSysmon: winlogbeatEvent,
      notOfShape: 'not a Winlogbeat Windows event: no winlog.event_id or winlog.channel',
    }),
};
