import type {
  ProcessInfo,
  ProcessStart,
  ReaderOptions,
  RecordHandler,
  RecordSkip,
  SourcePlugin,
} from '../engine/input.ts';
import type { EventKind, NormalizedEvent } from '../event/types.ts';
import { basename, detach, find, jsonPlain, jsonRaw, utf8Of } from '../text/fields.ts';
import { excerptOf, heldText } from '../text/record.ts';
import { parseEpochMillis, parseEpochSeconds } from '../text/time.ts';
import { type Json, parseJsonBytes, parseJsonObject } from './json-records.ts';

/** Falcon `event_simpleName` -> what the engine makes of it. Everything else is irrelevant. */
export const FALCON_EVENTS = {
  DnsRequest: 'dns',
  NetworkConnectIP4: 'network',
  NetworkConnectIP6: 'network',
  ProcessRollup2: 'process',
  SyntheticProcessRollup2: 'process',
  EndOfProcess: 'end',
} as const satisfies Record<string, EventKind | 'process' | 'end'>;

/** Normalized field <- Falcon field (docs/detection.md, "The normalized event"). LogScale may prefix `#`/`@` on the first two. */
export const FALCON_FIELDS = {
  eventName: ['event_simpleName', '#event_simpleName'],
  timestampMs: ['timestamp', '@timestamp'],
  contextTime: 'ContextTimeStamp',
  sensor: 'aid',
  contextPid: 'ContextProcessId',
  targetPid: 'TargetProcessId',
  contextImage: 'ContextBaseFileName',
  image: 'ImageFileName',
  parentImage: 'ParentBaseFileName',
  cmdLine: 'CommandLine',
  user: 'UserName',
  host: 'ComputerName',
  query: 'DomainName',
  answers: ['IP4Records', 'IP6Records'],
  remoteIp: ['RemoteAddressIP4', 'RemoteAddressIP6'],
  remotePort: 'RemotePort',
  direction: 'ConnectionDirection',
} as const;

/** Falcon `ConnectionDirection`: 0 outbound, 1 inbound, 2 neither. */
const INBOUND = '1';

const str = (v: unknown): string | undefined =>
  typeof v === 'string'
    ? v === ''
      ? undefined
      : v
    : typeof v === 'number'
      ? String(v)
      : undefined;

const first = (o: Json, names: readonly string[]): string | undefined => {
  for (const n of names) {
    const v = str(o[n]);
    if (v !== undefined) return v;
  }
  return undefined;
};

const processKey = (aid: string | undefined, pid: string | undefined): string | undefined =>
  aid && pid ? `${aid.toLowerCase()}:${pid}` : undefined;

/** `151.101.248.133;` style lists in IP4Records / IP6Records. */
function splitRecords(v: string | undefined): string[] {
  if (!v) return [];
  return v
    .split(/[;,\s]+/)
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}

function eventTime(o: Json): number | undefined {
  const f = FALCON_FIELDS;
  return parseEpochSeconds(str(o[f.contextTime])) ?? parseEpochMillis(first(o, f.timestampMs));
}

function toEvent(
  kind: EventKind,
  o: Json,
  origin: string,
  record: number,
): NormalizedEvent | RecordSkip | undefined {
  const f = FALCON_FIELDS;
  const time = eventTime(o);
  if (time === undefined)
    return {
      skip: 'unrecognised-record',
      message: 'event has no readable ContextTimeStamp or timestamp',
    };
  if (kind === 'network' && str(o[f.direction]) === INBOUND) return undefined;
  const user = str(o[f.user]);
  const image = str(o[f.contextImage]);
  const key = processKey(str(o[f.sensor]), str(o[f.contextPid]));
  const e: NormalizedEvent = {
    kind,
    time,
    device: deviceOf(o),
    actor: {
      user: user === undefined ? {} : { name: user },
      process: {
        ...(image === undefined ? {} : { file: { name: basename(image) } }),
        ...(key === undefined ? {} : { uid: key }),
      },
    },
    provenance: { source: 'falcon', origin, record },
  };
  if (kind === 'dns') {
    const q = str(o[f.query]);
    if (q === undefined)
      return { skip: 'unrecognised-record', message: 'DnsRequest has no DomainName' };
    e.query = { hostname: q };
    const answers = f.answers.flatMap((n) => splitRecords(str(o[n])));
    if (answers.length > 0) e.answers = answers;
  } else {
    const ip = first(o, f.remoteIp);
    const port = Number(str(o[f.remotePort]));
    e.dst_endpoint = {
      ...(ip === undefined ? {} : { ip: ip.toLowerCase() }),
      ...(Number.isInteger(port) && port > 0 ? { port } : {}),
    };
  }
  return e;
}

