import { describe, expect, it } from 'vitest';
import {
  JsonArraySplitter,
  NdjsonSplitter,
  type RecordSink,
  type Splitter,
  XmlEventSplitter,
} from '../../lib/engine/index.ts';

interface Collected {
  records: Array<{ text: string; record: number; offset: number }>;
  skips: Array<{ reason: string; record: number; offset: number }>;
}

function collector(): { sink: RecordSink; out: Collected } {
  const out: Collected = { records: [], skips: [] };
  return {
    out,
    sink: {
      record(buf, _str, start, end, record, offset) {
        out.records.push({ text: buf.toString('utf8', start, end), record, offset });
      },
      skip(reason, _message, record, offset) {
        out.skips.push({ reason, record, offset });
      },
    },
  };
}

type Make = (sink: RecordSink, max: number) => Splitter;
const ndjson: Make = (s, m) => new NdjsonSplitter(s, m);
const jsonArray: Make = (s, m) => new JsonArraySplitter(s, m);
const xml: Make = (s, m) => new XmlEventSplitter(s, m);

function run(
  make: Make,
  input: Buffer,
  cuts: number[],
  max = 1 << 20,
  truncated = false,
): Collected {
  const { sink, out } = collector();
  const sp = make(sink, max);
  let prev = 0;
  for (const c of [...cuts, input.length]) {
    sp.feed(input.subarray(prev, c));
    prev = c;
  }
  sp.end(truncated);
  return out;
}

/** Every way to cut the input in two, plus one byte at a time. */
function everySplit(input: Buffer): number[][] {
  const ways: number[][] = [];
  for (let i = 1; i < input.length; i++) ways.push([i]);
  ways.push(Array.from({ length: input.length - 1 }, (_, i) => i + 1));
  return ways;
}

describe('Splitter: NDJSON', () => {
  const input = Buffer.from('{"a":"é1"}\r\n\r\n{"b":"\u{1F600}"}\n  \n{"c":3}', 'utf8');
  const expected = ['{"a":"é1"}', '{"b":"\u{1F600}"}', '{"c":3}'];

  it('splits CRLF, blank lines and a missing final newline at every chunk boundary', () => {
    for (const cuts of everySplit(input)) {
      // Act
      const out = run(ndjson, input, cuts);
      // Assess
      expect(
        out.records.map((r) => r.text),
        `cuts ${cuts.join(',')}`,
      ).toEqual(expected);
      expect(out.skips).toEqual([]);
    }
  });

  it('numbers records by line and gives byte offsets', () => {
    // Act
    const out = run(ndjson, input, []);
    // Assess: line 1 is 11 bytes (é is 2) + CRLF; line 2 is a blank CRLF, so line 3 starts at 15;
    // line 3 is 12 bytes (the emoji is 4) + LF, line 4 is 3 bytes, so line 5 starts at 31.
    expect(out.records.map((r) => [r.record, r.offset])).toEqual([
      [1, 0],
      [3, 15],
      [5, 31],
    ]);
  });

  it('skips a line over the record bound and keeps the lines around it', () => {
    // Prepare
    const big = `{"x":"${'y'.repeat(300)}"}`;
    const text = Buffer.from(`{"a":1}\n${big}\n{"b":2}\n`);
    for (const cuts of [[], [5], [20], [100, 200, 300], everySplit(text).at(-1)!]) {
      // Act
      const out = run(ndjson, text, cuts, 100);
      // Assess
      expect(out.records.map((r) => r.text)).toEqual(['{"a":1}', '{"b":2}']);
      expect(out.skips).toEqual([{ reason: 'record-too-large', record: 2, offset: 8 }]);
    }
  });

  it('reports a cut-off last line as truncated when the stream is damaged', () => {
    // Act
    const out = run(ndjson, Buffer.from('{"a":1}\n{"b":'), [], 1 << 20, true);
    // Assess
    expect(out.records.map((r) => r.text)).toEqual(['{"a":1}']);
    expect(out.skips).toEqual([{ reason: 'truncated-record', record: 2, offset: 8 }]);
  });
});

