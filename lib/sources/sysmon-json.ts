import type { ConnectionRef, ReaderOptions, RecordHandler } from '../engine/input.ts';
import { detach, jsonInteger } from '../text/fields.ts';
import { type FlatMembers, flatText } from '../text/json-flat.ts';
import { excerptOf, heldText } from '../text/record.ts';
import { type Json, parseJsonBytes, readJsonRecord } from './json-records.ts';
import {
  createSysmonDispatch,
  KIND_BY_ID,
  type ParsedSysmon,
  SYSMON_FIELDS,
  toEvent,
} from './sysmon-events.ts';
import { createSysmonPrefilter } from './sysmon-prefilter.ts';

/** The event log channel Sysmon writes to; other channels' records are never Sysmon events. */
export const SYSMON_CHANNEL = 'Microsoft-Windows-Sysmon/Operational';

/** A record of a shape that is a Windows event, but not one of Sysmon's (Security 5156, …). */
export const OTHER_CHANNEL = Symbol('another channel');

/** Where and when a Windows event was written, as a shape's `toSysmon` reads them. */
export type SystemFields = Pick<ParsedSysmon, 'computer' | 'systemTime'>;

/**
 * The raw-text readers of one kind of record, made once per list of EventData names. On the
 * chunk's latin1 view `s`, within the record's `[start, end)`:
 * - `data`: the spans of the named members (in order; more may follow), or null when the
 *   record's channel is not certainly Sysmon's or its layout needs the parser (the next call
 *   may overwrite what it returned);
 * - `system`: its computer and system time, or null when only the parser can tell.
 */
export interface SysmonTextReaders {
  data(s: string, start: number, end: number): FlatMembers | null;
  system(s: string, start: number, end: number, members: FlatMembers): SystemFields | null;
}

/** How one JSON shape of Windows events carries a Sysmon event. */
export interface SysmonJsonShape {
  /** The quoted key of the event id, read off the raw text by the pre-filter. */
  eventIdKey: string;
  textReaders(names: readonly string[]): SysmonTextReaders;
  /** The event, OTHER_CHANNEL for another channel's record, undefined for no Windows event. */
  toSysmon(json: Json): ParsedSysmon | typeof OTHER_CHANNEL | undefined;
  /** Why a record is not of the shape (the skip's message). */
  notOfShape: string;
}

const F = SYSMON_FIELDS;

/**
 * The EventData names the pre-filter reads per kind of record: first those it decides on, then
 * the rest of what the engine makes of the event (docs/detection.md, "The normalized event"), so
 * that a record that may matter is handed over without the parser.
 */
const READ = {
  end: [F.processKey],
  dns: [F.query, F.processKey, F.image, F.user, F.time, F.answers],
  process: [F.image, F.originalFileName, F.parentImage, F.processKey, F.cmdLine, F.user, F.time],
  network: [F.hostname, F.processKey, F.ip],
} as const;

type Kind = keyof typeof READ;

/** One record as the pre-filter sees it. */
interface RawRecord {
  buf: Buffer;
  s: string;
  start: number;
  end: number;
  record: number;
  offset: number;
  members: FlatMembers;
}

/** The n-th member read, decoded (see flatText). */
const text = (r: RawRecord, n: number): string | undefined | null =>
  flatText(r.s, r.members.from[n]!, r.members.to[n]!);

/**
 * The record handler for a JSON-lines shape of Windows events. The pre-filter reads the event id
 * off the raw text: an id the rule never reads drops the record unparsed, whatever its channel.
 * For the ids it reads, it reads the EventData members of READ and makes the XML reader's
 * decisions (sysmon-xml.ts) on them: a record that cannot matter is dropped, a connection is held
 * unread, and an event that may matter is built from the members read. Anything it cannot read
 * for certain is parsed, mapped to a ParsedSysmon and dispatched as an XML event is.
 */
export function createSysmonJsonReader(o: ReaderOptions, shape: SysmonJsonShape): RecordHandler {
  const { rule, analyzer, origin } = o;
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
  if (o.mode === 'full') return full;

  const readers = {} as Record<Kind, SysmonTextReaders>;
  for (const kind of Object.keys(READ) as Kind[]) readers[kind] = shape.textReaders(READ[kind]);

  /** The event of READ[kind]'s members, dispatched; false when a value needs the parser. */
  const emit = (kind: 'dns' | 'process', r: RawRecord): boolean => {
    const names = READ[kind];
    const data: Record<string, string> = {};
    for (let n = 0; n < names.length; n++) {
      const v = text(r, n);
      if (v === null) return false;
      // Flat copies: the event may wait among the candidates, a process stays in its context.
      if (v !== undefined) data[names[n]!] = detach(v);
    }
    const system = readers[kind].system(r.s, r.start, r.end, r.members);
    if (system === null) return false;
    const event: ParsedSysmon = {
      eventId: kind === 'dns' ? '22' : '1',
      computer: detach(system.computer),
      systemTime: detach(system.systemTime),
      data,
    };
    dispatch(event, r.record, r.offset, () => excerptOf(r.buf, r.start, r.end));
    return true;
  };

  // Made here, not inside a handler: a closure there would share its context, and with it the
  // whole chunk's text.
  const heldConnection =
    (held: string, record: number): ConnectionRef['resolve'] =>
    () => {
      o.parsed();
      const parsed = parseJsonBytes(Buffer.from(held, 'latin1'));
      if ('skip' in parsed) return parsed;
      const event = shape.toSysmon(parsed.json);
      if (event === undefined) return { skip: 'unrecognised-record', message: shape.notOfShape };
      return event === OTHER_CHANNEL ? undefined : toEvent('network', event, origin, record);
    };

  const prefilter = createSysmonPrefilter(rule, analyzer);

  /** Per kind: true when it decided on the members read, false when the record needs the parser. */
  const decide: Record<Kind, (r: RawRecord) => boolean> = {
    end: (r) => {
      const guid = text(r, 0);
      if (guid === null) return false;
      prefilter.end(guid, r.offset);
      return true;
    },
    dns: (r) => {
      const query = text(r, 0);
      const guid = text(r, 1);
      // Without a QueryName the parser reports the record.
      if (query == null || guid === null) return false;
      return prefilter.dns(query, guid) === 'drop' || emit('dns', r);
    },
    process: (r) => {
      const image = text(r, 0);
      const originalFileName = text(r, 1);
      const parentImage = text(r, 2);
      const guid = text(r, 3);
      if (image === null || originalFileName === null || parentImage === null || guid === null)
        return false;
      return (
        prefilter.process(image, originalFileName, parentImage, guid) === 'drop' ||
        emit('process', r)
      );
    },
    network: (r) => {
      const hostname = text(r, 0);
      const guid = text(r, 1);
      const ip = text(r, 2);
      if (hostname === null || guid === null || ip === null) return false;
      // Its own bytes; the join window bounds how long they stay.
      const held = heldConnection(heldText(r.buf, r.start, r.end), r.record);
      prefilter.connection(hostname, guid, ip, { record: r.record, offset: r.offset }, held);
      return true;
    },
  };

  return (buf, s, start, end, record, offset) => {
    const id = jsonInteger(s, shape.eventIdKey, start, end);
    if (id !== undefined) {
      const kind = KIND_BY_ID[id];
      if (kind === undefined) return; // an EventID the rule never reads
      const members = readers[kind].data(s, start, end);
      if (members && decide[kind]({ buf, s, start, end, record, offset, members })) return;
    }
    full(buf, s, start, end, record, offset);
  };
}
