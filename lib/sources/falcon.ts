import { isUtf8 } from 'node:buffer';
import { basename, detach, find, jsonBasename, jsonRaw, utf8Of } from '../engine/fields.ts';
import type { EventKind, NormalizedEvent } from '../event/types.ts';
import type { CompiledRule } from '../rule/types.ts';
import { parseEpochMillis, parseEpochSeconds } from './time.ts';
import type { AnalyzerInput, ProcessInfo, RecordSkip } from './types.ts';

/** Falcon `event_simpleName` -> what the engine makes of it. Everything else is irrelevant. */
export const FALCON_EVENTS = {
  DnsRequest: 'dns',
  NetworkConnectIP4: 'network',
  NetworkConnectIP6: 'network',
  ProcessRollup2: 'process',
  SyntheticProcessRollup2: 'process',
} as const satisfies Record<string, EventKind | 'process'>;

/** Normalized field <- Falcon field (SPEC §2). LogScale may prefix `#`/`@` on the first two. */
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

type Json = Record<string, unknown>;

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
  const aid = str(o[f.sensor]);
  const host = str(o[f.host]);
  const user = str(o[f.user]);
  const image = str(o[f.contextImage]);
  const key = processKey(aid, str(o[f.contextPid]));
  const e: NormalizedEvent = {
    kind,
    time,
    device: {
      ...(host === undefined ? {} : { hostname: host }),
      ...(aid === undefined ? {} : { uid: aid.toLowerCase() }),
    },
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

export function parseFalconRecord(bytes: Buffer): { json: Json } | RecordSkip {
  if (!isUtf8(bytes)) return { skip: 'invalid-encoding', message: 'record is not valid UTF-8' };
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return { skip: 'invalid-json', message: `not valid JSON: ${(err as Error).message}` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return {
      skip: 'not-an-object',
      message: `a JSON ${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v} is not an event`,
    };
  }
  return { json: v as Json };
}

export interface FalconReaderOptions {
  rule: CompiledRule;
  analyzer: AnalyzerInput;
  origin: string;
  mode: 'fast' | 'full';
  skip(
    reason: RecordSkip['skip'],
    message: string,
    record: number,
    offset: number,
    excerpt: string,
  ): void;
  parsed(): void;
}

/** The quoted key as it appears in JSON text, for the pre-filter. */
const q = (name: string) => `"${name}"`;
const Q = {
  query: q(FALCON_FIELDS.query),
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

/** `event_simpleName` (or LogScale `#event_simpleName`) read off the raw text. */
function rawEventName(s: string, start: number, end: number): string | null | undefined {
  const v = jsonRaw(s, '"event_simpleName"', start, end);
  return v === undefined ? jsonRaw(s, '"#event_simpleName"', start, end) : v;
}

/** The `aid:pid` key read off the raw text, or null when it cannot be read for sure. */
function rawKey(rec: string, pidKey: string): string | null | undefined {
  const aid = jsonRaw(rec, Q.sensor);
  const pid = jsonRaw(rec, pidKey);
  if (aid === null || pid === null || aid?.includes('\\') || pid?.includes('\\')) return null;
  return detach(processKey(aid, pid));
}

/** The record handler for Falcon JSON (FDR NDJSON lines, LogScale array elements). */
export function createFalconReader(o: FalconReaderOptions) {
  const { rule, analyzer, origin } = o;

  const dispatch = (v: Json, record: number, offset: number, excerpt: () => string) => {
    const name = first(v, FALCON_FIELDS.eventName);
    if (name === undefined) {
      // aidmaster (and similar sensor inventory) records: no event name, a sensor and its host.
      const aid = str(v[FALCON_FIELDS.sensor]);
      const host = str(v[FALCON_FIELDS.host]);
      if (aid && host) analyzer.hostName(aid.toLowerCase(), host);
      return;
    }
    const kind = FALCON_EVENTS[name as keyof typeof FALCON_EVENTS];
    if (kind === undefined) return;
    if (kind === 'process') {
      const info = toProcess(v);
      if (info) analyzer.process(info);
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
        resolve: () => e,
      });
  };

  const full = (
    buf: Buffer,
    _s: string,
    start: number,
    end: number,
    record: number,
    offset: number,
  ) => {
    o.parsed();
    const bytes = buf.subarray(start, end);
    const excerpt = () => bytes.toString('utf8', 0, 512);
    const v = parseFalconRecord(bytes);
    if ('skip' in v) {
      o.skip(v.skip, v.message, record, offset, excerpt());
      return;
    }
    dispatch(v.json, record, offset, excerpt);
  };

  /** Keeps the record's bytes and parses them only if asked. */
  const later = <T>(buf: Buffer, start: number, end: number, then: (v: Json) => T | undefined) => {
    // A flat latin1 string of the bytes: exact (one char per byte), owned, and not carved from
    // Buffer's shared 8 KiB pool, whose slabs a long-held FIFO would keep pinned.
    const held = buf.toString('latin1', start, end);
    return (): T | RecordSkip | undefined => {
      o.parsed();
      const v = parseFalconRecord(Buffer.from(held, 'latin1'));
      return 'skip' in v ? v : then(v.json);
    };
  };

  const fast = (
    buf: Buffer,
    s: string,
    start: number,
    end: number,
    record: number,
    offset: number,
  ) => {
    // A record that does not look like one JSON object goes to the parser, so it is reported
    // (not-an-object, invalid-json) rather than silently dropped as irrelevant.
    if (s.charCodeAt(start) !== 123 /* { */ || s.charCodeAt(end - 1) !== 125 /* } */) {
      full(buf, s, start, end, record, offset);
      return;
    }
    const name = rawEventName(s, start, end);
    if (name === undefined) {
      // No event name: only sensor inventory (aidmaster) matters, and it names the host.
      if (find(s, Q.host, start, end) < 0) return;
    } else if (name !== null) {
      const kind = FALCON_EVENTS[name as keyof typeof FALCON_EVENTS];
      if (kind === undefined) return;
      const rec = s.slice(start, end); // bounds every search below to this record
      if (kind === 'dns') {
        const domain = jsonRaw(rec, Q.query);
        if (
          typeof domain === 'string' &&
          !domain.includes('\\') &&
          rule.listedDomain(domain) === undefined
        ) {
          // Unlisted names matter only to a process whose command line names a listed host.
          if (!analyzer.anyWantsAllAnswers) return;
          const key = rawKey(rec, Q.contextPid);
          if (key === undefined || (key !== null && !analyzer.wantsAllAnswers(key))) return;
        }
      } else if (kind === 'process') {
        const image = jsonBasename(rec, Q.image);
        const parent = jsonBasename(rec, Q.parentImage);
        const key = rawKey(rec, Q.targetPid);
        const urlLike =
          rec.includes('://') &&
          (rec.includes('\\u') || rec.includes('\\/') || rule.listedUrlHosts(rec).length > 0);
        if (image !== null && parent !== null && key !== null && !urlLike) {
          if (key === undefined) return;
          if (
            !rule.processCouldMatch({ image, originalFileName: undefined, parentImage: parent })
          ) {
            return;
          }
          const held = heldProcessFields(rec);
          if (held !== null) {
            // Held as its raw JSON string values, not the whole record: several times smaller.
            analyzer.processRef({
              key,
              record,
              offset,
              resolve: () => {
                const v = unescapeFields(key, held);
                return 'skip' in v ? (v as RecordSkip) : toProcess(v);
              },
            });
            return;
          }
        }
      } else {
        const key = rawKey(rec, Q.contextPid);
        if (key !== null) {
          // Held unparsed: only a join (DNS answer, command-line URL) can make it matter.
          analyzer.connection({
            key,
            record,
            offset,
            hostname: undefined,
            resolve: later(buf, start, end, (v) => toEvent(kind, v, origin, record)),
          });
          return;
        }
      }
    }
    full(buf, s, start, end, record, offset);
  };

  return o.mode === 'full' ? full : fast;
}