describe('Splitter: JSON array (LogScale export)', () => {
  const input = Buffer.from(
    '[\n {\n  "a": "x,]}\\"{[",\n  "n": {"m": [1, 2]}\n },\n {"b": "\\\\"} , 42, {"c": "ü"}\n]\n',
    'utf8',
  );

  it('yields each object element at every chunk boundary, and skips non-objects', () => {
    for (const cuts of everySplit(input)) {
      // Act
      const out = run(jsonArray, input, cuts);
      // Assess
      expect(
        out.records.map((r) => JSON.parse(r.text)),
        `cuts ${cuts.join(',')}`,
      ).toEqual([{ a: 'x,]}"{[', n: { m: [1, 2] } }, { b: '\\' }, { c: 'ü' }]);
      expect(out.skips.map((s) => [s.reason, s.record])).toEqual([['not-an-object', 3]]);
    }
  });

  it('reports an array that ends inside an element', () => {
    // Act
    const out = run(jsonArray, Buffer.from('[{"a":1},{"b":'), []);
    // Assess
    expect(out.records).toHaveLength(1);
    expect(out.skips.map((s) => s.reason)).toEqual(['invalid-json']);
  });
});

describe('Splitter: Sysmon XML events', () => {
  const ev = (id: number, body = '') =>
    `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>${id}</EventID></System><EventData><Data Name='X'>${body}</Data></EventData></Event>`;

  it.each([
    ['wevtutil (no root)', `${ev(1)}${ev(3, 'a&amp;b')}`],
    [
      'Event Viewer (declaration, <Events> root, CRLF)',
      `<?xml version="1.0" encoding="UTF-8"?>\r\n<Events>\r\n${ev(1)}\r\n${ev(3, 'a&amp;b')}\r\n</Events>\r\n`,
    ],
    ['one per line', `${ev(1)}\n${ev(3, 'a&amp;b')}\n`],
  ])('finds every <Event> in %s at every chunk boundary', (_name, text) => {
    const input = Buffer.from(text);
    for (const cuts of everySplit(input)) {
      // Act
      const out = run(xml, input, cuts);
      // Assess
      expect(
        out.records.map((r) => r.text),
        `cuts ${cuts.join(',')}`,
      ).toEqual([ev(1), ev(3, 'a&amp;b')]);
      expect(out.skips).toEqual([]);
    }
  });

  it('keeps multi-byte characters intact across chunk boundaries', () => {
    // Prepare
    const text = ev(1, 'Microsoft® Windows® 日本 \u{1F600}');
    const input = Buffer.from(text);
    for (const cuts of everySplit(input)) {
      // Act
      const out = run(xml, input, cuts);
      // Assess
      expect(out.records.map((r) => r.text)).toEqual([text]);
    }
  });

  it('reports an <Event> that is not closed before the next one and keeps the next', () => {
    // Prepare
    const unclosed = "<Event xmlns='x'><System><EventID>1</EventID>";
    const input = Buffer.from(`${unclosed}${ev(22)}`);
    for (const cuts of everySplit(input)) {
      // Act
      const out = run(xml, input, cuts);
      // Assess
      expect(out.records.map((r) => r.text)).toEqual([ev(22)]);
      expect(out.skips).toEqual([{ reason: 'unclosed-event', record: 1, offset: 0 }]);
    }
  });

  it('reports an <Event> that never closes before the end', () => {
    // Act
    const out = run(xml, Buffer.from(`${ev(1)}<Event xmlns='x'><System>`), []);
    // Assess
    expect(out.records).toHaveLength(1);
    expect(out.skips.map((s) => s.reason)).toEqual(['unclosed-event']);
  });

  it('refuses a DOCTYPE between events and still yields the events', () => {
    // Prepare
    const dtd = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>';
    const input = Buffer.from(`${dtd}<Events>${ev(1, '&lol2;')}</Events>`);
    // Act
    const out = run(xml, input, []);
    // Assess
    expect(out.skips.map((s) => s.reason)).toEqual(['xml-dtd-refused']);
    expect(out.records.map((r) => r.text)).toEqual([ev(1, '&lol2;')]);
  });

  it('skips an event over the record bound and keeps its neighbours', () => {
    // Prepare
    const big = ev(1, 'z'.repeat(5000));
    const input = Buffer.from(`${ev(3)}${big}${ev(22)}`);
    for (const cuts of [[], [100], [1000, 2000, 3000, 4000, 5000]]) {
      // Act
      const out = run(xml, input, cuts, 1000);
      // Assess
      expect(out.records.map((r) => r.text)).toEqual([ev(3), ev(22)]);
      expect(out.skips.map((s) => [s.reason, s.record])).toEqual([['record-too-large', 2]]);
    }
  });
});
