import type { ReaderOptions, RecordHandler, SourcePlugin } from '../engine/input.ts';
import { excerptOf } from '../text/record.ts';
import { type Json, jsonText, parseJsonObject, readJsonRecord } from './json-records.ts';
import { nxlogEvent } from './nxlog.ts';
import { createSysmonDispatch, type ParsedSysmon, SYSMON_EVENTS } from './sysmon-events.ts';
import { OTHER_CHANNEL } from './sysmon-json.ts';
import { createSysmonReader, eventIdAt, parseSysmonEvent } from './sysmon-xml.ts';
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

/**
 * CloudWatch Logs subscription → Kinesis Data Firehose → S3: a run of gzip members, each one
 * JSON envelope (`messageType`, `logGroup`, `logStream`, `logEvents[]`), with no separator. Each
 * log event's `message` is one event as the CloudWatch agent sent it: the event XML
 * (`event_format: xml`) or a JSON rendering.
 */
function createCwlReader(o: ReaderOptions): RecordHandler {
  const dispatch = createSysmonDispatch(o);
  // An XML message is read as an XML record is: pre-filtered on its raw text, parsed if needed.
  // Its envelope, the record, is counted as parsed already.
  const xml = createSysmonReader({ ...o, parsed: () => {} });
  return (buf, _s, start, end, record, offset) => {
    const envelope = readJsonRecord(o, buf, start, end, record, offset);
    if (envelope === undefined) return;
    const excerpt = () => excerptOf(buf, start, end);
    const type = jsonText(envelope.messageType);
    if (type === CONTROL_MESSAGE) return;
    const events = envelope.logEvents;
    if (type !== DATA_MESSAGE || !Array.isArray(events)) {
      o.skip(
        'unrecognised-record',
        'not a CloudWatch Logs envelope: no DATA_MESSAGE with logEvents',
        record,
        offset,
        excerpt(),
      );
      return;
    }
    for (const logEvent of events as Json[]) {
      const message = jsonText(logEvent?.message);
      if (message === undefined) continue;
      if (message.startsWith('<') && !logEventTimeNeeded(message)) {
        const bytes = Buffer.from(message, 'utf8');
        xml(bytes, bytes.toString('latin1'), 0, bytes.length, record, offset);
        continue;
      }
      const ts = typeof logEvent.timestamp === 'number' ? logEvent.timestamp : undefined;
      const event = messageEvent(message, ts);
      if (event === undefined) continue;
      if ('skip' in event) {
        o.skip(
          event.skip,
          `log event ${jsonText(logEvent.id) ?? '?'}: ${event.message}`,
          record,
          offset,
          message.slice(0, 512),
        );
        continue;
      }
      dispatch(event, record, offset, () => message.slice(0, 512));
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