/** The device a record names: its ComputerName, and the sensor whose aidmaster may name it. */
function deviceOf(o: Json): NormalizedEvent['device'] {
  const aid = str(o[FALCON_FIELDS.sensor]);
  const host = str(o[FALCON_FIELDS.host]);
  return {
    ...(host === undefined ? {} : { hostname: host }),
    ...(aid === undefined ? {} : { uid: aid.toLowerCase() }),
  };
}

/** Where and when the process record was written, for its process-start events. */
function processStart(o: Json, origin: string, record: number): ProcessStart | undefined {
  const time = eventTime(o);
  if (time === undefined) return undefined;
  return { time, device: deviceOf(o), provenance: { source: 'falcon', origin, record } };
}

function toProcess(o: Json): ProcessInfo | undefined {
  const f = FALCON_FIELDS;
  const key = processKey(str(o[f.sensor]), str(o[f.targetPid]));
  if (!key) return undefined;
  const info: ProcessInfo = { key };
  const image = str(o[f.image]);
  const parent = str(o[f.parentImage]);
  const cmd = str(o[f.cmdLine]);
  const user = str(o[f.user]);
  if (image !== undefined) info.image = image;
  if (parent !== undefined) info.parentImage = parent;
  if (cmd !== undefined) info.cmdLine = cmd;
  if (user !== undefined) info.user = user;
  return info;
}

export const parseFalconRecord = parseJsonBytes;

/** The quoted key as it appears in JSON text, for the pre-filter. */
const q = (name: string) => `"${name}"`;
const Q = {
  query: q(FALCON_FIELDS.query),
  cmdLine: q(FALCON_FIELDS.cmdLine),
  image: q(FALCON_FIELDS.image),
  parentImage: q(FALCON_FIELDS.parentImage),
  sensor: q(FALCON_FIELDS.sensor),
  contextPid: q(FALCON_FIELDS.contextPid),
  targetPid: q(FALCON_FIELDS.targetPid),
  host: q(FALCON_FIELDS.host),
};

/** The raw (still escaped) JSON string values a process context needs, detached from the chunk. */
type HeldFields = Partial<Record<'image' | 'parentImage' | 'cmdLine' | 'user', string>>;

const HELD_KEYS = [
  ['image', FALCON_FIELDS.image],
  ['parentImage', FALCON_FIELDS.parentImage],
  ['cmdLine', FALCON_FIELDS.cmdLine],
  ['user', FALCON_FIELDS.user],
] as const;

/** Null when a value is not a plain JSON string (the record is then held whole). */
function heldProcessFields(rec: string): HeldFields | null {
  const out: HeldFields = {};
  for (const [name, field] of HELD_KEYS) {
    const v = jsonRaw(rec, `"${field}"`);
    if (v === null) return null;
    if (v !== undefined) out[name] = detach(v);
  }
  return out;
}

/**
 * Rebuilds the record's fields: UTF-8 decoded (they were read off the latin1 view), and a JSON
 * string literal unescapes exactly with JSON.parse.
 */
function unescapeFields(key: string, held: HeldFields): Json | RecordSkip {
  const colon = key.indexOf(':');
  const v: Json = {
    [FALCON_FIELDS.sensor]: key.slice(0, colon),
    [FALCON_FIELDS.targetPid]: key.slice(colon + 1),
  };
  for (const [name, field] of HELD_KEYS) {
    const raw = held[name];
    if (raw === undefined) continue;
    const text = utf8Of(raw);
    if (text === undefined)
      return { skip: 'invalid-encoding', message: 'record is not valid UTF-8' };
    v[field] = text.includes('\\') ? JSON.parse(`"${text}"`) : text;
  }
  return v;
}

/** True when the raw JSON string holds the escape `\` + `char` (`\\u` is an escaped backslash). */
function hasEscape(raw: string, char: number): boolean {
  let i = raw.indexOf('\\');
  while (i >= 0) {
    const next = raw.charCodeAt(i + 1);
    if (next === char) return true;
    i = raw.indexOf('\\', i + 2); // skips the escaped character, a backslash included
  }
  return false;
}

const NOT_FALCON = 'not a Falcon record: no event_simpleName and no aid';

/** A record without an event name (sensor inventory such as aidmaster). */
const UNNAMED = 0;
/** The event name could not be read for sure (escapes, odd layout): parse the record. */
const UNSURE = 1;
type RawKind = (typeof FALCON_EVENTS)[keyof typeof FALCON_EVENTS] | typeof UNNAMED | typeof UNSURE;

