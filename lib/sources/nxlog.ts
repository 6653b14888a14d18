import type { SourcePlugin } from '../engine/input.ts';
import { type Json, jsonText, textMembers } from './json-records.ts';
import type { ParsedSysmon } from './sysmon-events.ts';
import { createSysmonJsonReader, OTHER_CHANNEL, SYSMON_CHANNEL } from './sysmon-json.ts';

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
      toSysmon: nxlogEvent,
      notOfShape: 'not an NXLog Windows event: no EventID or Channel',
    }),
};
