import { isUtf8 } from 'node:buffer';
import { XMLParser } from 'fast-xml-parser';
import type {
  ProcessInfo,
  ReaderOptions,
  RecordHandler,
  RecordSkip,
  SourcePlugin,
} from '../engine/input.ts';
import type { NormalizedEvent } from '../event/types.ts';
import { detach, utf8Of, xmlData, xmlElementText } from '../text/fields.ts';
import { excerptOf, heldText } from '../text/record.ts';
import {
  createSysmonDispatch,
  KIND_BY_ID,
  type NetworkKind,
  type ParsedSysmon,
  SYSMON_FIELDS,
  sysmonProcessKey,
  toEvent,
  toProcess,
} from './sysmon-events.ts';
import { createSysmonPrefilter } from './sysmon-prefilter.ts';

/**
 * A pre-filter handler for one kind of record (`rec` is the record's own latin1 text): true when
 * it decided on the raw text, false when the record needs the parser.
 */
type KindHandler = (
  buf: Buffer,
  rec: string,
  start: number,
  end: number,
  record: number,
  offset: number,
) => boolean;

/**
 * The `<EventID>` of the record as a number, read in place; -1 when it is absent or not plain
 * digits (the parser then reads it). At most five digits: Windows event ids fit in 16 bits.
 */
export function eventIdAt(s: string, start: number, end: number): number {
  const k = s.indexOf('<EventID', start);
  if (k < 0 || k >= end) return -1;
  let i = s.indexOf('>', k);
  if (i < 0 || i >= end || s.charCodeAt(i - 1) === 47 /* / */) return -1;
  i++;
  while (s.charCodeAt(i) <= 32) i++;
  let id = 0;
  let digits = 0;
  for (let c = s.charCodeAt(i); c >= 48 && c <= 57; c = s.charCodeAt(++i)) {
    id = id * 10 + (c - 48);
    if (++digits > 5) return -1;
  }
  while (s.charCodeAt(i) <= 32) i++;
  // `01` is not `1` to the parse-everything path (it looks the text up): let the parser read it.
  const leadingZero = digits > 1 && id < 10 ** (digits - 1);
  return digits > 0 && !leadingZero && s.charCodeAt(i) === 60 /* < */ ? id : -1;
}

const DTD = /<!(DOCTYPE|ENTITY)/i;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // Standard and numeric character references (`&amp;`, `&#174;`); DTDs never reach the parser.
  processEntities: true,
  htmlEntities: true,
  isArray: (name) => name === 'Data',
});

type XmlNode = Record<string, unknown>;

const text = (v: unknown): string | undefined =>
  typeof v === 'string'
    ? v
    : typeof v === 'object' && v !== null && typeof (v as XmlNode)['#text'] === 'string'
      ? ((v as XmlNode)['#text'] as string)
      : typeof v === 'object' && v !== null
        ? ''
        : undefined;

/** Parses one `<Event>` with fast-xml-parser, refusing any DTD before the parser sees it. */
export function parseSysmonEvent(xml: string): ParsedSysmon | RecordSkip {
  if (DTD.test(xml)) {
    return {
      skip: 'xml-dtd-refused',
      message: 'a DOCTYPE/ENTITY declaration inside <Event> is refused',
    };
  }
  let doc: XmlNode;
  try {
    doc = parser.parse(xml, true) as XmlNode;
  } catch (err) {
    return { skip: 'invalid-xml', message: `not well-formed XML: ${(err as Error).message}` };
  }
  const event = doc.Event as XmlNode | undefined;
  const system = event?.System as XmlNode | undefined;
  if (!event || !system) return { skip: 'invalid-xml', message: '<Event> has no <System> block' };
  const eventId = text(system.EventID)?.trim();
  if (!eventId) return { skip: 'invalid-xml', message: '<Event> has no <EventID>' };
  const data: Record<string, string> = {};
  const eventData = event.EventData as XmlNode | undefined;
  for (const d of (eventData?.Data as XmlNode[] | undefined) ?? []) {
    const name = d?.Name;
    if (typeof name === 'string') data[name] = text(d) ?? '';
  }
  const created = system.TimeCreated as XmlNode | undefined;
  return {
    eventId,
    computer: text(system.Computer),
    systemTime: typeof created?.SystemTime === 'string' ? created.SystemTime : undefined,
    data,
  };
}

