import type { ConnectionRef, ReaderOptions, RecordHandler, SourcePlugin } from '../engine/input.ts';
import { findMember, jsonRaw, unescapePlain, xmlData } from '../text/fields.ts';
import { flatMembers, flatMembersFor, jsonStringLatin1, skipSpace } from '../text/json-flat.ts';
import { excerptOf, heldText } from '../text/record.ts';
import {
  type Json,
  jsonText,
  parseJsonBytes,
  parseJsonObject,
  readJsonRecord,
} from './json-records.ts';
import { nxlogEvent } from './nxlog.ts';
import {
  createSysmonDispatch,
  SYSMON_FIELDS as F,
  KIND_BY_ID,
  type ParsedSysmon,
  SYSMON_EVENTS,
} from './sysmon-events.ts';
import { OTHER_CHANNEL } from './sysmon-json.ts';
import { createSysmonPrefilter } from './sysmon-prefilter.ts';
import {
  createSysmonReader,
  eventIdAt,
  heldXmlConnection,
  parseSysmonEvent,
} from './sysmon-xml.ts';
import { winlogbeatEvent } from './winlogbeat.ts';

/** CloudWatch Logs' health check of a subscription's destination: it carries no log data. */
const CONTROL_MESSAGE = 'CONTROL_MESSAGE';
const DATA_MESSAGE = 'DATA_MESSAGE';

/**
 * True when an XML message has no UtcTime of its own: its time is then the log event's timestamp,
 * which only the parsed path adds.
 */
const logEventTimeNeeded = (message: string): boolean =>
  !message.includes("Name='UtcTime'") && !message.includes('Name="UtcTime"');

/** One log event of an envelope as a Sysmon event; undefined when it is none of Sysmon's. */
function messageEvent(
  message: string,
  timestamp: number | undefined,
):
  | ParsedSysmon
  | { skip: 'invalid-xml' | 'invalid-json' | 'not-an-object' | 'xml-dtd-refused'; message: string }
  | undefined {
  const text = message.trimStart();
  let event: ParsedSysmon | typeof OTHER_CHANNEL | undefined;
  if (text.startsWith('<')) {
    const id = eventIdAt(text, 0, text.length);
    if (id >= 0 && !Object.hasOwn(SYSMON_EVENTS, id)) return undefined;
    const parsed = parseSysmonEvent(text);
    if ('skip' in parsed) return parsed as { skip: 'invalid-xml'; message: string };
    event = parsed;
  } else if (text.startsWith('{')) {
    const parsed = parseJsonObject(text);
    if ('skip' in parsed) return parsed as { skip: 'invalid-json'; message: string };
    event = nxlogEvent(parsed.json) ?? winlogbeatEvent(parsed.json);
  }
  if (event === undefined || event === OTHER_CHANNEL) return undefined;
  // The event's own UtcTime counts; the log event's timestamp stands in for its SystemTime.
  if (event.systemTime === undefined && timestamp !== undefined)
    event.systemTime = new Date(timestamp).toISOString();
  return event;
}

/** Where the fast path finds the envelope's parts, written compactly as CloudWatch Logs does. */
const MESSAGE_TYPE = '"messageType"';
const LOG_EVENTS_MEMBER = 'logEvents":[';
const LOG_EVENT_NAMES = ['message'];
const logEventRoom = flatMembersFor(LOG_EVENT_NAMES.length);
const UTC_TIME = ["Name='UtcTime'", 'Name=\\"UtcTime\\"'];

/**
 * Where the envelope's log events are, read off its raw text: four numbers each, the span of its
 * `message` value as written (quotes included; -1 when it has none) and the span of the log
 * event object. Null when the envelope needs the parser.
 */
function messageSpans(s: string, start: number, end: number): number[] | null {
  const array = findMember(s, LOG_EVENTS_MEMBER, start, end);
  if (array < 0) return null;
  const spans: number[] = [];
  let i = skipSpace(s, array + LOG_EVENTS_MEMBER.length + 1, end); // past the `[`
  if (s.charCodeAt(i) === 93 /* ] */) return spans;
  for (;;) {
    const m = flatMembers(s, i, end, LOG_EVENT_NAMES, logEventRoom);
    if (m === null) return null;
    spans.push(m.from[0]!, m.to[0]!, i, m.end);
    i = skipSpace(s, m.end, end);
    const c = s.charCodeAt(i);
    if (c === 93 /* ] */) return spans;
    if (c !== 44 /* , */) return null;
    i = skipSpace(s, i + 1, end);
  }
}

