import type { SourcePlugin } from '../engine/input.ts';
import { flatIs, flatMembers, flatMembersFor, flatText, skipSpace } from '../text/json-flat.ts';
import { type Json, jsonText, textMembers } from './json-records.ts';
import type { ParsedSysmon } from './sysmon-events.ts';
import {
  createSysmonJsonReader,
  OTHER_CHANNEL,
  SYSMON_CHANNEL,
  type SysmonTextReaders,
} from './sysmon-json.ts';

/**
 * NXLog `im_msvistalog` with `to_json()` (and HELK / Mordor exports of it): one JSON object a
 * line, the Windows event's fields flattened to the top level beside the EventData names. Real
 * exports mix channels; only Sysmon's records are Sysmon events.
 */
export function nxlogEvent(json: Json): ParsedSysmon | typeof OTHER_CHANNEL | undefined {
  const eventId = jsonText(json.EventID);
  const channel = jsonText(json.Channel);
  if (eventId === undefined || channel === undefined) return undefined;
  if (channel !== SYSMON_CHANNEL) return OTHER_CHANNEL;
  return {
    eventId,
    computer: jsonText(json.Hostname),
    systemTime: jsonText(json.TimeCreated) ?? jsonText(json['@timestamp']),
    data: textMembers(json),
  };
}

/**
 * The record is the flat object of EventData names, its `Channel` (which must be Sysmon's),
 * `Hostname`, `TimeCreated` and `@timestamp` beside them.
 */
function nxlogReaders(names: readonly string[]): SysmonTextReaders {
  const c = names.length;
  const all = [...names, 'Channel', 'Hostname', 'TimeCreated', '@timestamp'];
  const room = flatMembersFor(all.length);
  return {
    data: (s, start, end) => {
      const m = flatMembers(s, skipSpace(s, start, end), end, all, room);
      if (m === null || skipSpace(s, m.end, end) !== end) return null;
      return flatIs(s, m.from[c]!, m.to[c]!, SYSMON_CHANNEL) ? m : null;
    },
    system: (s, _start, _end, m) => {
      const computer = flatText(s, m.from[c + 1]!, m.to[c + 1]!);
      const created = flatText(s, m.from[c + 2]!, m.to[c + 2]!);
      const time = created === undefined ? flatText(s, m.from[c + 3]!, m.to[c + 3]!) : created;
      return computer === null || time === null ? null : { computer, systemTime: time };
    },
  };
}

export const nxlog: SourcePlugin = {
  name: 'nxlog',
  family: 'sysmon',
  summary:
    'NXLog / HELK flat JSON lines (EventID, Channel, Hostname and the EventData names at the top level); channels may be mixed',
  format: 'ndjson',
  sniff: (head) =>
    head.trimStart().startsWith('{') && head.includes('"EventID"') && head.includes('"Channel"')
      ? 0.8
      : 0,
  createReader: (o) =>
    createSysmonJsonReader(o, {
      eventIdKey: '"EventID"',
      textReaders: nxlogReaders,
      toSysmon: nxlogEvent,
      notOfShape: 'not an NXLog Windows event: no EventID or Channel',
    }),
};
