import type { CompiledExceptions } from '../rule/exceptions.ts';
import type { CompiledRule } from '../rule/types.ts';
import { excerptOf } from '../text/record.ts';
import { ObjectAnalyzer } from './analyzer.ts';
import { decodeToUtf8, decompressed, InputDamageError, toUtf8 } from './decode.ts';
import type { BinarySourcePlugin, ReaderOptions, SourcePlugin, TextSourcePlugin } from './input.ts';
import { DEFAULT_LIMITS, type ScanLimits } from './limits.ts';
import {
  createSplitter,
  type RecordSink,
  type Splitter,
  sniffFormat,
  type TextFormat,
} from './split.ts';
import type {
  ContextStore,
  ObjectDamage,
  ScanResult,
  ScanStats,
  SkippedRecord,
  SkipReason,
} from './types.ts';

export interface ScanObjectOptions {
  /** `s3://bucket/key` or a file path: named in every skip and every piece of evidence. */
  origin: string;
  /** Every shape the engine may read (the registry of lib/sources). */
  sources: readonly SourcePlugin[];
  /** A shape's name or a family (`sysmon`, `falcon`) to read the object as; default `auto`. */
  source?: string;
  rule: CompiledRule;
  /** `fast` (default) pre-filters raw bytes; `full` parses every record (the naive path). */
  mode?: 'fast' | 'full';
  limits?: Partial<ScanLimits>;
  /** Every skipped record, located. */
  onSkip?: (skip: SkippedRecord) => void;
  /** Decompressed bytes so far, after each chunk. */
  onProgress?: (bytesDecoded: number) => void;
  /** Split groups by tumbling event-time windows of this many ms (cross-object state). */
  windowMs?: number;
  /**
   * Context that outlives the object: looked up for candidates that lack it (at the end and at
   * each early flush, see MAX_CANDIDATES), saved at the end.
   */
  contextStore?: ContextStore;
  /** A deployment's known-good activity (docs/detection.md, "Exceptions"). */
  exceptions?: CompiledExceptions;
}

/** Bytes of the object's start sniffed for its shape (it spans the first records of any shape). */
export const SNIFF_BYTES = 4096;

const isBinary = (p: SourcePlugin): p is BinarySourcePlugin => p.format === 'binary';

/** The shape `head` is, among `sources`: the surest sniff, or undefined when none claims it. */
function sniffSource<P extends SourcePlugin>(sources: readonly P[], head: string): P | undefined {
  let best: P | undefined;
  let bestConfidence = 0;
  for (const plugin of sources) {
    const confidence = plugin.sniff(head);
    if (confidence > bestConfidence) {
      best = plugin;
      bestConfidence = confidence;
    }
  }
  return best;
}

const wants = (wanted: string) => (p: SourcePlugin) =>
  wanted === 'auto' || p.name === wanted || p.family === wanted;

/**
 * Which shape of `kind` to read the object as (`wanted`: a shape, a family or `auto`); a damage
 * when another shape claims it; undefined when none of that kind does.
 */
function chooseSource<P extends SourcePlugin>(
  shapes: readonly P[],
  wanted: string,
  head: Buffer,
): P | ObjectDamage | undefined {
  const text = head.toString('latin1', 0, SNIFF_BYTES);
  const chosen = sniffSource(shapes.filter(wants(wanted)), text);
  if (chosen) return chosen;
  const detected = wanted === 'auto' ? undefined : sniffSource(shapes, text);
  if (!detected) return undefined;
  return {
    reason: 'not-a-log',
    message: `expected ${wanted} content but the object looks like ${detected.name}`,
    excerpt: excerptOf(head, 0, head.length),
  };
}

/** An object no shape claims: damage, never "nothing found". */
function noShape(sources: readonly SourcePlugin[], wanted: string, head: Buffer): ObjectDamage {
  const tried = sources.filter(wants(wanted)).map((p) => p.name);
  return {
    reason: 'not-a-log',
    message: `not a log of any shape this reads (tried ${tried.join(', ')}); it starts with ${JSON.stringify(head.toString('utf8', 0, 40))}`,
    excerpt: excerptOf(head, 0, head.length),
  };
}

/**
 * Reads from `it` until `n` bytes are held or it ends; the iterator then goes on after them.
 * A copy: a source may reuse a chunk's memory once the next one is asked for.
 */