/** A value read off a message's escaped text, with escaped backslashes and slashes decoded. */
const plain = (value: string | null | undefined): string | null | undefined =>
  value == null ? value : unescapePlain(value);

/**
 * A value read off a message's escaped text when it reads the same unescaped: printable ASCII
 * with no `\\` (nor XML entity: xmlData gives null for those).
 */
function escapeFree(value: string | null | undefined): string | null | undefined {
  if (value == null) return value;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 32 || c > 126 || c === 92) return null;
  }
  return value;
}

/** What a parsed log event is made into: an XML message read as an XML record, else parsed. */
function createLogEventReader(
  o: ReaderOptions,
  xml: RecordHandler,
): (event: Json, record: number, offset: number) => void {
  const dispatch = createSysmonDispatch(o);
  return (event, record, offset) => {
    const message = jsonText(event?.message);
    if (message === undefined) return;
    if (message.startsWith('<') && !logEventTimeNeeded(message)) {
      const bytes = Buffer.from(message, 'utf8');
      xml(bytes, bytes.toString('latin1'), 0, bytes.length, record, offset);
      return;
    }
    const ts = typeof event.timestamp === 'number' ? event.timestamp : undefined;
    const parsed = messageEvent(message, ts);
    if (parsed === undefined) return;
    if ('skip' in parsed) {
      o.skip(
        parsed.skip,
        `log event ${jsonText(event.id) ?? '?'}: ${parsed.message}`,
        record,
        offset,
        message.slice(0, 512),
      );
      return;
    }
    dispatch(parsed, record, offset, () => message.slice(0, 512));
  };
}

/**
 * The pre-filter of one log event's XML message, `[from, to)` of the envelope (between its
 * quotes), on the raw text: true when it decided, false when the log event must be parsed. The
 * message's searches run on the message alone (a slice, not a copy): a needle it lacks must not
 * send indexOf through the rest of the chunk.
 */
type RawMessageReader = (
  buf: Buffer,
  s: string,
  from: number,
  to: number,
  record: number,
  offset: number,
) => boolean;

function createRawMessageReader(inner: ReaderOptions, xml: RecordHandler): RawMessageReader {
  const prefilter = createSysmonPrefilter(inner.rule, inner.analyzer);

  /** A held connection's message (its JSON string, quotes included), read only if a join asks. */
  const heldConnection =
    (quoted: string, record: number): ConnectionRef['resolve'] =>
    () => {
      const text = jsonStringLatin1(Buffer.from(quoted, 'latin1'), quoted, 1, quoted.length - 1);
      return text === null
        ? { skip: 'invalid-json', message: 'log event message is not a valid JSON string' }
        : heldXmlConnection(inner, text, record)();
    };

  /**
   * Decides an event on values read off its still-escaped text (`message`) where they read the
   * same unescaped (a GUID, a hostname, an IP, a path's backslashes), as the XML reader would on
   * the unescaped text; false when the message must be unescaped for the XML reader. Every value
   * must be there: a name written double-quoted reads `Name=\"…\"` escaped, which xmlData does not
   * find. `from` and `to` are the message's place in `buf`.
   */
  const escapedDecision = (
    kind: NonNullable<(typeof KIND_BY_ID)[number]>,
    message: string,
    buf: Buffer,
    from: number,
    to: number,
    at: { record: number; offset: number },
  ): boolean => {
    const guid = escapeFree(xmlData(message, F.processKey));
    if (guid == null) return false;
    switch (kind) {
      case 'end':
        prefilter.end(guid, at.offset);
        return true;
      case 'process': {
        // Paths: read as their latin1 view, as the XML reader's pre-filter compares them.
        const image = plain(xmlData(message, F.image));
        const originalFileName = plain(xmlData(message, F.originalFileName));
        const parentImage = plain(xmlData(message, F.parentImage));
        if (image == null || originalFileName == null || parentImage == null) return false;
        return prefilter.process(image, originalFileName, parentImage, guid) === 'drop';
      }
      case 'dns': {
        const query = escapeFree(xmlData(message, F.query));
        return query != null && prefilter.dns(query, guid) === 'drop';
      }
      case 'network': {
        const hostname = escapeFree(xmlData(message, F.hostname));
        const ip = escapeFree(xmlData(message, F.ip));
        if (hostname == null || ip == null) return false;
        const held = heldConnection(heldText(buf, from - 1, to + 1), at.record);
        prefilter.connection(hostname, guid, ip, at, held);
        return true;
      }
    }
  };

  return (buf, s, from, to, record, offset) => {
    if (s.charCodeAt(from) !== 60 /* < */) return false;
    const message = s.slice(from, to);
    const id = eventIdAt(message, 0, message.length);
    const kind = id < 0 ? undefined : KIND_BY_ID[id];
    if (id >= 0 && kind === undefined) return true; // an EventID the rule never reads
    // Without its own UtcTime, the event's time is the log event's timestamp: parsed alone.
    if (!message.includes(UTC_TIME[0]!) && !message.includes(UTC_TIME[1]!)) return false;
    if (kind !== undefined && escapedDecision(kind, message, buf, from, to, { record, offset }))
      return true;
    const text = jsonStringLatin1(buf, s, from, to);
    if (text === null) return false;
    const bytes = Buffer.from(text, 'latin1');
    xml(bytes, text, 0, bytes.length, record, offset);
    return true;
  };
}

