import { excerptOf } from '../text/record.ts';
import type { SkipReason } from './types.ts';

/**
 * Record splitters: pure push cores (`feed(chunk)`, `end()`), no I/O. Each emits records as a
 * byte range of a buffer plus the buffer's latin1 view, so the pre-filter can search ASCII
 * patterns without decoding UTF-8 (latin1 keeps one char per byte, so offsets line up).
 */

export interface RecordSink {
  /**
   * One record: bytes `[start, end)` of `buf`; `str` is `buf` decoded as latin1.
   * `record` is the 1-based record number (NDJSON: the line number), `offset` the byte offset
   * of `start` in the decoded stream.
   */
  record(
    buf: Buffer,
    str: string,
    start: number,
    end: number,
    record: number,
    offset: number,
  ): void;
  skip(reason: SkipReason, message: string, record: number, offset: number, excerpt: string): void;
}

export interface Splitter {
  feed(chunk: Buffer): void;
  /** `truncated`: the stream stopped early (damage), so a partial last record is not a record. */
  end(truncated: boolean): void;
}

/**
 * How records are framed in the text: lines, the elements of one JSON array, JSON values one
 * after another, or `<Event>` elements.
 */
export type TextFormat = 'ndjson' | 'json-array' | 'json-sequence' | 'xml';

/** Holds the bytes of a record that spans chunks; bounded by the record limit. */
class Carry {
  parts: Buffer[] = [];
  size = 0;
  add(b: Buffer): void {
    if (b.length === 0) return;
    this.parts.push(b);
    this.size += b.length;
  }
  take(): Buffer {
    const out = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    return out;
  }
  clear(): void {
    this.parts = [];
    this.size = 0;
  }
  /** The last `n` bytes held (fewer if less is held), across part boundaries. */
  tail(n: number): Buffer {
    const out: Buffer[] = [];
    let need = n;
    for (let i = this.parts.length - 1; i >= 0 && need > 0; i--) {
      const p = this.parts[i]!;
      out.unshift(p.subarray(Math.max(0, p.length - need)));
      need -= p.length;
    }
    return Buffer.concat(out);
  }
}

function isBlank(str: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = str.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) return false;
  }
  return true;
}

/** NDJSON: one record per line; CRLF, blank lines and a missing final newline are all fine. */
export class NdjsonSplitter implements Splitter {
  private carry = new Carry();
  private line = 0;
  /** Decoded-stream offset of the next byte fed. */
  private offset = 0;
  /** Offset of the first byte held in `carry` (or of the line being discarded). */
  private carryOffset = 0;
  private discarding = false;

  constructor(
    private readonly sink: RecordSink,
    private readonly maxRecordBytes: number,
  ) {}

  feed(chunk: Buffer): void {
    const base = this.offset;
    this.offset += chunk.length;
    const str = chunk.toString('latin1');
    let pos = 0;
    if (this.discarding || this.carry.size > 0) {
      const nl = str.indexOf('\n');
      if (nl < 0) {
        this.hold(chunk, 0, base);
        return;
      }
      if (this.discarding) {
        this.discarding = false;
        this.tooLarge();
      } else if (this.carry.size + nl > this.maxRecordBytes) {
        this.carry.clear();
        this.tooLarge();
      } else {
        this.carry.add(chunk.subarray(0, nl));
        const whole = this.carry.take();
        this.emit(whole, whole.toString('latin1'), 0, whole.length, this.carryOffset);
      }
      pos = nl + 1;
    }
    for (;;) {
      const nl = str.indexOf('\n', pos);
      if (nl < 0) break;
      if (nl - pos > this.maxRecordBytes) {
        this.line++;
        this.sink.skip(
          'record-too-large',
          `line is longer than ${this.maxRecordBytes} bytes`,
          this.line,
          base + pos,
          excerptOf(chunk, pos, nl),
        );
      } else {
        this.emit(chunk, str, pos, nl, base + pos);
      }
      pos = nl + 1;
    }
    if (pos < chunk.length) this.hold(chunk, pos, base);
  }

