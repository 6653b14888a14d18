/**
 * The throughput benchmark of the issue: one generated batch, three paths over the same file,
 * each in its own child process (so peak RSS is per path):
 *
 *   bound   gunzip + decode + record splitting only (what Node can do at best)
 *   engine  scanObject mode 'fast' (raw-byte pre-filter, parse only what may matter)
 *   naive   scanObject mode 'full' (parse every record, same joins and rule)
 *
 *   npm run bench -- [--source falcon|sysmon|nxlog|winlogbeat|cwl] [--mb N] [--seed S] [--runs R]
 *                    [--paths engine,naive,bound] [--naive-mb N] [--bundle]
 *                    [--lambda-memory MB [--lambda-wrapper]] [--json FILE]
 *
 * nxlog, winlogbeat and cwl are the Sysmon batch's events in those shapes (shapes.ts): the same
 * planted matches, --mb still counting the XML. The engine reads them as that shape and the bound
 * splits them with that shape's framing (a JSON sequence of envelopes for cwl).
 *
 * `npm run bench -- --source evtx [--mb N]` instead runs the engine on a large .evtx made of the
 * real chunks of ../shared/datasets/evtx, beside the XML path on the same events
 * (test/bench/evtx-engine.ts).
 *
 * --naive-mb N runs the naive path on a separate N MiB batch (same seed) and extrapolates its
 * per-MiB throughput; the engine also runs on that batch so the alerts can still be compared.
 * --bundle runs the paths from an esbuild bundle with plain node (as Lambda runs the code)
 * instead of through the tsx loader, which alone adds ~40 MiB of resident memory.
 * --lambda-memory MB starts the paths with the V8 heap flags that Lambda's Node.js runtime passes
 * for a function of that memory size (see lambdaHeapFlags); without it they run with V8's defaults
 * for this machine. --lambda-wrapper then starts them through the functions' exec wrapper
 * (lib/pipeline/heap-wrapper.sh), as the deployed functions start.
 *
 * Prints MiB/s of uncompressed input, records/s, peak RSS, the ratios engine/bound and
 * naive/engine, and whether the engine and the naive path found the same alerts (and the ones
 * the generator planted). Exits non-zero when the alerts differ. Figures are medians when
 * --runs > 1. 1 MB here is 2^20 bytes, as in --mb.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HEAP_WRAPPER_SOURCE } from '../../lib/pipeline/heap-wrapper.ts';
import { diffSummaries, type GroupSummary, summarize } from './compare.ts';
import {
  type BenchSource,
  BYTES_PER_MB,
  DEFAULT_BENCH_DIR,
  type GeneratedBatch,
  generateBatch,
} from './generate.ts';
import { lambdaHeapFlags } from './lambda-heap.ts';
import type { BenchPath, RunReport } from './run-path.ts';
import { SHAPE_SOURCE_NAMES, SYSMON_SHAPES, type SysmonShape } from './shapes.ts';

const RUN_PATH = fileURLToPath(new URL('./run-path.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ALL_PATHS: readonly BenchPath[] = ['bound', 'engine', 'naive'];
const KIB_PER_MIB = 1024;

/** What `--source` takes: a generated source, or the Sysmon batch in another shape. */
type BenchKind = BenchSource | SysmonShape;
const BENCH_KINDS: readonly BenchKind[] = ['falcon', 'sysmon', ...SYSMON_SHAPES];

/** The issues' acceptance targets (issue 17 for the shapes), printed next to the figures. */
const TARGET_ENGINE_OVER_BOUND: Record<BenchKind, number> = {
  falcon: 1.5,
  sysmon: 2,
  nxlog: 2.5,
  winlogbeat: 2.5,
  cwl: 2.5,
};
const TARGET_NAIVE_OVER_ENGINE: Record<BenchKind, number | undefined> = {
  falcon: undefined,
  sysmon: 10,
  nxlog: undefined,
  winlogbeat: undefined,
  cwl: undefined,
};
const TARGET_PEAK_RSS_MIB = 192;