/** FDR writes the event name first; checking it in place costs no search and no allocation. */
const NAME_FIRST = '{"event_simpleName":"';
/** First letters of the relevant names: the cases of the switch in eventKindAt. */
const NAME_INITIALS = 'DENPS';
for (const name of Object.keys(FALCON_EVENTS)) {
  if (!NAME_INITIALS.includes(name.charAt(0)))
    throw new Error(`eventKindAt has no case for the initial of ${name}`);
}
/** Relevant event names, each with its closing quote as it follows in the raw text. */
const QUOTED_NAMES = Object.entries(FALCON_EVENTS).map(
  ([name, kind]) => [`${name}"`, kind] as const,
);

/**
 * What the record is, from its event name: a relevant kind, UNNAMED, UNSURE, or undefined for
 * an event the rule never reads.
 */
function eventKindAt(s: string, start: number, end: number): RawKind | undefined {
  if (!startsAt(s, start, NAME_FIRST_CODES)) {
    const name = rawEventName(s, start, end);
    if (name === undefined) return UNNAMED;
    if (name === null || name.includes('\\')) return UNSURE;
    return FALCON_EVENTS[name as keyof typeof FALCON_EVENTS];
  }
  const from = start + NAME_FIRST.length;
  // Relevant names start with D, E, N, P or S: any other letter is an event the rule never reads.
  switch (s.charCodeAt(from)) {
    case 68: // D
    case 69: // E
    case 78: // N
    case 80: // P
    case 83: // S
      for (const [codes, kind] of QUOTED_NAME_CODES) if (startsAt(s, from, codes)) return kind;
      break;
    case 92: // \ (an escaped name could spell a relevant one)
      return UNSURE;
    default:
      return undefined; // no relevant name starts with this letter, escapes or not
  }
  // Another event, unless its name is escaped.
  for (let i = from; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 34 /* " */) return undefined;
    if (c === 92 /* \ */) return UNSURE;
  }
  return UNSURE;
}

/** `s.startsWith(text, at)` by char codes: inlined, where the builtin costs a call per record. */
function startsAt(s: string, at: number, codes: readonly number[]): boolean {
  if (at + codes.length > s.length) return false;
  for (let i = 0; i < codes.length; i++) if (s.charCodeAt(at + i) !== codes[i]) return false;
  return true;
}

const codesOf = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));
const NAME_FIRST_CODES = codesOf(NAME_FIRST);
const QUOTED_NAME_CODES = QUOTED_NAMES.map(([quoted, kind]) => [codesOf(quoted), kind] as const);