  private hold(chunk: Buffer, from: number, base: number): void {
    if (this.discarding) return;
    if (this.carry.size === 0) this.carryOffset = base + from;
    if (this.carry.size + chunk.length - from > this.maxRecordBytes) {
      // Past the bound: keep nothing more of this line and skip to its end.
      this.carry.clear();
      this.discarding = true;
      return;
    }
    this.carry.add(chunk.subarray(from));
  }

  private tooLarge(): void {
    this.line++;
    this.sink.skip(
      'record-too-large',
      `line is longer than ${this.maxRecordBytes} bytes`,
      this.line,
      this.carryOffset,
      '',
    );
  }

  private emit(buf: Buffer, str: string, start: number, end: number, offset: number): void {
    this.line++;
    let e = end;
    if (e > start && str.charCodeAt(e - 1) === 13) e--;
    if (e === start || isBlank(str, start, e)) return;
    this.sink.record(buf, str, start, e, this.line, offset);
  }

  end(truncated: boolean): void {
    if (this.discarding) {
      this.discarding = false;
      this.tooLarge();
      return;
    }
    if (this.carry.size === 0) return;
    const whole = this.carry.take();
    const str = whole.toString('latin1');
    if (isBlank(str, 0, whole.length)) return;
    if (truncated) {
      this.line++;
      this.sink.skip(
        'truncated-record',
        'the last line was cut off where the object is damaged',
        this.line,
        this.carryOffset,
        excerptOf(whole, 0, whole.length),
      );
      return;
    }
    this.emit(whole, str, 0, whole.length, this.carryOffset);
  }
}

enum Json {
  Quote = 34,
  Backslash = 92,
  OpenBrace = 123,
  CloseBrace = 125,
  OpenBracket = 91,
  CloseBracket = 93,
  Comma = 44,
}

/**
 * A JSON array of events (LogScale export): each top-level element is a record. Tracks nesting
 * and strings; a non-object element is reported and skipped. As a `sequence`, the values follow
 * each other with no array around them and no separator (`{…}{…}`, `{…}\n{…}`): what a run of
 * gzip members holding one JSON document each decompresses to (CloudWatch Logs through Firehose).
 */
export class JsonArraySplitter implements Splitter {
  private carry = new Carry();
  private offset = 0;
  private depth = 0;
  private inString = false;
  /** The previous chunk ended inside a string on an odd run of backslashes. */
  private escaped = false;
  private inElement = false;
  private element = 0;
  private elementOffset = 0;
  private elementIsObject = false;
  private discarding = false;
  /** The depth at which elements sit: inside the array's `[`, or at the top of a sequence. */
  private readonly top: number;

  constructor(
    private readonly sink: RecordSink,
    private readonly maxRecordBytes: number,
    { sequence = false } = {},
  ) {
    this.top = sequence ? 0 : 1;
  }

  feed(chunk: Buffer): void {
    const base = this.offset;
    this.offset += chunk.length;
    const str = chunk.toString('latin1');
    const n = str.length;
    const top = this.top;
    /** Where the current element starts in this chunk; 0 when it began in an earlier chunk. */
    let elementStart = 0;
    let i = 0;
    while (i < n) {
      if (this.inString) {
        const q = str.indexOf('"', i);
        const stop = q < 0 ? n : q;
        let k = stop - 1;
        let backslashes = 0;
        while (k >= i && str.charCodeAt(k) === Json.Backslash) {
          backslashes++;
          k--;
        }
        if (k < i && this.escaped) backslashes++;
        this.escaped = false;
        if (q < 0) {
          this.escaped = backslashes % 2 === 1;
          break;
        }
        if (backslashes % 2 === 0) this.inString = false;
        i = q + 1;
        continue;
      }
      const c = str.charCodeAt(i);
      if (
        this.depth === top &&
        !this.inElement &&
        c > 32 &&
        c !== Json.Comma &&
        c !== Json.CloseBracket
      ) {
        this.inElement = true;
        this.element++;
        this.elementOffset = base + i;
        this.elementIsObject = c === Json.OpenBrace;
        elementStart = i;
      }
      if (c === Json.Quote) {
        this.inString = true;
      } else if (c === Json.OpenBrace || c === Json.OpenBracket) {
        this.depth++;
      } else if (c === Json.CloseBrace || c === Json.CloseBracket) {
        this.depth--;
        if (this.depth <= top && this.inElement) {
          // `}` closes an object element; an array's `]` closes a primitive last element.
          this.endElement(chunk, str, elementStart, this.depth === top ? i + 1 : i);
        }
      } else if (c === Json.Comma && this.depth === top && this.inElement) {
        this.endElement(chunk, str, elementStart, i);
      }
      i++;
    }
    if (this.inElement) this.hold(chunk.subarray(elementStart));
  }