interface Options {
  source: BenchKind;
  mb: number;
  seed: number;
  runs: number;
  paths: BenchPath[];
  naiveMb: number | undefined;
  bundle: boolean;
  lambdaMemory: number | undefined;
  lambdaWrapper: boolean;
  json: string | undefined;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      source: { type: 'string', default: 'falcon' },
      mb: { type: 'string', default: '1024' },
      seed: { type: 'string', default: '1' },
      runs: { type: 'string', default: '1' },
      paths: { type: 'string', default: 'engine,naive,bound' },
      'naive-mb': { type: 'string' },
      bundle: { type: 'boolean', default: false },
      'lambda-memory': { type: 'string' },
      'lambda-wrapper': { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  const source = values.source as BenchKind;
  if (!BENCH_KINDS.includes(source)) {
    throw new Error(`--source must be one of ${BENCH_KINDS.join(', ')}, not ${values.source}`);
  }
  const mb = Number(values.mb);
  const seed = Number(values.seed);
  const runs = Number(values.runs);
  const naiveMb = values['naive-mb'] === undefined ? undefined : Number(values['naive-mb']);
  if (!(mb > 0)) throw new Error(`--mb must be a positive number, not ${values.mb}`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, not ${values.seed}`);
  if (!(Number.isInteger(runs) && runs >= 1))
    throw new Error(`--runs must be >= 1, not ${values.runs}`);
  const lambdaMemory =
    values['lambda-memory'] === undefined ? undefined : Number(values['lambda-memory']);
  if (lambdaMemory !== undefined && !(Number.isInteger(lambdaMemory) && lambdaMemory >= 128)) {
    throw new Error(
      `--lambda-memory must be a whole number of MB >= 128, not ${values['lambda-memory']}`,
    );
  }
  if (values['lambda-wrapper'] && lambdaMemory === undefined) {
    throw new Error('--lambda-wrapper needs --lambda-memory: it rewrites the runtime heap flags');
  }
  if (naiveMb !== undefined && !(naiveMb > 0)) {
    throw new Error(`--naive-mb must be a positive number, not ${values['naive-mb']}`);
  }
  const wanted = values.paths.split(',').map((p) => p.trim());
  for (const p of wanted) {
    if (!ALL_PATHS.includes(p as BenchPath)) throw new Error(`--paths: unknown path ${p}`);
  }
  return {
    source,
    mb,
    seed,
    runs,
    // Cheapest first, so a slow naive run does not delay the figures that matter most.
    paths: ALL_PATHS.filter((p) => wanted.includes(p)),
    naiveMb: naiveMb !== undefined && naiveMb < mb ? naiveMb : undefined,
    bundle: values.bundle,
    lambdaMemory,
    lambdaWrapper: values['lambda-wrapper'],
    json: values.json,
  };
}

/** Bundles run-path.ts and everything it imports into one ESM file, as Lambda bundles run. */
async function bundleRunner(): Promise<string> {
  // Loaded only here: the default (tsx) runs need no bundler.
  const { build } = await import('esbuild');
  await mkdir(DEFAULT_BENCH_DIR, { recursive: true });
  const outfile = join(DEFAULT_BENCH_DIR, 'run-path.bundle.mjs');
  await build({
    entryPoints: [RUN_PATH],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    // CommonJS dependencies inside an ESM bundle still call require().
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
  return outfile;
}

/** The batch a kind reads: its source's, rendered in the shape for a shape. */
function batchOf(kind: BenchKind, mb: number, seed: number): Promise<GeneratedBatch> {
  return kind === 'falcon' || kind === 'sysmon'
    ? generateBatch({ source: kind, mb, seed })
    : generateBatch({ source: 'sysmon', shape: kind, mb, seed });
}

/** The name the engine reads a kind's batch as (a shape's own name, so nothing is sniffed). */
const engineSource = (kind: BenchKind): string =>
  kind === 'falcon' || kind === 'sysmon' ? kind : SHAPE_SOURCE_NAMES[kind];

function runChild(
  runner: readonly string[],
  path: BenchPath,
  file: string,
  source: string,
): Promise<RunReport> {
  return new Promise((resolvePromise, reject) => {
    const [command = process.execPath, ...args] = runner;
    const child = spawn(command, [...args, '--path', path, '--file', file, '--source', source], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      out += text;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        reject(new Error(`${path} on ${file} exited with ${code}`));
        return;
      }
      try {
        resolvePromise(JSON.parse(line) as RunReport);
      } catch (error) {
        reject(new Error(`${path} printed no report: ${line.slice(0, 200)}`, { cause: error }));
      }
    });
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

interface PathFigures {
  path: BenchPath;
  file: string;
  /** Median seconds over the runs. */
  seconds: number;
  secondsAll: number[];
  bytesDecoded: number;
  records: number;
  recordsParsed: number | undefined;
  peakRssMiB: number;
  baselineRssMiB: number;
  mibPerSecond: number;
  recordsPerSecond: number;
  groups: GroupSummary[] | undefined;
  matched: number | undefined;
}

function figures(reports: readonly RunReport[]): PathFigures {
  const first = reports[0] as RunReport;
  const seconds = median(reports.map((r) => r.seconds));
  return {
    path: first.path,
    file: first.file,
    seconds,
    secondsAll: reports.map((r) => Number(r.seconds.toFixed(3))),
    bytesDecoded: first.bytesDecoded,
    records: first.records,
    recordsParsed: first.recordsParsed,
    peakRssMiB: median(reports.map((r) => r.maxRssKiB)) / KIB_PER_MIB,
    baselineRssMiB: median(reports.map((r) => r.baselineRssKiB)) / KIB_PER_MIB,
    mibPerSecond: first.bytesDecoded / BYTES_PER_MB / seconds,
    recordsPerSecond: first.records / seconds,
    groups: first.groups ? summarize(first.groups) : undefined,
    matched: first.matched,
  };
}

const fmt = (n: number, digits = 2): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function describeBatch(batch: GeneratedBatch): string {
  const m = batch.manifest;
  const events = m.events === undefined ? '' : ` (${fmt(m.events, 0)} events)`;
  return `${relative(process.cwd(), batch.path)}${batch.reused ? ' (reused)' : ` (generated in ${fmt(m.generationMs / 1000, 1)} s)`}: ${fmt(m.bytes / BYTES_PER_MB, 1)} MiB text, ${fmt(m.gzipBytes / BYTES_PER_MB, 1)} MiB gzip, ${fmt(m.records, 0)} records${events}, ${m.plantedMatches} planted matches in ${m.groups.length} groups`;
}

const EVTX_ENGINE = fileURLToPath(new URL('./evtx-engine.ts', import.meta.url));

/**
 * `--source evtx`: the engine on a large .evtx beside the XML path on the same events, each in a
 * process of its own (test/bench/evtx-engine.ts), so each peak RSS is its path's.
 */
async function benchEvtx(mb: string): Promise<void> {
  for (const path of ['evtx', 'xml']) {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', EVTX_ENGINE, '--path', path, '--mb', mb],
      {
        stdio: 'inherit',
      },
    );
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0) process.exitCode = 1;
  }
}

async function main(): Promise<void> {
  const source = process.argv.indexOf('--source');
  if (process.argv[source + 1] === 'evtx') {
    const mb = process.argv.indexOf('--mb');
    await benchEvtx(mb > 0 ? (process.argv[mb + 1] ?? '1024') : '1024');
    return;
  }
  const o = parseOptions();
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `T1102 bench: ${o.source}, ${o.mb} MiB, seed ${o.seed}, ${o.runs} run(s); node ${process.version}, ${availableParallelism()} x ${cpu}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const main = await batchOf(o.source, o.mb, o.seed);
  console.log(`file: ${describeBatch(main)}`);
  let naiveBatch = main;
  if (o.paths.includes('naive') && o.naiveMb !== undefined) {
    naiveBatch = await batchOf(o.source, o.naiveMb, o.seed);
    console.log(`naive file: ${describeBatch(naiveBatch)}`);
  }
  const separateNaive = naiveBatch !== main;
  const heapFlags = o.lambdaMemory === undefined ? [] : lambdaHeapFlags(o.lambdaMemory);
  const runner = [
    ...(o.lambdaWrapper ? [HEAP_WRAPPER_SOURCE, process.execPath] : [process.execPath]),
    ...heapFlags,
    ...(o.bundle ? [await bundleRunner()] : ['--import', 'tsx', RUN_PATH]),
  ];
  console.log(
    `runner: ${o.bundle ? 'esbuild bundle, plain node (as deployed)' : 'tsx loader'}; heap: ${heapFlags.length > 0 ? `as Lambda at ${o.lambdaMemory} MB (${heapFlags.join(' ')})${o.lambdaWrapper ? ', through the heap wrapper' : ''}` : "V8's defaults"}`,
  );

  const reports = new Map<string, RunReport[]>();
  const record = (name: string, r: RunReport) => {
    const list = reports.get(name) ?? [];
    list.push(r);
    reports.set(name, list);
  };
  for (let run = 1; run <= o.runs; run++) {
    for (const path of o.paths) {
      const file = path === 'naive' ? naiveBatch.path : main.path;
      const r = await runChild(runner, path, file, engineSource(o.source));
      record(path, r);
      process.stderr.write(
        `  run ${run}/${o.runs} ${path.padEnd(6)} ${fmt(r.seconds, 3)} s, peak RSS ${fmt(r.maxRssKiB / KIB_PER_MIB, 1)} MiB\n`,
      );
    }
    if (separateNaive && run === 1) {
      // The naive path ran on the smaller file: the engine must run there too to compare alerts.
      record(
        'engine-small',
        await runChild(runner, 'engine', naiveBatch.path, engineSource(o.source)),
      );
    }
  }

  const fig = new Map<string, PathFigures>();
  for (const [name, list] of reports) fig.set(name, figures(list));

  console.log('');
  console.log(
    `${'path'.padEnd(8)}${'seconds'.padStart(10)}${'MiB/s'.padStart(10)}${'records/s'.padStart(14)}${'peak RSS MiB'.padStart(15)}${'(baseline)'.padStart(12)}  note`,
  );
  for (const path of o.paths) {
    const f = fig.get(path) as PathFigures;
    const note =
      path === 'naive' && separateNaive
        ? `on the ${o.naiveMb} MiB file; ${fmt((f.seconds * main.manifest.bytes) / f.bytesDecoded, 1)} s extrapolated to ${o.mb} MiB`
        : path === 'engine'
          ? `parsed ${fmt(f.recordsParsed ?? 0, 0)} of ${fmt(f.records, 0)} records`
          : '';
    // A CloudWatch Logs record is an envelope of many events: events/s is the comparable rate.
    const events = (path === 'naive' ? naiveBatch : main).manifest.events;
    const eventRate =
      events !== undefined && events !== f.records
        ? `${note ? '; ' : ''}${fmt(events / f.seconds, 0)} events/s`
        : '';
    console.log(
      `${path.padEnd(8)}${fmt(f.seconds, 3).padStart(10)}${fmt(f.mibPerSecond, 1).padStart(10)}${fmt(f.recordsPerSecond, 0).padStart(14)}${fmt(f.peakRssMiB, 1).padStart(15)}${fmt(f.baselineRssMiB, 1).padStart(12)}  ${note}${eventRate}`,
    );
  }
  if (o.runs > 1) {
    const perRun = o.paths.map((p) => `${p} ${fig.get(p)?.secondsAll.join(' ')}`).join('; ');
    console.log(`(medians of ${o.runs} runs; seconds per run: ${perRun})`);
  }
  console.log('');

  const engine = fig.get('engine');
  const bound = fig.get('bound');
  const naive = fig.get('naive');
  const checks: string[] = [];
  if (engine && bound) {
    const ratio = engine.seconds / bound.seconds;
    const target = TARGET_ENGINE_OVER_BOUND[o.source];
    checks.push(
      `engine/bound = ${fmt(ratio)} (target <= ${target}: ${ratio <= target ? 'met' : 'NOT met'})`,
    );
  }
  if (engine && naive) {
    // Per-MiB throughput ratio: the same as a time ratio on one file, and still valid when the
    // naive path ran on a smaller file.
    const ratio = engine.mibPerSecond / naive.mibPerSecond;
    const target = TARGET_NAIVE_OVER_ENGINE[o.source];
    checks.push(
      `naive/engine = ${fmt(ratio)}${separateNaive ? ' (per MiB, naive extrapolated)' : ''}${target ? ` (target >= ${target}: ${ratio >= target ? 'met' : 'NOT met'})` : ''}`,
    );
  }
  for (const f of [bound, engine, naive]) {
    if (!f) continue;
    const ok = f.peakRssMiB <= TARGET_PEAK_RSS_MIB;
    checks.push(
      `${f.path} peak RSS ${fmt(f.peakRssMiB, 1)} MiB (target <= ${TARGET_PEAK_RSS_MIB}: ${ok ? 'met' : 'NOT met'})`,
    );
  }
  for (const line of checks) console.log(line);

  let failed = false;
  const compare = (
    leftName: string,
    left: GroupSummary[],
    rightName: string,
    right: GroupSummary[],
  ) => {
    const diffs = diffSummaries(leftName, left, rightName, right);
    const matches = left.reduce((n, g) => n + g.count, 0);
    if (diffs.length === 0) {
      console.log(
        `alerts: ${leftName} and ${rightName} identical (${left.length} groups, ${matches} matches)`,
      );
    } else {
      failed = true;
      console.log(
        `alerts: ${leftName} and ${rightName} DIFFER (${left.length} vs ${right.length} groups):`,
      );
      for (const d of diffs) console.log(`  ${d}`);
    }
  };
  const planted = (b: GeneratedBatch) => summarize(b.manifest.groups);
  if (engine?.groups) compare('engine', engine.groups, 'planted', planted(main));
  const engineOnNaiveFile = separateNaive ? fig.get('engine-small') : engine;
  if (naive?.groups && engineOnNaiveFile?.groups) {
    const where = separateNaive ? ` on the ${o.naiveMb} MiB file` : '';
    compare(`engine${where}`, engineOnNaiveFile.groups, 'naive', naive.groups);
    if (separateNaive) compare('naive', naive.groups, 'planted', planted(naiveBatch));
  }

  if (o.json) {
    const out = {
      source: o.source,
      mb: o.mb,
      seed: o.seed,
      runs: o.runs,
      runner: o.bundle ? 'bundle' : 'tsx',
      heapFlags,
      heapWrapper: o.lambdaWrapper,
      node: process.version,
      cpu,
      cpus: availableParallelism(),
      loadavg: loadavg(),
      file: main.manifest,
      naiveFile: separateNaive ? naiveBatch.manifest : undefined,
      paths: Object.fromEntries([...fig].map(([k, f]) => [k, { ...f, groups: f.groups?.length }])),
      checks,
      alertsIdentical: !failed,
    };
    await writeFile(o.json, `${JSON.stringify(out, null, 2)}\n`);
  }
  if (failed) process.exitCode = 1;
}

await main();
