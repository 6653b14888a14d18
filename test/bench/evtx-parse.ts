/**
 * Throughput of the EVTX parser alone (lib/sources/evtx): no gzip, no I/O, no engine.
 *
 *   node --import tsx test/bench/evtx-parse.ts [--mb N] [--all]
 *
 * The input is a large .evtx made in memory from the real chunks of ../shared/datasets/evtx
 * (chunks are self-contained, so repeating them behind a fresh header is a valid file): one
 * period of those chunks is kept and fed again and again in 64 KiB slices that straddle chunk
 * boundaries, so the whole file never exists and peak RSS is the parser's. The prefilter wants
 * Sysmon event ids 1, 3, 5 and 22 (the engine's), or every record with --all.
 *
 * Prints MiB/s of .evtx input and records/s per CPU second (and per wall second), records rendered and filtered, and peak RSS (the
 * process's, tsx loader included). 1 MB here is 2^20 bytes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEvtxParser } from '../../lib/sources/evtx/index.ts';
import { SHARED_DATASETS } from '../helpers/datasets.ts';
import { buildFileHeader, CHUNK_BYTES, FILE_HEADER_BYTES } from '../sources/evtx/writer.ts';

const BYTES_PER_MB = 2 ** 20;
/** Slice size fed to the parser: what a Node stream typically hands over. */
const SLICE_BYTES = 65536;
const WANTED = new Set([1, 3, 5, 22]);

const { values } = parseArgs({
  options: { mb: { type: 'string', default: '512' }, all: { type: 'boolean', default: false } },
});
const mb = Number(values.mb);

/** Every non-blank chunk of the shared EVTX files, concatenated: one period of the bench file. */
function realChunks(): Buffer {
  const dir = join(SHARED_DATASETS, 'evtx');
  const chunks: Buffer[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.evtx'))) {
    const file = readFileSync(join(dir, f));
    for (let at = FILE_HEADER_BYTES; at + CHUNK_BYTES <= file.length; at += CHUNK_BYTES) {
      const chunk = file.subarray(at, at + CHUNK_BYTES);
      if (chunk.toString('latin1', 0, 8) === 'ElfChnk\0') chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks);
}

const period = realChunks();
const chunkCount = Math.floor((mb * BYTES_PER_MB) / CHUNK_BYTES);
const header = buildFileHeader(Math.min(chunkCount, 0xffff));
const total = FILE_HEADER_BYTES + chunkCount * CHUNK_BYTES;

let records = 0;
let skipped = 0;
const parser = createEvtxParser({
  onRecord: () => {
    records++;
  },
  onSkip: () => {
    skipped++;
  },
  ...(values.all ? {} : { wantEvent: (id: number) => WANTED.has(id) }),
});

const slice = Buffer.alloc(SLICE_BYTES);
const started = process.hrtime.bigint();
const cpuStarted = process.cpuUsage();
parser.feed(header);
const body = total - FILE_HEADER_BYTES;
// A first slice of 1 KiB, so that every later 64 KiB slice straddles a chunk boundary.
for (let fed = 0, n = 1024; fed < body; fed += n, n = Math.min(SLICE_BYTES, body - fed)) {
  let start = fed % period.length;
  for (let i = 0; i < n; start = 0) {
    i += period.copy(slice, i, start, Math.min(period.length, start + n - i));
  }
  parser.feed(slice.subarray(0, n));
}
const summary = parser.end();
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuStarted);
// CPU time, not wall time, gives the per-core rate on a shared machine (the parser is one thread).
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const mib = total / BYTES_PER_MB;

console.log(
  `input      ${mib.toFixed(0)} MiB .evtx (${chunkCount} chunks from ${period.length / CHUNK_BYTES} real ones)`,
);
console.log(`prefilter  ${values.all ? 'none (every record rendered)' : 'event ids 1, 3, 5, 22'}`);
console.log(`time       ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU`);
console.log(
  `throughput ${(mib / cpuSeconds).toFixed(1)} MiB/s per core (${(mib / seconds).toFixed(1)} wall), ` +
    `${Math.round(summary.records / cpuSeconds)} records/s per core`,
);
console.log(
  `records    ${summary.records} (${summary.rendered} rendered, ${summary.filtered} filtered), ${skipped} skipped`,
);
console.log(`peak RSS   ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
if (records !== summary.rendered) process.exitCode = 1;