const EVENT_FIELDS: Record<NetworkKind, readonly string[]> = {
  network: [
    SYSMON_FIELDS.processKey,
    SYSMON_FIELDS.image,
    SYSMON_FIELDS.user,
    SYSMON_FIELDS.time,
    SYSMON_FIELDS.hostname,
    SYSMON_FIELDS.ip,
    SYSMON_FIELDS.port,
    SYSMON_FIELDS.initiated,
  ],
  dns: [
    SYSMON_FIELDS.processKey,
    SYSMON_FIELDS.image,
    SYSMON_FIELDS.user,
    SYSMON_FIELDS.time,
    SYSMON_FIELDS.query,
    SYSMON_FIELDS.answers,
  ],
};

const SYSTEM_TIME = /SystemTime=['"]([^'"&]*)['"]/;

/**
 * The fields an event of `kind` needs, read off the record's latin1 text; null when an entity
 * (or an odd layout) needs the parser. The `<Data>` values are still latin1: see decodeHeld.
 */
function heldFields(
  rec: string,
  kind: NetworkKind,
): {
  data: Array<[string, string]>;
  computer: string | undefined;
  systemTime: string | undefined;
} | null {
  // Declarations, comments and CDATA, or a record missing its blocks: the parser decides (and
  // refuses a DTD, reports what is malformed).
  if (rec.includes('<!') || !rec.includes('</System>') || !rec.includes('</EventData>'))
    return null;
  const data: Array<[string, string]> = [];
  for (const name of EVENT_FIELDS[kind]) {
    const v = xmlData(rec, name);
    if (v === null) return null;
    if (v !== undefined) data.push([name, v]);
  }
  const computer = xmlElementText(rec, 'Computer');
  if (computer?.includes('&')) return null;
  const time = SYSTEM_TIME.exec(rec)?.[1];
  // Flat copies: the event may wait among the candidates, and these are slices of its text.
  return { data, computer: detach(computer), systemTime: detach(time) };
}

const XML_ENTITIES: Record<string, string> = {
  '&quot;': '"',
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&apos;': "'",
};
const XML_ENTITY = /&(?:quot|amp|lt|gt|apos);/g;

/**
 * Text as written with its XML entity references decoded, as the parser decodes them (one pass:
 * `&amp;lt;` is `&lt;`); undefined when it holds any other reference, which needs the parser.
 */
function decodeXmlEntities(raw: string): string | undefined {
  if (!raw.includes('&')) return raw;
  if (raw.replace(XML_ENTITY, '').includes('&')) return undefined;
  return raw.replace(XML_ENTITY, (e) => XML_ENTITIES[e] ?? e);
}

/** An EventID 1 event of just these `<Data>` values, written as they were (latin1 view). */
function minimalProcessEvent(fields: ReadonlyArray<readonly [string, string | undefined]>): string {
  let data = '';
  for (const [name, value] of fields) {
    if (value !== undefined) data += `<Data Name='${name}'>${value}</Data>`;
  }
  return `<Event><System><EventID>1</EventID></System><EventData>${data}</EventData></Event>`;
}

/** Held `<Data>` values (read off the latin1 view) decoded as the UTF-8 they are. */
function decodeHeld(
  held: ReadonlyArray<readonly [string, string]>,
): { data: Record<string, string> } | RecordSkip {
  const data: Record<string, string> = {};
  for (const [name, value] of held) {
    const text = utf8Of(value);
    if (text === undefined)
      return { skip: 'invalid-encoding', message: 'record is not valid UTF-8' };
    data[name] = text;
  }
  return { data };
}

/** Parses a held record (its own bytes as a flat latin1 string) only if asked. */
function parseLater<T>(
  o: Pick<ReaderOptions, 'parsed'>,
  latin1: string,
  then: (p: ParsedSysmon) => T | undefined,
): () => T | RecordSkip | undefined {
  return () => {
    o.parsed();
    const copy = Buffer.from(latin1, 'latin1');
    if (!isUtf8(copy)) return { skip: 'invalid-encoding', message: 'record is not valid UTF-8' };
    const p = parseSysmonEvent(copy.toString('utf8'));
    return 'skip' in p ? p : then(p);
  };
}

/**
 * The event read off an entity-free record's latin1 text, without the XML parser; null when the
 * record needs the parser.
 */
