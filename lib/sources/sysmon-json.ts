import type { ReaderOptions, RecordHandler } from '../engine/input.ts';
import { jsonInteger } from '../text/fields.ts';
import { excerptOf } from '../text/record.ts';
import { type Json, readJsonRecord } from './json-records.ts';
import { createSysmonDispatch, type ParsedSysmon, SYSMON_EVENTS } from './sysmon-events.ts';

/** The event log channel Sysmon writes to; other channels' records are never Sysmon events. */
export const SYSMON_CHANNEL = 'Microsoft-Windows-Sysmon/Operational';

/** A record of a shape that is a Windows event, but not one of Sysmon's (Security 5156, …). */
export const OTHER_CHANNEL = Symbol('another channel');

/** How one JSON shape of Windows events carries a Sysmon event. */
export interface SysmonJsonShape {
  /** The quoted key of the event id, read off the raw text by the pre-filter. */
  eventIdKey: string;
  /** The event, OTHER_CHANNEL for another channel's record, undefined for no Windows event. */
  toSysmon(json: Json): ParsedSysmon | typeof OTHER_CHANNEL | undefined;
  /** Why a record is not of the shape (the skip's message). */
  notOfShape: string;
}

/**
 * The record handler for a JSON-lines shape of Windows events. The pre-filter reads the event id
 * off the raw text: an id the rule never reads drops the record unparsed, whatever its channel;
 * anything else is parsed, mapped to a ParsedSysmon and dispatched like an XML event.
 */
export function createSysmonJsonReader(o: ReaderOptions, shape: SysmonJsonShape): RecordHandler {
  const dispatch = createSysmonDispatch(o);
  const full: RecordHandler = (buf, _s, start, end, record, offset) => {
    const json = readJsonRecord(o, buf, start, end, record, offset);
    if (json === undefined) return;
    const excerpt = () => excerptOf(buf, start, end);
    const event = shape.toSysmon(json);
    if (event === undefined)
      o.skip('unrecognised-record', shape.notOfShape, record, offset, excerpt());
    else if (event !== OTHER_CHANNEL) dispatch(event, record, offset, excerpt);
  };
  const fast: RecordHandler = (buf, s, start, end, record, offset) => {
    const id = jsonInteger(s, shape.eventIdKey, start, end);
    if (id !== undefined && !Object.hasOwn(SYSMON_EVENTS, id)) return;
    full(buf, s, start, end, record, offset);
  };
  return o.mode === 'full' ? full : fast;
}
