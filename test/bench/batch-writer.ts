/**
 * Writes a generated batch's file: the source's own text (Sysmon XML, Falcon NDJSON) in one gzip
 * stream, or the events rendered in another Sysmon shape (shapes.ts). Whatever it writes, `write`
 * returns the event's text in the source's own format: the generator stops at the same event for
 * every rendering of a batch, so they all hold the same events and the same planted matches.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { finished, pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import type { Formatter, SimEvent } from './events.ts';
import { CwlEnvelopes, nxlogLine, type SysmonShape, winlogbeatLine } from './shapes.ts';
import { SysmonFormatter, type SysmonRecord, sysmonXml } from './sysmon-format.ts';

/** Text handed to gzip per write: large enough to amortise the call, small enough to stream. */
export const WRITE_CHUNK_CHARS = 1024 * 1024;
/** Uncompressed text queued for gzip (or compressed bytes for the file) before the generator waits. */
const GZIP_QUEUE_BYTES = 8 * 1024 * 1024;
/** zlib output buffer size: fewer round trips between the pool thread and the main thread. */
const GZIP_CHUNK_BYTES = 256 * 1024;
/** gzip level the issue prescribes (the zlib default). */
const GZIP_LEVEL = 6;

export interface BatchWriter {
  /** Writes one event; returns its text in the batch source's own format. */
  write(event: SimEvent): string;
  /** A promise while more is queued than GZIP_QUEUE_BYTES: the generator waits on it. */
  wait(): Promise<void> | undefined;
  /** Writes what is buffered and closes the file; `records` in the file's own framing. */
  end(): Promise<{ bytes: number; records: number }>;
  destroy(): void;
}

/** Text into one gzip stream, in chunks of WRITE_CHUNK_CHARS; `bytes` counts the uncompressed bytes. */
class GzipTextFile {
  bytes = 0;
  private chunk = '';
  private readonly gzip = createGzip({ level: GZIP_LEVEL, chunkSize: GZIP_CHUNK_BYTES });
  private readonly done: Promise<void>;

  constructor(path: string) {
    this.done = pipeline(this.gzip, createWriteStream(path));
  }

  add(text: string): void {
    this.chunk += text;
    if (this.chunk.length >= WRITE_CHUNK_CHARS) this.flush();
  }

  wait(): Promise<void> | undefined {
    // A deeper queue than the stream's 16 KiB mark: gzip (on the libuv pool) works through a few
    // chunks while the main thread generates the next ones.
    return this.gzip.writableLength > GZIP_QUEUE_BYTES
      ? once(this.gzip, 'drain').then(() => undefined)
      : undefined;
  }

  async end(): Promise<number> {
    this.flush();
    this.gzip.end();
    await this.done;
    return this.bytes;
  }

  destroy(): void {
    this.gzip.destroy();
  }

  private flush(): void {
    this.bytes += Buffer.byteLength(this.chunk);
    this.gzip.write(this.chunk);
    this.chunk = '';
  }
}

/** Each `add` one gzip member, appended with no separator (as Firehose concatenates records). */
class GzipMemberFile {
  bytes = 0;
  members = 0;
  private readonly file;

  constructor(path: string) {
    this.file = createWriteStream(path);
  }

  add(text: string): void {
    this.bytes += Buffer.byteLength(text);
    this.members++;
    this.file.write(gzipSync(text, { level: GZIP_LEVEL }));
  }

  wait(): Promise<void> | undefined {
    return this.file.writableLength > GZIP_QUEUE_BYTES
      ? once(this.file, 'drain').then(() => undefined)
      : undefined;
  }

  async end(): Promise<number> {
    this.file.end();
    await finished(this.file);
    return this.bytes;
  }

  destroy(): void {
    this.file.destroy();
  }
}

/** The source's own text, one record per event. */
function sourceTextWriter(path: string, formatter: Formatter): BatchWriter {
  const out = new GzipTextFile(path);
  let records = 0;
  return {
    write(event) {
      const text = formatter.render(event);
      out.add(text);
      records++;
      return text;
    },
    wait: () => out.wait(),
    end: async () => ({ bytes: await out.end(), records }),
    destroy: () => out.destroy(),
  };
}

/** A JSON-lines shape: one line per event. */
function linesWriter(
  path: string,
  formatter: SysmonFormatter,
  line: (r: SysmonRecord) => string,
): BatchWriter {
  const out = new GzipTextFile(path);
  let records = 0;
  return {
    write(event) {
      const r = formatter.record(event);
      out.add(line(r));
      records++;
      return sysmonXml(r);
    },
    wait: () => out.wait(),
    end: async () => ({ bytes: await out.end(), records }),
    destroy: () => out.destroy(),
  };
}

/** CloudWatch Logs via Firehose: the control message, then an envelope per gzip member. */
function cwlWriter(path: string, formatter: SysmonFormatter): BatchWriter {
  const out = new GzipMemberFile(path);
  const envelopes = new CwlEnvelopes();
  return {
    write(event) {
      const r = formatter.record(event);
      const xml = sysmonXml(r);
      if (out.members === 0) out.add(envelopes.control(event.time));
      const full = envelopes.add(r, xml);
      if (full !== undefined) out.add(full);
      return xml;
    },
    wait: () => out.wait(),
    async end() {
      const last = envelopes.flush();
      if (last !== undefined) out.add(last);
      return { bytes: await out.end(), records: out.members };
    },
    destroy: () => out.destroy(),
  };
}

/** The writer of a batch of `formatter`'s source, in `shape` when given (Sysmon only). */
export function openBatchWriter(
  path: string,
  formatter: Formatter,
  shape: SysmonShape | undefined,
): BatchWriter {
  if (shape === undefined) return sourceTextWriter(path, formatter);
  if (!(formatter instanceof SysmonFormatter))
    throw new TypeError(`the ${shape} shape renders Sysmon events only`);
  switch (shape) {
    case 'nxlog':
      return linesWriter(path, formatter, nxlogLine);
    case 'winlogbeat':
      return linesWriter(path, formatter, winlogbeatLine);
    case 'cwl':
      return cwlWriter(path, formatter);
  }
}
