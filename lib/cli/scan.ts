/**
 * `npm run scan -- [--format table|csv|json] [--source auto|sysmon|falcon] [--stats] INPUT...`
 * Runs the same engine the Lambda functions run, on local files, directories, globs and `-`.
 */
import { createReadStream, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AlertGroup } from '../alert/index.ts';
import { buildFinding, formatCsv, formatTable, mergeGroups, sortGroups } from '../alert/index.ts';
import type { ScanResult } from '../engine/index.ts';
import { READ_CHUNK_BYTES, scanObject } from '../engine/index.ts';
import { defaultRule } from '../rule/index.ts';
import { expandInputs } from './inputs.ts';
import { startProgress } from './progress.ts';
import { parseOrExplain, UsageError } from './usage.ts';

const USAGE = `usage: npm run scan -- [--format table|csv|json] [--source auto|sysmon|falcon] [--stats] INPUT...
  INPUT     a file (Sysmon XML or Falcon NDJSON / LogScale JSON; plain, gzip or zstd), a directory
            (every file under it), a quoted glob ('logs/**/*.gz'), or '-' for standard input
  --format  table (default), csv (host,user,process,domain,count,first_seen,last_seen; see
            docs/detection.md) or json (one OCSF Detection Finding per line)
  --source  auto (default: sniffed from the content), sysmon or falcon
  --stats   add peak resident memory and throughput to the summary on standard error
  -h, --help  this text

Alerts go to standard output; a summary per input, and progress on a terminal, to standard error.
Exit status:
  0  every input was read to its end (with or without alerts)
  1  an input could not be read, or only partly (damaged: what came before the damage is still
     reported); when no input could be read at all, nothing is printed on standard output
  2  bad usage`;

interface Args {
  format: 'table' | 'csv' | 'json';
  source: 'auto' | 'sysmon' | 'falcon';
  stats: boolean;
  files: string[];
}

function parse(argv: string[]): Args {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  const options = {
    format: { type: 'string', default: 'table' },
    source: { type: 'string', default: 'auto' },
    stats: { type: 'boolean', default: false },
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
  if (!['auto', 'sysmon', 'falcon'].includes(values.source))
    throw new UsageError(`unknown --source ${values.source}`);
  if (positionals.length === 0) throw new UsageError('no INPUT given');
  return {
    format: values.format as Args['format'],
    source: values.source as Args['source'],
    stats: values.stats,
    files: positionals,
  };
}

function summary(file: string, r: ScanResult): string {
  const s = r.stats;
  const skipped = Object.entries(s.skipped)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return (
    `${file}: ${r.source ?? 'unrecognised'}, ${s.bytesIn} bytes (${s.bytesDecoded} decoded), ` +
    `${s.recordsRead} records, ${s.recordsParsed} parsed, skipped ${skipped || '0'}, ` +
    `matched ${s.matched}, groups ${s.groups}, ${Math.round(s.durationMs)} ms` +
    (r.damage ? ` — DAMAGED (${r.damage.reason}): ${r.damage.message}` : '')
  );
}

/** Scans one input; undefined when it could not be opened or read at all. */
async function scanInput(
  file: string,
  args: Args,
  rule: ReturnType<typeof defaultRule>,
): Promise<ScanResult | undefined> {
  const input =
    file === '-' ? process.stdin : createReadStream(file, { highWaterMark: READ_CHUNK_BYTES });
  const size = file === '-' ? undefined : statSync(file, { throwIfNoEntry: false })?.size;
  const stop = startProgress(process.stderr, file, size, () =>
    'bytesRead' in input ? input.bytesRead : 0,
  );
  try {
    return await scanObject(input, { origin: file, source: args.source, rule });
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
  const inputs = expandInputs(args.files);
  for (const problem of inputs.problems) process.stderr.write(`${problem}\n`);
  const all: AlertGroup[] = [];
  let failed = inputs.problems.length > 0;
  let read = 0;
  const started = performance.now();
  let decoded = 0;
  for (const file of inputs.files) {
    const result = await scanInput(file, args, rule);
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
