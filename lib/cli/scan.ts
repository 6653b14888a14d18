/**
 * `npm run scan -- [--format table|csv|json] [--source NAME] [--exceptions FILE] [--stats] INPUT...`
 * Runs the same engine the Lambda functions run, on local files, directories, globs and `-`.
 */
import { createReadStream, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AlertGroup } from '../alert/index.ts';
import { buildFinding, formatCsv, formatTable, mergeGroups, sortGroups } from '../alert/index.ts';
import type { ScanResult } from '../engine/index.ts';
import { READ_CHUNK_BYTES, scanObject } from '../engine/index.ts';
import {
  type CompiledExceptions,
  defaultRule,
  ExceptionsError,
  loadExceptions,
  NO_EXCEPTIONS,
} from '../rule/index.ts';
import { isSourceName, SOURCE_PLUGINS, sourceNames } from '../sources/index.ts';
import { expandInputs } from './inputs.ts';
import { startProgress } from './progress.ts';
import { parseOrExplain, UsageError } from './usage.ts';

const USAGE = `usage: npm run scan -- [--format table|csv|json] [--source NAME] [--exceptions FILE] [--stats] INPUT...
  INPUT     a log of any shape below (plain, gzip or zstd), a directory (every file under it), a
            quoted glob ('logs/**/*.gz'), or '-' for standard input
  --format  table (default), csv (host,user,process,domain,count,first_seen,last_seen; see
            docs/detection.md) or json (one OCSF Detection Finding per line)
  --source  auto (default: sniffed from the content), a family (sysmon, falcon) or a shape:
${SOURCE_PLUGINS.map((p) => `              ${p.name.padEnd(16)}${p.summary}`).join('\n')}
  --exceptions FILE  known-good activity to leave out (docs/detection.md, Exceptions); an invalid
            file is refused whole, with exit status 2
  --stats   add peak resident memory and throughput to the summary on standard error
  -h, --help  this text

Alerts go to standard output; a summary per input, and progress on a terminal, to standard error.
Exit status:
  0  every input was read to its end (with or without alerts)
  1  an input could not be read, or only partly (damaged: what came before the damage is still
     reported); when no input could be read at all, nothing is printed on standard output
  2  bad usage, or an invalid exceptions file`;

interface Args {
  format: 'table' | 'csv' | 'json';
  source: string;
  stats: boolean;
  exceptions: string | undefined;
  files: string[];
}

function parse(argv: string[]): Args {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  const options = {
    format: { type: 'string', default: 'table' },
    source: { type: 'string', default: 'auto' },
    stats: { type: 'boolean', default: false },
    exceptions: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  } as const;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) throw new UsageError('');
  if (!['table', 'csv', 'json'].includes(values.format))
    throw new UsageError(`unknown --format ${values.format}`);
  if (!isSourceName(values.source))
    throw new UsageError(`unknown --source ${values.source} (one of ${sourceNames().join(', ')})`);
  if (positionals.length === 0) throw new UsageError('no INPUT given');
  return {
    format: values.format as Args['format'],
    source: values.source,
    stats: values.stats,
    exceptions: values.exceptions,
    files: positionals,
  };
}

function summary(file: string, r: ScanResult): string {
  const s = r.stats;
  const skipped = Object.entries(s.skipped)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return (
    `${file}: ${r.format ?? 'unrecognised'}, ${s.bytesIn} bytes (${s.bytesDecoded} decoded), ` +
    `${s.recordsRead} records, ${s.recordsParsed} parsed, skipped ${skipped || '0'}, ` +
    `matched ${s.matched}${s.excepted > 0 ? ` (${s.excepted} excepted)` : ''}, groups ${s.groups}, ${Math.round(s.durationMs)} ms` +
    (s.contextless > 0
      ? `, ${s.contextless} candidate(s) dropped for want of their process context`
      : '') +
    (s.overflow.summarized + s.overflow.dropped > 0
      ? `, past the group cap ${s.overflow.summarized} match(es) summarized, ${s.overflow.dropped} only counted`
      : '') +
    (r.damage ? ` — DAMAGED (${r.damage.reason}): ${r.damage.message}` : '')
  );
}

/** Scans one input; undefined when it could not be opened or read at all. */
async function scanInput(
  file: string,
  args: Args,
  rule: ReturnType<typeof defaultRule>,
  exceptions: CompiledExceptions,
): Promise<ScanResult | undefined> {
  const input =
    file === '-' ? process.stdin : createReadStream(file, { highWaterMark: READ_CHUNK_BYTES });
  const size = file === '-' ? undefined : statSync(file, { throwIfNoEntry: false })?.size;
  const stop = startProgress(process.stderr, file, size, () =>
    'bytesRead' in input ? input.bytesRead : 0,
  );
  try {
    return await scanObject(input, {
      origin: file,
      sources: SOURCE_PLUGINS,
      source: args.source,
      rule,
      exceptions,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason =
      e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    process.stderr.write(`${file}: cannot be read: ${reason}\n`);
    return undefined;
  } finally {
    stop();
  }
}

async function main(argv: string[]): Promise<number> {
  const args = parseOrExplain('scan', USAGE, parse, argv);
  if (typeof args === 'number') return args;
  const rule = defaultRule();
  let exceptions: CompiledExceptions = NO_EXCEPTIONS;
  try {
    if (args.exceptions !== undefined) exceptions = loadExceptions(args.exceptions);
  } catch (err) {
    if (!(err instanceof ExceptionsError)) throw err;
    process.stderr.write(`scan: ${err.message}\n`);
    return 2;
  }
  const inputs = expandInputs(args.files);
  for (const problem of inputs.problems) process.stderr.write(`${problem}\n`);
  const all: AlertGroup[] = [];
  let failed = inputs.problems.length > 0;
  let read = 0;
  const started = performance.now();
  let decoded = 0;
  for (const file of inputs.files) {
    const result = await scanInput(file, args, rule, exceptions);
    if (!result) {
      failed = true;
      continue;
    }
    read++;
    decoded += result.stats.bytesDecoded;
    all.push(...result.groups);
    process.stderr.write(`${summary(file, result)}\n`);
    if (result.damage) failed = true;
  }
  if (read === 0) {
    process.stderr.write('scan: no input could be read; no result\n');
    return 1;
  }
  const groups = sortGroups(mergeGroups(all));
  if (args.format === 'csv') process.stdout.write(formatCsv(groups));
  else if (args.format === 'json') {
    for (const g of groups) process.stdout.write(`${JSON.stringify(buildFinding(rule.rule, g))}\n`);
  } else process.stdout.write(formatTable(groups));
  if (args.stats) {
    const secs = (performance.now() - started) / 1000;
    const rssMiB = process.resourceUsage().maxRSS / 1024;
    process.stderr.write(
      `stats: peak RSS ${rssMiB.toFixed(1)} MiB, ${(decoded / 1048576 / secs).toFixed(1)} MB/s decoded, ${secs.toFixed(2)} s\n`,
    );
  }
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`scan: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