async function headOf(it: AsyncIterator<Buffer>, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  while (size < n) {
    const { value, done } = await it.next();
    if (done) break;
    parts.push(Buffer.from(value));
    size += value.length;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
}

async function* prepend(head: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}

/** What takes the object's bytes (a binary reader) or text (a record splitter). */
interface Consumer {
  feed(chunk: Buffer): void;
  end(truncated: boolean): void;
}

const newStats = (): ScanStats => ({
  bytesIn: 0,
  bytesDecoded: 0,
  recordsRead: 0,
  recordsParsed: 0,
  skipped: {},
  matched: 0,
  excepted: 0,
  groups: 0,
  contextless: 0,
  overflow: { summarized: 0, dropped: 0 },
  durationMs: 0,
});

/**
 * Scans one object (a file, an S3 body): decompress, tell its shape, split or parse its records,
 * pre-filter, normalize, join, match and group. Streams throughout. A damaged object still yields
 * what was read before the damage, with `damage` set; it never throws for bad input.
 */
export async function scanObject(
  input: AsyncIterable<Uint8Array>,
  options: ScanObjectOptions,
): Promise<ScanResult> {
  const started = performance.now();
  const scan = new ObjectScan(options);
  await scan.read(input);
  return scan.result(await scan.analyzer.finish(), started);
}

/** One object's scan: the state the reading steps share. */
class ObjectScan {
  readonly limits: ScanLimits;
  readonly stats = newStats();
  readonly analyzer: ObjectAnalyzer;
  readonly counters = { bytesIn: 0, bytesDecoded: 0 };
  plugin: SourcePlugin | undefined;
  damage: ObjectDamage | undefined;

  constructor(private readonly options: ScanObjectOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.analyzer = new ObjectAnalyzer(
      options.rule,
      this.limits,
      (reason, message, record, offset) => this.skip(reason, message, record, offset, ''),
      { windowMs: options.windowMs, store: options.contextStore, exceptions: options.exceptions },
    );
  }

  readonly skip = (
    reason: SkipReason,
    message: string,
    record: number,
    offset: number,
    excerpt: string,
  ): void => {
    this.stats.skipped[reason] = (this.stats.skipped[reason] ?? 0) + 1;
    this.options.onSkip?.({
      reason,
      message,
      origin: this.options.origin,
      record,
      offset,
      excerpt,
    });
  };

  private readerOptions(): ReaderOptions {
    return {
      rule: this.options.rule,
      analyzer: this.analyzer,
      origin: this.options.origin,
      mode: this.options.mode ?? 'fast',
      skip: this.skip,
      parsed: () => {
        this.stats.recordsParsed++;
      },
    };
  }

  /** Decompresses, tells the shape (binary shapes first, then text ones) and reads. */
  async read(input: AsyncIterable<Uint8Array>): Promise<void> {
    let consumer: Consumer | undefined;
    try {
      const raw = decompressed(input, {
        counters: this.counters,
        maxDecompressedBytes: this.limits.maxDecompressedBytes,
      })[Symbol.asyncIterator]();
      const head = await headOf(raw, SNIFF_BYTES);
      consumer = this.binaryConsumer(head);
      if (consumer) {
        await this.pump(prepend(head, raw), consumer, (n) => {
          this.counters.bytesDecoded += n;
        });
      } else if (!this.damage) {
        const text = toUtf8(prepend(head, raw), this.counters)[Symbol.asyncIterator]();
        const textHead = await headOf(text, SNIFF_BYTES);
        consumer = this.textConsumer(textHead);
        if (consumer) await this.pump(prepend(textHead, text), consumer);
      }
      consumer?.end(false);
    } catch (err) {
      if (!(err instanceof InputDamageError)) throw err;
      this.damage = err.damage;
      consumer?.end(true);
    }
    this.damage ??= nothingRecognised(this.plugin, this.stats);
  }

  /** Feeds every chunk, flushing candidates between chunks (the one place that flushes early). */
  private async pump(
    chunks: AsyncIterable<Buffer>,
    consumer: Consumer,
    count?: (bytes: number) => void,
  ): Promise<void> {
    for await (const chunk of chunks) {
      count?.(chunk.length);
      consumer.feed(chunk);
      if (this.analyzer.flushDue) await this.analyzer.flush();
      this.options.onProgress?.(this.counters.bytesDecoded);
    }
  }

  private binaryConsumer(head: Buffer): Consumer | undefined {
    const wanted = this.options.source ?? 'auto';
    const chosen = chooseSource(this.options.sources.filter(isBinary), wanted, head);
    if (chosen === undefined) return undefined;
    if (!('name' in chosen)) {
      this.damage = chosen;
      return undefined;
    }
    this.plugin = chosen;
    return chosen.createReader({
      ...this.readerOptions(),
      read: (count, offset) => {
        this.stats.recordsRead += count;
        if (offset !== undefined) this.analyzer.advance(offset);
      },
    });
  }

  private textConsumer(head: Buffer): Consumer | undefined {
    if (head.toString('latin1').trim() === '') return undefined; // an empty object
    const wanted = this.options.source ?? 'auto';
    const text = this.options.sources.filter((p): p is TextSourcePlugin => !isBinary(p));
    const chosen = chooseSource(text, wanted, head) ?? noShape(this.options.sources, wanted, head);
    if (!('name' in chosen)) {
      this.damage = chosen;
      return undefined;
    }
    this.plugin = chosen;
    const onRecord = chosen.createReader(this.readerOptions());
    const { stats, analyzer, skip } = this;
    const sink: RecordSink = {
      record(buf, str, s, e, record, offset) {
        stats.recordsRead++;
        analyzer.advance(offset);
        onRecord(buf, str, s, e, record, offset);
      },
      skip(reason, message, record, offset, excerpt) {
        stats.recordsRead++;
        skip(reason, message, record, offset, excerpt);
      },
    };
    return createSplitter(chosen.format, sink, this.limits.maxRecordBytes);
  }

  result(groups: ScanResult['groups'], started: number): ScanResult {
    const { stats, counters, analyzer, plugin, damage } = this;
    stats.overflow = analyzer.lastOverflow;
    stats.contextless = analyzer.contextless;
    stats.bytesIn = counters.bytesIn;
    stats.bytesDecoded = counters.bytesDecoded;
    stats.matched = analyzer.matched;
    stats.excepted = analyzer.excepted;
    stats.groups = groups.length;
    stats.durationMs = performance.now() - started;
    return {
      origin: this.options.origin,
      source: plugin?.family,
      format: plugin?.name,
      stats,
      groups,
      waiting: analyzer.waiting,
      ...(damage ? { damage } : {}),
    };
  }
}

/**
 * Every record was read but none is an event of the shape the start looked like (a JSON file of
 * something else): damage, not "nothing found".
 */
function nothingRecognised(
  plugin: SourcePlugin | undefined,
  stats: ScanStats,
): ObjectDamage | undefined {
  const unrecognised = stats.skipped['unrecognised-record'] ?? 0;
  if (plugin === undefined || stats.recordsRead === 0 || unrecognised < stats.recordsRead)
    return undefined;
  return {
    reason: 'not-a-log',
    message: `none of its ${stats.recordsRead} records is a ${plugin.name} event`,
  };
}

/**
 * The throughput bound: decompress, decode and split into records, nothing else. The benchmark
 * compares the engine with this.
 */
export async function splitRecords(
  input: AsyncIterable<Uint8Array>,
  options: { limits?: Partial<ScanLimits>; format?: TextFormat } = {},
): Promise<{ records: number; bytesDecoded: number }> {
  const limits: ScanLimits = { ...DEFAULT_LIMITS, ...options.limits };
  let records = 0;
  const sink: RecordSink = {
    record: () => {
      records++;
    },
    skip: () => {
      records++;
    },
  };
  const counters = { bytesIn: 0, bytesDecoded: 0 };
  let splitter: Splitter | undefined;
  try {
    for await (const chunk of decodeToUtf8(input, {
      counters,
      maxDecompressedBytes: limits.maxDecompressedBytes,
    })) {
      if (!splitter) {
        const format = options.format ?? sniffFormat(chunk);
        if (!format) break;
        splitter = createSplitter(format, sink, limits.maxRecordBytes);
      }
      splitter.feed(chunk);
    }
    splitter?.end(false);
  } catch (err) {
    if (!(err instanceof InputDamageError)) throw err;
    splitter?.end(true);
  }
  return { records, bytesDecoded: counters.bytesDecoded };
}