  private hold(part: Buffer): void {
    if (this.discarding) return;
    if (this.carry.size + part.length > this.maxRecordBytes) {
      this.carry.clear();
      this.discarding = true;
      return;
    }
    this.carry.add(part);
  }

  private endElement(chunk: Buffer, str: string, from: number, to: number): void {
    this.inElement = false;
    let buf = chunk;
    let s = str;
    let start = from;
    let end = to;
    if (this.carry.size > 0 || this.discarding) {
      this.hold(chunk.subarray(0, to));
      buf = this.carry.take();
      s = buf.toString('latin1');
      start = 0;
      end = buf.length;
    }
    if (this.discarding || end - start > this.maxRecordBytes) {
      this.discarding = false;
      this.sink.skip(
        'record-too-large',
        `array element is larger than ${this.maxRecordBytes} bytes`,
        this.element,
        this.elementOffset,
        '',
      );
      return;
    }
    while (end > start && s.charCodeAt(end - 1) <= 32) end--;
    if (!this.elementIsObject) {
      this.sink.skip(
        'not-an-object',
        'array element is not a JSON object',
        this.element,
        this.elementOffset,
        excerptOf(buf, start, end),
      );
      return;
    }
    this.sink.record(buf, s, start, end, this.element, this.elementOffset);
  }

  end(truncated: boolean): void {
    if (!this.inElement) return;
    const whole = this.carry.take();
    this.sink.skip(
      truncated ? 'truncated-record' : 'invalid-json',
      truncated
        ? 'the last array element was cut off where the object is damaged'
        : 'the JSON array ends inside an element',
      this.element,
      this.elementOffset,
      excerptOf(whole, 0, whole.length),
    );
  }
}

const EVENT_OPEN = '<Event';
const EVENT_CLOSE = '</Event>';
/** Longest tail that may hold the beginning of a split `<Event` or `</Event>` marker. */
const MARKER_TAIL = EVENT_CLOSE.length - 1;

/** True when `<Event` at `i` opens an Event element (not `<Events>`, `<EventID>`, `<EventData>`). */
function isEventOpen(str: string, i: number): boolean {
  const c = str.charCodeAt(i + EVENT_OPEN.length);
  return c === 32 || c === 62 || c === 9 || c === 10 || c === 13 || c === 47;
}

/**
 * The next `<Event` at or after `from` that opens an event (between events; nextMarker looks
 * inside one). A `<Event` cut off at the very end of `str` cannot be told from `<EventData` yet:
 * it is reported, so that the caller keeps it for the next chunk.
 */
function findEventOpen(str: string, from: number): number {
  EVENT_OPEN_RE.lastIndex = from;
  if (EVENT_OPEN_RE.test(str)) return EVENT_OPEN_RE.lastIndex - EVENT_OPEN.length - 1;
  const i = str.length - EVENT_OPEN.length;
  return i >= from && str.startsWith(EVENT_OPEN, i) ? i : -1;
}