function xmlEventFromText(
  origin: string,
  kind: NetworkKind,
  text: string,
  record: number,
): NormalizedEvent | RecordSkip | undefined | null {
  const held = heldFields(text, kind);
  if (held === null) return null;
  const decoded = decodeHeld(held.data);
  if ('skip' in decoded) return decoded;
  const p: ParsedSysmon = {
    eventId: kind === 'dns' ? '22' : '3',
    computer: held.computer,
    systemTime: held.systemTime,
    data: decoded.data,
  };
  return toEvent(kind, p, origin, record);
}

/**
 * A held connection record's event (its text: a flat latin1 string of its own bytes), read only
 * when a join asks: off the text when entity-free, else parsed.
 */
export function heldXmlConnection(
  o: Pick<ReaderOptions, 'origin' | 'parsed'>,
  text: string,
  record: number,
): () => NormalizedEvent | RecordSkip | undefined {
  return () => {
    const e = xmlEventFromText(o.origin, 'network', text, record);
    return e === null ? parseLater(o, text, (p) => toEvent('network', p, o.origin, record))() : e;
  };
}

/** The record handler for Sysmon XML: pre-filter, parse, normalize, hand to the analyzer. */
export function createSysmonReader(o: ReaderOptions): RecordHandler {
  const { rule, analyzer, origin } = o;

  const parse = (buf: Buffer, start: number, end: number, record: number, offset: number) => {
    o.parsed();
    const bytes = buf.subarray(start, end);
    if (!isUtf8(bytes)) {
      o.skip(
        'invalid-encoding',
        'record is not valid UTF-8',
        record,
        offset,
        excerptOf(buf, start, end),
      );
      return undefined;
    }
    const xml = bytes.toString('utf8');
    const p = parseSysmonEvent(xml);
    if ('skip' in p) {
      o.skip(p.skip, p.message, record, offset, xml.slice(0, 512));
      return undefined;
    }
    return p;
  };

  const dispatch = createSysmonDispatch(o);

  const full: RecordHandler = (buf, _str, start, end, record, offset) => {
    const p = parse(buf, start, end, record, offset);
    if (p) dispatch(p, record, offset, () => excerptOf(buf, start, end));
  };

  // Closures that outlive the record are made here, not inside `fast`: a closure there would
  // share `fast`'s context, and with it the whole chunk's text.

  /** A process's context from its entity-free values, read off the latin1 view. */
  const heldProcess =
    (key: string, held: ReadonlyArray<readonly [string, string]>) =>
    (): ProcessInfo | RecordSkip | undefined => {
      const decoded = decodeHeld(held);
      if ('skip' in decoded) return decoded;
      const data = { ...decoded.data, [SYSMON_FIELDS.processKey]: key };
      return toProcess({ eventId: '1', computer: undefined, systemTime: undefined, data });
    };

  /** True when the command line, as written, may name a listed URL host (docs/detection.md, "The normalized event"). */
  const namesListedHost = (rawCmd: string): boolean => {
    const text = decodeXmlEntities(rawCmd);
    return text === undefined || rule.listedUrlHosts(text).length > 0;
  };

  // One handler per record kind: each decides on the raw text (true) or asks for the parser
  // (false); `fast` is the single fallback to it. The decisions are the Sysmon shapes' one
  // table (sysmon-prefilter.ts); what is XML's own is reading the values and holding processes.
  const prefilter = createSysmonPrefilter(rule, analyzer);
  const f = SYSMON_FIELDS;

  const fastEnd: KindHandler = (_buf, rec, _start, _end, _record, offset) => {
    const guid = xmlData(rec, f.processKey);
    if (guid === null) return false;
    prefilter.end(guid, offset);
    return true;
  };

  const fastDns: KindHandler = (buf, rec, start, end, record, offset) => {
    const q = xmlData(rec, f.query);
    const guid = xmlData(rec, f.processKey);
    if (typeof q !== 'string' || guid === null) return false;
    if (prefilter.dns(q, guid) === 'drop') return true;
    // Read it off the text when entity-free (the XML parser costs ~0.1 ms).
    const e = xmlEventFromText(origin, 'dns', rec, record);
    if (e === null) return false;
    if (e === undefined) return true;
    if ('skip' in e) {
      o.skip(e.skip, e.message, record, offset, excerptOf(buf, start, end));
      return true;
    }
    analyzer.dns(e);
    return true;
  };

  const fastProcess: KindHandler = (buf, rec, start, end, record, offset) => {
    const image = xmlData(rec, f.image);
    const ofn = xmlData(rec, f.originalFileName);
    const parent = xmlData(rec, f.parentImage);
    const guid = xmlData(rec, f.processKey);
    if (image !== null && ofn !== null && parent !== null && guid !== null) {
      if (prefilter.process(image, ofn, parent, guid) === 'drop') return true;
      // Flat: the context keeps the key (a slice would pin the whole chunk's text).
      const key = detach(sysmonProcessKey(guid)!);
      // The command line as written: a URL in it (or one that entities could spell) needs the
      // parser, so that its hosts are read exactly as the parse-everything path reads them.
      const rawCmd = xmlData(rec, f.cmdLine, 0, rec.length, true);
      const urlLike =
        rawCmd === null ||
        (rawCmd !== undefined &&
          (rawCmd.includes('&#') || // a character reference could spell its `:` or `/`
            (rawCmd.includes('://') && namesListedHost(rawCmd))));
      if (urlLike) return false;
      const cmd = rawCmd?.includes('&') ? null : rawCmd;
      const user = xmlData(rec, f.user);
      if (cmd !== null && user !== null) {
        // Entity-free values read as written: hold just these, not the ~1.5 KiB record.
        const held: Array<[string, string]> = [];
        let chars = 0;
        for (const [k, v] of [
          [f.image, image],
          [f.originalFileName, ofn],
          [f.parentImage, parent],
          [f.cmdLine, cmd],
          [f.user, user],
        ] as const) {
          if (v === undefined) continue;
          held.push([k, detach(v)]);
          chars += v.length;
        }
        analyzer.heldProcess({ key, record, offset, chars, resolve: heldProcess(key, held) });
        return true;
      }
      // Entity references in the command line or user (`&quot;` is common): keep the five
      // values as written in a minimal event, which the parser decodes exactly as it would
      // the record, at a third of the record's size. A flat copy: processes outlive chunks.
      const rawUser = xmlData(rec, f.user, 0, rec.length, true);
      const text =
        rawUser === null
          ? heldText(buf, start, end)
          : detach(
              minimalProcessEvent([
                [f.processKey, guid],
                [f.image, image],
                [f.originalFileName, ofn],
                [f.parentImage, parent],
                [f.cmdLine, rawCmd],
                [f.user, rawUser],
              ]),
            );
      analyzer.heldProcess({
        key,
        record,
        offset,
        chars: text.length,
        resolve: parseLater(o, text, toProcess),
      });
      return true;
    }
    return false;
  };

  const fastConnection: KindHandler = (buf, rec, start, end, record, offset) => {
    const hostname = xmlData(rec, f.hostname);
    const guid = xmlData(rec, f.processKey);
    const ip = xmlData(rec, f.ip);
    if (hostname === null || guid === null || ip === null) return false;
    // Its own bytes; the join window bounds how long they stay.
    const held = heldXmlConnection(o, heldText(buf, start, end), record);
    prefilter.connection(hostname, guid, ip, { record, offset }, held);
    return true;
  };

  const HANDLERS = {
    end: fastEnd,
    dns: fastDns,
    process: fastProcess,
    network: fastConnection,
  } as const;

  const fast: RecordHandler = (buf, str, start, end, record, offset) => {
    const id = eventIdAt(str, start, end);
    const kind = id < 0 ? 'unknown' : KIND_BY_ID[id];
    if (kind === undefined) return; // an EventID the rule never reads
    // The record alone bounds every search of its handler; an unreadable EventID is the parser's.
    if (
      kind !== 'unknown' &&
      HANDLERS[kind](buf, str.slice(start, end), start, end, record, offset)
    )
      return;
    full(buf, str, start, end, record, offset);
  };

  return o.mode === 'full' ? full : fast;
}

/** Sysmon's event XML in any of the shapes Windows tools write. */
export const sysmonXml: SourcePlugin = {
  name: 'sysmon-xml',
  family: 'sysmon',
  summary:
    'Sysmon event XML: `wevtutil qe /f:xml`, Event Viewer "Save as XML", or one <Event> a line (PowerShell ToXml()); UTF-8 or UTF-16',
  format: 'xml',
  sniff: (head) => {
    const text = head.trimStart();
    if (!text.startsWith('<')) return 0;
    return text.includes('<Event') ? 0.9 : 0.5;
  },
  createReader: createSysmonReader,
};
