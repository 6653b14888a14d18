/**
 * `npm run scan -- [--format table|csv|json] [--source auto|sysmon|falcon] [--stats] FILE...`
 * Runs the same engine the Lambda functions run, on local files (`-` is standard input).
 */
import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AlertGroup } from '../alert/index.ts';
import { buildFinding, formatCsv, formatTable, mergeGroups, sortGroups } from '../alert/index.ts';
import type { ScanResult } from '../engine/index.ts';
import { READ_CHUNK_BYTES, scanObject } from '../engine/index.ts';
import { defaultRule } from '../rule/index.ts';
import { parseOrExplain, UsageError } from './usage.ts';

const USAGE = `usage: npm run scan -- [--format table|csv|json] [--source auto|sysmon|falcon] [--stats] FILE...
  FILE    Sysmon XML or Falcon NDJSON / LogScale JSON, plain, gzip or zstd; '-' reads standard input
  --format  table (default), csv (SPEC §3 columns) or json (one OCSF Detection Finding per line)
  --source  auto (default: sniffed from the content), sysmon or falcon
  --stats   add peak resident memory and throughput to the summary on standard error`;

/** Show progress on a terminal for inputs that take a while. */
const PROGRESS_INTERVAL_MS = 500;

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
  if (positionals.length === 0) throw new UsageError('no FILE given');
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
    (s.contextless > 0
      ? `, ${s.contextless} candidate(s) dropped for want of their process context`
      : '') +
    (s.overflow.summarized + s.overflow.dropped > 0
      ? `, past the group cap ${s.overflow.summarized} match(es) summarized, ${s.overflow.dropped} only counted`
      : '') +
    (r.damage ? ` — DAMAGED (${r.damage.reason}): ${r.damage.message}` : '')
  );
}

async function main(argv: string[]): Promise<number> {
  const args = parseOrExplain('scan', USAGE, parse, argv);
  if (!args) return 2;
  const rule = defaultRule();
  const all: AlertGroup[] = [];
  let failed = false;
  const started = performance.now();
  let decoded = 0;
  for (const file of args.files) {
    let timer: NodeJS.Timeout | undefined;
    try {
      const input =
        file === '-' ? process.stdin : createReadStream(file, { highWaterMark: READ_CHUNK_BYTES });
      let progress = 0;
      if (process.stderr.isTTY) {
        timer = setInterval(() => {
          process.stderr.write(`\r${file}: ${(progress / 1048576).toFixed(0)} MiB decoded…`);
        }, PROGRESS_INTERVAL_MS);
      }
      const result = await scanObject(input, {
        origin: file,
        source: args.source,
        rule,
        onProgress: (n) => {
          progress = n;
        },
      });
      if (timer) process.stderr.write('\r\u001b[K');
      decoded += result.stats.bytesDecoded;
      all.push(...result.groups);
      process.stderr.write(`${summary(file, result)}\n`);
      if (result.damage) failed = true;
    } catch (err) {
      if (timer) process.stderr.write('\r\u001b[K');
      failed = true;
      const e = err as NodeJS.ErrnoException;
      const reason =
        e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message;
      process.stderr.write(`${file}: cannot be read: ${reason}\n`);
    } finally {
      if (timer) clearInterval(timer);
    }
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