/**
 * Inside an event that starts before `from`: where the first `</Event>` or event open at or after
 * `from` begins, whichever comes first (-1 when neither does). It hops between occurrences of
 * `Event`, a rarer start than `<` in XML: indexOf('</Event>') stops at every `<` and cost five
 * times more per event, and a separate search for a nested open cost as much again.
 */
function nextMarker(str: string, from: number): number {
  let i = str.indexOf('Event', from + 1);
  while (i >= 0) {
    const before = str.charCodeAt(i - 1);
    if (before === 60 /* < */ && i - 1 >= from && isEventOpen(str, i - 1)) return i - 1;
    if (
      before === 47 /* / */ &&
      i - 2 >= from &&
      str.charCodeAt(i - 2) === 60 &&
      str.charCodeAt(i + 5) === 62 /* > */
    ) {
      return i - 2;
    }
    i = str.indexOf('Event', i + 1);
  }
  return -1;
}

/** `<Event` followed by what isEventOpen accepts. */
const EVENT_OPEN_RE = /<Event[ >\t\n\r/]/g;

const DTD = /<!(DOCTYPE|ENTITY)/i;

/**
 * Sysmon XML: a stream of `<Event>` elements, whatever surrounds them (no root, an `<Events>`
 * root with a declaration, one per line). Text between events is ignored, except that a DOCTYPE
 * or entity declaration is reported and refused, never expanded.
 */
export class XmlEventSplitter implements Splitter {
  /** Unconsumed bytes: a partial event, or a short tail that may hold part of a marker. */
  private carry = new Carry();
  private offset = 0;
  private carryOffset = 0;
  private inEvent = false;
  private discarding = false;
  private event = 0;
  private eventOffset = 0;
  private dtdReported = false;

  constructor(
    private readonly sink: RecordSink,
    private readonly maxRecordBytes: number,
  ) {}

  feed(chunk: Buffer): void {
    if (this.carry.size > 0 && this.carry.size < chunk.length) {
      // Events straddle chunk boundaries, so there is nearly always a carry, and joining it to
      // the whole chunk would copy every byte once more. Feed the chunk in two parts instead:
      // up to the first `</Event>` (joined to the small carry), then the rest, carry-free.
      // Feeding in parts is what the stream does anyway; the result is the same.
      const close = chunk.indexOf(EVENT_CLOSE);
      const cut = close < 0 ? -1 : close + EVENT_CLOSE.length;
      if (cut > 0 && cut < chunk.length) {
        this.feedPart(chunk.subarray(0, cut));
        this.feedPart(chunk.subarray(cut));
        return;
      }
    }
    this.feedPart(chunk);
  }

  private feedPart(chunk: Buffer): void {
    let buf = chunk;
    let base = this.offset;
    this.offset += chunk.length;
    if (this.carry.size > 0) {
      // A held partial event: look for its end in this chunk without re-copying big carries.
      if (this.inEvent && this.carry.size > chunk.length) {
        const joint = Buffer.concat([this.carry.tail(MARKER_TAIL), chunk]);
        if (joint.indexOf(EVENT_CLOSE) < 0 && joint.indexOf('<Event') < 0) {
          this.holdEvent(chunk);
          return;
        }
      }
      base = this.carryOffset;
      this.carry.add(chunk);
      buf = this.carry.take();
    }
    const str = buf.toString('latin1');
    const n = str.length;
    let pos = 0;
    for (;;) {
      if (!this.inEvent) {
        const open = findEventOpen(str, pos);
        const gapEnd = open < 0 ? n : open;
        this.checkGap(buf, str, pos, gapEnd, base);
        if (open < 0) {
          // Keep a short tail in case `<Event` is split across chunks.
          const keep = Math.max(pos, n - MARKER_TAIL);
          this.carryOffset = base + keep;
          this.carry.add(buf.subarray(keep));
          return;
        }
        if (open + EVENT_OPEN.length >= n) {
          this.carryOffset = base + open;
          this.carry.add(buf.subarray(open));
          return;
        }
        this.inEvent = true;
        this.event++;
        this.eventOffset = base + open;
        pos = open;
      }
      const marker = nextMarker(str, pos + 1);
      const close = marker >= 0 && str.charCodeAt(marker + 1) === 47 /* / */ ? marker : -1;
      const next = marker >= 0 && close < 0 ? marker : -1;
      if (next >= 0) {
        // Another event starts before this one closes: this one never closes.
        this.unclosed(buf, pos, next);
        this.inEvent = false;
        pos = next;
        continue;
      }
      if (close < 0) {
        this.carryOffset = base + pos;
        this.holdEvent(buf.subarray(pos));
        return;
      }
      const end = close + EVENT_CLOSE.length;
      this.inEvent = false;
      if (this.discarding) {
        this.discarding = false;
        this.tooLarge();
      } else if (end - pos > this.maxRecordBytes) {
        this.tooLarge();
      } else {
        this.sink.record(buf, str, pos, end, this.event, this.eventOffset);
      }
      pos = end;
    }
  }