/** RemoteAddressIP4, else RemoteAddressIP6, lower-cased as the event has it; null when unsure. */
function rawIp(rec: string): string | null | undefined {
  for (const field of FALCON_FIELDS.remoteIp) {
    const v = jsonRaw(rec, `"${field}"`);
    if (v === null || v?.includes('\\')) return null;
    if (v) return v.toLowerCase();
  }
  return undefined;
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * parseFalconRecord on a range of a latin1 view. ASCII text reads the same as latin1 and as
 * UTF-8, so it is parsed as is; anything else goes through the bytes.
 */
function parseFalconLatin1(s: string, start: number, end: number): { json: Json } | RecordSkip {
  const text = s.slice(start, end);
  return NON_ASCII.test(text)
    ? parseFalconRecord(Buffer.from(text, 'latin1'))
    : parseJsonObject(text);
}

/** `event_simpleName` (or LogScale `#event_simpleName`) read off the raw text. */
function rawEventName(s: string, start: number, end: number): string | null | undefined {
  const v = jsonRaw(s, '"event_simpleName"', start, end);
  return v === undefined ? jsonRaw(s, '"#event_simpleName"', start, end) : v;
}

/**
 * The `aid:pid` key read off the raw text, or null when it cannot be read for sure. It may share
 * the chunk's text: whoever keeps it makes a flat copy (the analyzer does for what it keeps).
 */
function rawKey(rec: string, pidKey: string): string | null | undefined {
  const aid = jsonRaw(rec, Q.sensor);
  const pid = jsonRaw(rec, pidKey);
  if (aid === null || pid === null || aid?.includes('\\') || pid?.includes('\\')) return null;
  return processKey(aid, pid);
}

/** The record handler for Falcon JSON (FDR NDJSON lines, LogScale array elements). */
/**
 * A pre-filter handler for one kind of record (`rec` is the record's own latin1 text): true when
 * it decided on the raw text, false when the record needs the parser.
 */
type KindHandler = (
  rec: string,
  buf: Buffer,
  start: number,
  end: number,
  record: number,
  offset: number,
) => boolean;

export function createFalconReader(o: ReaderOptions): RecordHandler {
  const { rule, analyzer, origin } = o;

  const dispatch = (v: Json, record: number, offset: number, excerpt: () => string) => {
    const name = first(v, FALCON_FIELDS.eventName);
    if (name === undefined) {
      // aidmaster (and similar sensor inventory) records: no event name, a sensor and its host.
      const aid = str(v[FALCON_FIELDS.sensor]);
      const host = str(v[FALCON_FIELDS.host]);
      if (aid && host) analyzer.hostName(aid.toLowerCase(), host);
      else if (!aid) o.skip('unrecognised-record', NOT_FALCON, record, offset, excerpt());
      return;
    }
    const kind = FALCON_EVENTS[name as keyof typeof FALCON_EVENTS];
    if (kind === undefined) return;
    if (kind === 'process') {
      const info = toProcess(v);
      if (!info) return;
      const start = processStart(v, origin, record);
      analyzer.process(start === undefined ? info : { ...info, start });
      return;
    }
    if (kind === 'end') {
      const key = processKey(str(v[FALCON_FIELDS.sensor]), str(v[FALCON_FIELDS.targetPid]));
      if (key) analyzer.processEnd(key, offset);
      return;
    }
    const e = toEvent(kind, v, origin, record);
    if (e === undefined) return;
    if ('skip' in e) {
      o.skip(e.skip, e.message, record, offset, excerpt());
      return;
    }
    if (kind === 'dns') analyzer.dns(e);
    else
      analyzer.connection({
        key: e.actor.process.uid,
        record,
        offset,
        hostname: undefined,
        ip: e.dst_endpoint?.ip,
        resolve: () => e,
      });
  };

  /** Reports a record the parser refused, or hands what it read to dispatch. */
  const settle = (
    v: { json: Json } | RecordSkip,
    buf: Buffer,
    start: number,
    end: number,
    record: number,
    offset: number,
  ) => {
    const excerpt = () => excerptOf(buf, start, end);
    if ('skip' in v) {
      o.skip(v.skip, v.message, record, offset, excerpt());
      return;
    }
    dispatch(v.json, record, offset, excerpt);
  };

  const full: RecordHandler = (buf, _s, start, end, record, offset) => {
    o.parsed();
    settle(parseFalconRecord(buf.subarray(start, end)), buf, start, end, record, offset);
  };

  /**
   * Parses the record later, if a join asks for it, from `text`: its own bytes as a flat latin1
   * string (see heldText). The analyzer lets a waiting connection go once it is `maxPendingBytes`
   * old, which bounds what is kept this way.
   */
  const later =
    <T>(text: string, then: (v: Json) => T | undefined) =>
    (): T | RecordSkip | undefined => {
      o.parsed();
      const v = parseFalconLatin1(text, 0, text.length);
      return 'skip' in v ? v : then(v.json);
    };

  /** A process's context from its held raw values (made here: a closure in `fast` would share
   * `fast`'s context, and with it the chunk's text). */
  const heldProcess =
    (key: string, held: HeldFields) => (): ProcessInfo | RecordSkip | undefined => {
      const v = unescapeFields(key, held);
      return 'skip' in v ? (v as RecordSkip) : toProcess(v);
    };

  /** `full` for a record the pre-filter found relevant, straight off the latin1 view when ASCII. */
  const parseNow: RecordHandler = (buf, s, start, end, record, offset) => {
    o.parsed();
    settle(parseFalconLatin1(s, start, end), buf, start, end, record, offset);
  };

  // One handler per relevant kind: each decides on the record's own text `rec` (true) or asks
  // for the parser (false); `fast` is the single fallback to it.

  const fastEnd: KindHandler = (rec, _buf, _start, _end, _record, offset) => {
    const key = rawKey(rec, Q.targetPid);
    if (key === null) return false;
    if (key !== undefined) analyzer.processEnd(key, offset);
    return true;
  };

  const fastConnection: KindHandler = (rec, buf, start, end, record, offset) => {
    const key = rawKey(rec, Q.contextPid);
    const ip = rawIp(rec);
    if (key === null || ip === null) return false;
    // Held unparsed: only a join (DNS answer, command-line URL) can make it matter.
    analyzer.connection({
      key,
      record,
      offset,
      hostname: undefined,
      ip,
      resolve: later(heldText(buf, start, end), (v) => toEvent('network', v, origin, record)),
    });
    return true;
  };

  const fastDns: KindHandler = (rec) => {
    const domain = jsonRaw(rec, Q.query);
    if (typeof domain !== 'string' || domain.includes('\\')) return false;
    if (rule.listedDomain(domain) !== undefined) {
      // A listed name queried by a process known to be harmless (a browser) cannot match.
      const key = rawKey(rec, Q.contextPid);
      return typeof key === 'string' && analyzer.isHarmless(key);
    }
    // Unlisted names matter only to a process whose command line names a listed host.
    if (!analyzer.anyWantsAllAnswers) return true;
    const key = rawKey(rec, Q.contextPid);
    return key === undefined || (key !== null && !analyzer.wantsAllAnswers(key));
  };

  const fastProcess: KindHandler = (rec, _buf, _start, _end, record, offset) => {
    // The whole path: the rule reads where the image lives, not only its name.
    const image = jsonPlain(rec, Q.image);
    const parent = jsonPlain(rec, Q.parentImage);
    if (image === null || parent === null) return false;
    const key = rawKey(rec, Q.targetPid);
    if (key === null) return false;
    if (key === undefined) return true;
    if (!rule.processCouldMatch({ image, originalFileName: undefined, parentImage: parent })) {
      analyzer.harmless(key);
      return true;
    }
    // A URL in the command line (or one that escapes could spell: `https:\/\/`, `\u003a`)
    // needs the parser, so that its hosts are read exactly as the full parse reads them.
    const cmd = jsonRaw(rec, Q.cmdLine);
    const urlLike =
      cmd === null ||
      (cmd !== undefined &&
        (hasEscape(cmd, 117 /* u */) ||
          hasEscape(cmd, 47 /* / */) ||
          (cmd.includes('://') && rule.listedUrlHosts(cmd).length > 0)));
    if (urlLike) return false;
    const held = heldProcessFields(rec);
    if (held === null) return false;
    // Held as its raw JSON string values, not the whole record: several times smaller.
    const flat = detach(key);
    let chars = 0;
    for (const v of Object.values(held)) chars += v.length;
    analyzer.heldProcess({ key: flat, record, offset, chars, resolve: heldProcess(flat, held) });
    return true;
  };

  const HANDLERS: Record<(typeof FALCON_EVENTS)[keyof typeof FALCON_EVENTS], KindHandler> = {
    end: fastEnd,
    network: fastConnection,
    dns: fastDns,
    process: fastProcess,
  };

  const fast: RecordHandler = (buf, s, start, end, record, offset) => {
    // A record that does not look like one JSON object goes to the parser, so it is reported
    // (not-an-object, invalid-json) rather than silently dropped as irrelevant.
    if (s.charCodeAt(start) !== 123 /* { */ || s.charCodeAt(end - 1) !== 125 /* } */) {
      full(buf, s, start, end, record, offset);
      return;
    }
    const kind = eventKindAt(s, start, end);
    if (kind === undefined) return;
    if (kind === UNNAMED) {
      // No event name: only sensor inventory (aidmaster) matters, and it names the host. A
      // record with no sensor either is no Falcon record at all.
      if (find(s, Q.host, start, end) >= 0) parseNow(buf, s, start, end, record, offset);
      else if (find(s, Q.sensor, start, end) < 0)
        o.skip('unrecognised-record', NOT_FALCON, record, offset, excerptOf(buf, start, end));
      return;
    }
    // The record's own text bounds every search of its handler.
    if (kind !== UNSURE && HANDLERS[kind](s.slice(start, end), buf, start, end, record, offset))
      return;
    parseNow(buf, s, start, end, record, offset);
  };

  return o.mode === 'full' ? full : fast;
}

/** True when the first record of `head` names a Falcon event or sensor. */
const namesFalconFields = (head: string): boolean =>
  head.includes('"event_simpleName"') ||
  head.includes('"#event_simpleName"') ||
  head.includes('"aid"');

/** Falcon Data Replicator: one JSON event a line, every value a string, aidmaster mixed in. */
export const falconFdr: SourcePlugin = {
  name: 'falcon-fdr',
  family: 'falcon',
  summary:
    'CrowdStrike Falcon Data Replicator NDJSON (one event a line, aidmaster records mixed in)',
  format: 'ndjson',
  sniff: (head) => (head.trimStart().startsWith('{') && namesFalconFields(head) ? 0.9 : 0),
  createReader: createFalconReader,
};

/** A LogScale (Humio) export: one JSON array of events. */
export const falconLogscale: SourcePlugin = {
  name: 'falcon-logscale',
  family: 'falcon',
  summary: 'CrowdStrike Falcon LogScale JSON export (one array; #event_simpleName, @timestamp)',
  format: 'json-array',
  sniff: (head) => (head.trimStart().startsWith('[') && namesFalconFields(head) ? 0.9 : 0),
  createReader: createFalconReader,
};