/**
 * CloudWatch Logs subscription → Kinesis Data Firehose → S3: a run of gzip members, each one
 * JSON envelope (`messageType`, `logGroup`, `logStream`, `logEvents[]`), with no separator. Each
 * log event's `message` is one event as the CloudWatch agent sent it: the event XML
 * (`event_format: xml`) or a JSON rendering.
 *
 * In fast mode the envelope is not parsed: its log events' messages are found on the raw text,
 * an XML message whose EventID the rule never reads is dropped there, and one that carries its
 * own UtcTime is decided on its escaped text or unescaped and read as an XML record is. Any other
 * log event is parsed alone; an envelope whose layout the raw reading does not follow is parsed
 * whole (docs/sources.md).
 */
function createCwlReader(o: ReaderOptions): RecordHandler {
  // An XML message is read as an XML record is: pre-filtered on its raw text, parsed if needed.
  // Its envelope, the record, is counted as parsed or not by itself.
  const inner: ReaderOptions = { ...o, parsed: () => {} };
  const xml = createSysmonReader(inner);
  const logEvent = createLogEventReader(o, xml);

  const full: RecordHandler = (buf, _s, start, end, record, offset) => {
    const envelope = readJsonRecord(o, buf, start, end, record, offset);
    if (envelope === undefined) return;
    const type = jsonText(envelope.messageType);
    if (type === CONTROL_MESSAGE) return;
    const events = envelope.logEvents;
    if (type !== DATA_MESSAGE || !Array.isArray(events)) {
      o.skip(
        'unrecognised-record',
        'not a CloudWatch Logs envelope: no DATA_MESSAGE with logEvents',
        record,
        offset,
        excerptOf(buf, start, end),
      );
      return;
    }
    for (const event of events as Json[]) logEvent(event, record, offset);
  };
  if (o.mode === 'full') return full;

  const rawMessage = createRawMessageReader(inner, xml);
  return (buf, s, start, end, record, offset) => {
    const type = jsonRaw(s, MESSAGE_TYPE, start, end);
    if (type === CONTROL_MESSAGE) return;
    const spans = type === DATA_MESSAGE ? messageSpans(s, start, end) : null;
    if (spans === null) {
      full(buf, s, start, end, record, offset);
      return;
    }
    for (let k = 0; k < spans.length; k += 4) {
      const from = spans[k]!;
      if (from < 0) continue; // no message
      const quoted = s.charCodeAt(from) === 34;
      if (quoted && rawMessage(buf, s, from + 1, spans[k + 1]! - 1, record, offset)) continue;
      const event = buf.subarray(spans[k + 2], spans[k + 3]);
      const parsed = parseJsonBytes(event);
      if (!('skip' in parsed)) logEvent(parsed.json, record, offset);
      else {
        const excerpt = excerptOf(event, 0, event.length);
        o.skip(parsed.skip, `log event: ${parsed.message}`, record, offset, excerpt);
      }
    }
  };
}

export const cwlFirehose: SourcePlugin = {
  name: 'cwl-firehose',
  family: 'sysmon',
  summary:
    'CloudWatch Logs subscription delivered by Firehose to S3 (gzip members of JSON envelopes; event XML or JSON in each message)',
  format: 'json-sequence',
  sniff: (head) =>
    head.trimStart().startsWith('{') &&
    head.includes('"messageType"') &&
    head.includes('"logEvents"')
      ? 1
      : 0,
  createReader: createCwlReader,
};
