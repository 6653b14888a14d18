/**
 * Runs ONE benchmark path over one file in its own process, so that the peak resident memory it
 * reports (getrusage maxRSS) belongs to that path alone. Prints one JSON line (RunReport) on
 * stdout; bench.ts starts it and reads it.
 *
 *   node --import tsx test/bench/run-path.ts --path engine|naive|bound --file F --source NAME
 *
 * NAME is `auto`, a family or a shape of lib/sources; for a shape, the bound splits with that
 * shape's framing instead of sniffing one.
 */
import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AlertGroup } from '../../lib/alert/types.ts';
import { READ_CHUNK_BYTES, scanObject, splitRecords } from '../../lib/engine/index.ts';
import { defaultRule } from '../../lib/rule/index.ts';
import { isSourceName, SOURCE_PLUGINS } from '../../lib/sources/index.ts';

export type BenchPath = 'engine' | 'naive' | 'bound';

const KIB = 1024;

export interface RunReport {
  path: BenchPath;
  file: string;
  seconds: number;
  bytesIn: number;
  bytesDecoded: number;
  records: number;
  recordsParsed: number | undefined;
  matched: number | undefined;
  skipped: Record<string, number> | undefined;
  /** Peak resident set of this process, KiB (process.resourceUsage().maxRSS). */
  maxRssKiB: number;
  /** Resident set after imports and rule compilation, before reading: the fixed cost. */
  baselineRssKiB: number;
  groups: AlertGroup[] | undefined;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      path: { type: 'string' },
      file: { type: 'string' },
      source: { type: 'string', default: 'auto' },
    },
  });
  const path = values.path;
  const file = values.file;
  const source = values.source;
  if (path !== 'engine' && path !== 'naive' && path !== 'bound') {
    throw new Error(`--path must be engine, naive or bound, not ${path}`);
  }
  if (!file) throw new Error('--file is required');
  if (!isSourceName(source)) throw new Error(`--source: no source is named ${source}`);
  const rule = defaultRule();
  const baselineRssKiB = Math.round(process.memoryUsage.rss() / KIB);
  // The same read size for every path, so only the processing differs.
  const input = createReadStream(file, { highWaterMark: READ_CHUNK_BYTES });
  const started = performance.now();
  let report: Omit<RunReport, 'seconds' | 'maxRssKiB' | 'baselineRssKiB'>;
  if (path === 'bound') {
    const shape = SOURCE_PLUGINS.find((p) => p.name === source);
    if (shape?.format === 'binary') {
      throw new Error(`--path bound splits text records; ${source} is a binary shape`);
    }
    const bound = await splitRecords(input, shape ? { format: shape.format } : {});
    report = {
      path,
      file,
      bytesIn: input.bytesRead,
      bytesDecoded: bound.bytesDecoded,
      records: bound.records,
      recordsParsed: undefined,
      matched: undefined,
      skipped: undefined,
      groups: undefined,
    };
  } else {
    const result = await scanObject(input, {
      origin: file,
      sources: SOURCE_PLUGINS,
      source,
      rule,
      mode: path === 'engine' ? 'fast' : 'full',
    });
    if (result.damage)
      throw new Error(`${file}: ${result.damage.reason}: ${result.damage.message}`);
    report = {
      path,
      file,
      bytesIn: result.stats.bytesIn,
      bytesDecoded: result.stats.bytesDecoded,
      records: result.stats.recordsRead,
      recordsParsed: result.stats.recordsParsed,
      matched: result.stats.matched,
      skipped: result.stats.skipped as Record<string, number>,
      groups: result.groups,
    };
  }
  const seconds = (performance.now() - started) / 1000;
  const full: RunReport = {
    ...report,
    seconds,
    maxRssKiB: process.resourceUsage().maxRSS,
    baselineRssKiB,
  };
  process.stdout.write(`${JSON.stringify(full)}\n`);
}

await main();
