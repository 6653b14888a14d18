import type { CompiledExceptions } from '../rule/exceptions.ts';
import type { CompiledRule } from '../rule/types.ts';
import { excerptOf } from '../text/record.ts';
import { ObjectAnalyzer } from './analyzer.ts';
import { decodeToUtf8, InputDamageError } from './decode.ts';
import type { ReaderOptions, SourcePlugin } from './input.ts';
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

/** The shape `head` is, among `sources`: the surest sniff, or undefined when none claims it. */
function sniffSource(
  sources: readonly SourcePlugin[],
  head: string,
): { plugin: SourcePlugin; confidence: number } | undefined {
  let best: { plugin: SourcePlugin; confidence: number } | undefined;
  for (const plugin of sources) {
    const confidence = plugin.sniff(head);
    if (confidence > 0 && (best === undefined || confidence > best.confidence))
      best = { plugin, confidence };
  }
  return best;
}

/**
 * Which shape to read the object as (`wanted`: a shape, a family or `auto`), or why it is not a
 * log this engine reads: an object nobody recognises is damage, never "nothing found".
 */
function chooseSource(
  sources: readonly SourcePlugin[],
  wanted: string,
  head: Buffer,
): SourcePlugin | ObjectDamage {
  const text = head.toString('latin1', 0, SNIFF_BYTES);
  const candidates =
    wanted === 'auto' ? sources : sources.filter((p) => p.name === wanted || p.family === wanted);
  const chosen = sniffSource(candidates, text);
  if (chosen) return chosen.plugin;
  const detected = wanted === 'auto' ? undefined : sniffSource(sources, text);
  const excerpt = excerptOf(head, 0, head.length);
  if (detected) {
    return {
      reason: 'not-a-log',
      message: `expected ${wanted} content but the object looks like ${detected.plugin.name}`,
      excerpt,
    };
  }
  return {
    reason: 'not-a-log',
    message: `not a log of any shape this reads (tried ${candidates.map((p) => p.name).join(', ')}); it starts with ${JSON.stringify(head.toString('utf8', 0, 40))}`,
    excerpt,
  };
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
  durationMs: 0,
});

/**
 * Scans one object (a file, an S3 body): decode, split, pre-filter, parse, normalize, join,
 * match and group. Streams throughout. A damaged object still yields what was read before the
 * damage, with `damage` set; it never throws for bad input.
 */
export async function scanObject(
  input: AsyncIterable<Uint8Array>,
  options: ScanObjectOptions,
): Promise<ScanResult> {
  const started = performance.now();
  const limits: ScanLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const stats = newStats();
  const { origin, rule } = options;
  const skip = (
    reason: SkipReason,
    message: string,
    record: number,
    offset: number,
    excerpt: string,
  ) => {
    stats.skipped[reason] = (stats.skipped[reason] ?? 0) + 1;
    options.onSkip?.({ reason, message, origin, record, offset, excerpt });
  };
  const analyzer = new ObjectAnalyzer(
    rule,
    limits,
    (reason, message, record, offset) => skip(reason, message, record, offset, ''),
    { windowMs: options.windowMs, store: options.contextStore, exceptions: options.exceptions },
  );

  let plugin: SourcePlugin | undefined;
  let splitter: Splitter | undefined;
  let damage: ObjectDamage | undefined;
  const counters = { bytesIn: 0, bytesDecoded: 0 };
  /** Records a reader could not place in its shape (reported by reason as `unrecognised-record`). */
  const readerOptions = (): ReaderOptions => ({
    rule,
    analyzer,
    origin,
    mode: options.mode ?? 'fast',
    skip,
    parsed: () => {
      stats.recordsParsed++;
    },
  });

  const start = (head: Buffer): Splitter | undefined => {
    const chosen = chooseSource(options.sources, options.source ?? 'auto', head);
    if (!('name' in chosen)) {
      damage = chosen;
      return undefined;
    }
    plugin = chosen;
    const onRecord = plugin.createReader(readerOptions());
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
    return createSplitter(plugin.format, sink, limits.maxRecordBytes);
  };

  /** The object's start, held until SNIFF_BYTES of it are there to sniff (or it ends). */
  let pendingHead: Buffer | undefined;
  const begin = (): boolean => {
    const head = pendingHead;
    pendingHead = undefined;
    if (head === undefined || head.toString('latin1').trim() === '') return true;
    splitter = start(head);
    splitter?.feed(head);
    return splitter !== undefined;
  };
  try {
    for await (const chunk of decodeToUtf8(input, {
      counters,
      maxDecompressedBytes: limits.maxDecompressedBytes,
    })) {
      if (!splitter) {
        pendingHead = pendingHead ? Buffer.concat([pendingHead, chunk]) : chunk;
        if (pendingHead.length < SNIFF_BYTES) continue;
        if (!begin()) break;
      } else {
        splitter.feed(chunk);
      }
      // The one place candidates are flushed early: between chunks, past maxCandidates or the
      // wait by at most one chunk's worth of records.
      if (analyzer.flushDue) await analyzer.flush();
      options.onProgress?.(counters.bytesDecoded);
    }
    if (!splitter && !damage) begin();
    splitter?.end(false);
  } catch (err) {
    if (!(err instanceof InputDamageError)) throw err;
    damage = err.damage;
    if (!splitter && pendingHead) begin();
    splitter?.end(true);
  }
  damage ??= nothingRecognised(plugin, stats);

  const groups = await analyzer.finish();
  stats.bytesIn = counters.bytesIn;
  stats.bytesDecoded = counters.bytesDecoded;
  stats.matched = analyzer.matched;
  stats.excepted = analyzer.excepted;
  stats.groups = groups.length;
  stats.durationMs = performance.now() - started;
  return {
    origin,
    source: plugin?.family,
    format: plugin?.name,
    stats,
    groups,
    ...(damage ? { damage } : {}),
  };
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