  private holdEvent(part: Buffer): void {
    if (this.discarding) return;
    if (this.carry.size + part.length > this.maxRecordBytes) {
      // Too big to be a record: drop what is held but keep a tail to find the close marker.
      this.carry.clear();
      this.discarding = true;
      this.carry.add(part.subarray(Math.max(0, part.length - MARKER_TAIL)));
      return;
    }
    this.carry.add(part);
  }

  private checkGap(buf: Buffer, str: string, from: number, to: number, base: number): void {
    if (to <= from) return;
    const lt = str.indexOf('<!', from);
    if (lt < 0 || lt >= to) return;
    const m = DTD.exec(str.slice(lt, Math.min(to, lt + 10)));
    if (!m || this.dtdReported) return;
    this.dtdReported = true;
    this.sink.skip(
      'xml-dtd-refused',
      `a <!${m[1]!.toUpperCase()} declaration is refused (entities are never expanded)`,
      this.event,
      base + lt,
      excerptOf(buf, lt, to),
    );
  }

  private unclosed(buf: Buffer, from: number, to: number): void {
    this.sink.skip(
      'unclosed-event',
      '<Event> is not closed before the next <Event> begins',
      this.event,
      this.eventOffset,
      excerptOf(buf, from, to),
    );
    this.discarding = false;
  }

  private tooLarge(): void {
    this.sink.skip(
      'record-too-large',
      `<Event> is larger than ${this.maxRecordBytes} bytes`,
      this.event,
      this.eventOffset,
      '',
    );
  }

  end(truncated: boolean): void {
    if (!this.inEvent) return;
    const held = this.carry.take();
    if (this.discarding) {
      this.discarding = false;
      this.tooLarge();
      return;
    }
    this.sink.skip(
      truncated ? 'truncated-record' : 'unclosed-event',
      truncated
        ? 'the last <Event> was cut off where the object is damaged'
        : '<Event> is never closed before the end of the object',
      this.event,
      this.eventOffset,
      excerptOf(held, 0, held.length),
    );
  }
}

/** Decides the text shape from the first non-blank character. */
export function sniffFormat(head: Buffer): TextFormat | undefined {
  for (let i = 0; i < head.length; i++) {
    const c = head[i]!;
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    if (c === 0x3c) return 'xml';
    if (c === 0x5b) return 'json-array';
    if (c === 0x7b) return 'ndjson';
    return undefined;
  }
  return undefined;
}

export function createSplitter(
  format: TextFormat,
  sink: RecordSink,
  maxRecordBytes: number,
): Splitter {
  switch (format) {
    case 'ndjson':
      return new NdjsonSplitter(sink, maxRecordBytes);
    case 'json-array':
      return new JsonArraySplitter(sink, maxRecordBytes);
    case 'json-sequence':
      return new JsonArraySplitter(sink, maxRecordBytes, { sequence: true });
    case 'xml':
      return new XmlEventSplitter(sink, maxRecordBytes);
  }
}
