import type { SourceName } from '../event/types.ts';
import type { CompiledRule } from '../rule/types.ts';
import { createFalconReader } from '../sources/falcon.ts';
import { createSysmonReader } from '../sources/sysmon.ts';
import { ObjectAnalyzer } from './analyzer.ts';
import { decodeToUtf8, InputDamageError } from './decode.ts';
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
  source?: SourceName | 'auto';
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
}

const FORMAT_SOURCE: Record<TextFormat, SourceName> = {
  xml: 'sysmon',
  ndjson: 'falcon',
  'json-array': 'falcon',
};

const newStats = (): ScanStats => ({
  bytesIn: 0,
  bytesDecoded: 0,
  recordsRead: 0,
  recordsParsed: 0,
  skipped: {},
  matched: 0,
  groups: 0,
  contextless: 0,
  overflow: { summarized: 0, dropped: 0 },
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
    options.windowMs,
    options.contextStore,
  );

  let source: SourceName | undefined;
  let splitter: Splitter | undefined;
  let damage: ObjectDamage | undefined;
  const counters = { bytesIn: 0, bytesDecoded: 0 };

  const start = (head: Buffer): Splitter | undefined => {
    const format = sniffFormat(head);
    if (format === undefined) {
      damage = {
        reason: 'not-text',
        message: `content is not Sysmon XML nor Falcon JSON (starts with ${JSON.stringify(head.toString('utf8', 0, 16))})`,
      };
      return undefined;
    }
    const detected = FORMAT_SOURCE[format];
    const wanted =
      options.source === undefined || options.source === 'auto' ? detected : options.source;
    if (wanted !== detected) {
      damage = {
        reason: 'not-text',
        message: `expected ${wanted} content but the object looks like ${detected} (${format})`,
      };
      return undefined;
    }
    source = detected;
    const readerOptions = {
      rule,
      analyzer,
      origin,
      mode: options.mode ?? 'fast',
      skip,
      parsed: () => {
        stats.recordsParsed++;
      },
    } as const;
    const onRecord =
      source === 'sysmon' ? createSysmonReader(readerOptions) : createFalconReader(readerOptions);
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
    return createSplitter(format, sink, limits.maxRecordBytes);
  };

  let pendingHead: Buffer | undefined;
  try {
    for await (const chunk of decodeToUtf8(input, {
      counters,
      maxDecompressedBytes: limits.maxDecompressedBytes,
    })) {
      if (!splitter) {
        // Sniff on the first non-blank bytes, which may come in a later chunk than the first.
        pendingHead = pendingHead ? Buffer.concat([pendingHead, chunk]) : chunk;
        if (sniffFormat(pendingHead) === undefined && pendingHead.toString('latin1').trim() === '')
          continue;
        splitter = start(pendingHead);
        if (!splitter) break;
        splitter.feed(pendingHead);
        pendingHead = undefined;
      } else {
        splitter.feed(chunk);
      }
      // Past maxCandidates, or the wait, by at most one chunk's worth of records.
      if (analyzer.flushDue) await analyzer.flush();
      options.onProgress?.(counters.bytesDecoded);
    }
    splitter?.end(false);
  } catch (err) {
    if (!(err instanceof InputDamageError)) throw err;
    damage = err.damage;
    splitter?.end(true);
  }

  const groups = await analyzer.finish();
  stats.overflow = analyzer.lastOverflow;
  stats.contextless = analyzer.contextless;
  stats.bytesIn = counters.bytesIn;
  stats.bytesDecoded = counters.bytesDecoded;
  stats.matched = analyzer.matched;
  stats.groups = groups.length;
  stats.durationMs = performance.now() - started;
  return {
    origin,
    source,
    stats,
    groups,
    waiting: analyzer.waiting,
    ...(damage ? { damage } : {}),
  };
}

/**
 * The throughput bound: decompress, decode and split into records, nothing else. The benchmark
 * compares the engine with this.
 */
export async function splitRecords(
  input: AsyncIterable<Uint8Array>,
  options: { limits?: Partial<ScanLimits> } = {},
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
        const format = sniffFormat(chunk);
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
