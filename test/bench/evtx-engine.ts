/**
 * The engine on a large .evtx, beside the XML path on the same events (issue: read .evtx):
 *
 *   node --import tsx test/bench/evtx-engine.ts --path evtx|xml [--mb N]
 *
 * `evtx`: the real chunks of ../shared/datasets/evtx repeated behind a fresh header to N MiB, fed
 * to scanObject in 64 KiB slices (the whole file never exists). `xml`: the same records as
 * python-evtx's XML dumps of those files (../shared/datasets/sysmon/evtxattack-*.evtx.xml),
 * repeated as many times. Run each path in its own process: the peak RSS printed is the
 * process's (tsx loader included). Prints MiB/s of input and records/s per CPU second and wall
 * second. 1 MB here is 2^20 bytes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { scanObject } from '../../lib/engine/index.ts';
import { defaultRule } from '../../lib/rule/index.ts';
import { SOURCE_PLUGINS } from '../../lib/sources/index.ts';
import { SHARED_DATASETS } from '../helpers/datasets.ts';
import { buildFileHeader, CHUNK_BYTES, FILE_HEADER_BYTES } from '../sources/evtx/writer.ts';

const BYTES_PER_MB = 2 ** 20;
const SLICE_BYTES = 65536;

const { values } = parseArgs({
  options: { path: { type: 'string', default: 'evtx' }, mb: { type: 'string', default: '1024' } },
});
const mb = Number(values.mb);
const evtxDir = join(SHARED_DATASETS, 'evtx');
const names = readdirSync(evtxDir).filter((n) => n.endsWith('.evtx'));

/** Every non-blank chunk of the shared EVTX files, concatenated: one period. */
function realChunks(): Buffer {
  const chunks: Buffer[] = [];
  for (const f of names) {
    const file = readFileSync(join(evtxDir, f));
    for (let at = FILE_HEADER_BYTES; at + CHUNK_BYTES <= file.length; at += CHUNK_BYTES) {
      const chunk = file.subarray(at, at + CHUNK_BYTES);
      if (chunk.toString('latin1', 0, 8) === 'ElfChnk\0') chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks);
}

/** The same records as XML: every <Event> of python-evtx's dumps of those files. */
function xmlPeriod(): Buffer {
  const events: string[] = [];
  for (const f of names) {
    const xml = readFileSync(join(SHARED_DATASETS, 'sysmon', `${f}.xml`), 'utf8');
    events.push(...(xml.match(/<Event[ >][\s\S]*?<\/Event>/g) ?? []));
  }
  return Buffer.from(`${events.join('\n')}\n`);
}

/** `head`, then `period` repeated `times`, in 64 KiB slices. */
async function* repeated(head: Buffer, period: Buffer, times: number): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  const total = period.length * times;
  for (let fed = 0; fed < total; fed += SLICE_BYTES) {
    const n = Math.min(SLICE_BYTES, total - fed);
    const slice = Buffer.alloc(n);
    for (let i = 0, start = fed % period.length; i < n; start = 0) {
      i += period.copy(slice, i, start, Math.min(period.length, start + n - i));
    }
    yield slice;
  }
}

const chunks = realChunks();
const periods = Math.max(1, Math.floor((mb * BYTES_PER_MB) / chunks.length));
const input =
  values.path === 'xml'
    ? { stream: repeated(Buffer.alloc(0), xmlPeriod(), periods), source: 'sysmon-xml' }
    : {
        stream: repeated(
          Buffer.from(buildFileHeader(Math.min((chunks.length / CHUNK_BYTES) * periods, 0xffff))),
          chunks,
          periods,
        ),
        source: 'evtx',
      };

const started = process.hrtime.bigint();
const cpuStarted = process.cpuUsage();
const result = await scanObject(input.stream, {
  origin: `bench.${values.path}`,
  sources: SOURCE_PLUGINS,
  source: input.source,
  rule: defaultRule(),
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuStarted);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const s = result.stats;
const mib = s.bytesIn / BYTES_PER_MB;
console.log(`path       ${values.path} (${result.format}), ${periods} periods of the real records`);
console.log(
  `input      ${mib.toFixed(0)} MiB, ${s.recordsRead} records, ${s.recordsParsed} parsed`,
);
console.log(`time       ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU`);
console.log(
  `throughput ${(mib / cpuSeconds).toFixed(1)} MiB/s per core (${(mib / seconds).toFixed(1)} wall), ` +
    `${Math.round(s.recordsRead / cpuSeconds)} records/s per core`,
);
console.log(
  `matched    ${s.matched} in ${s.groups} groups${result.damage ? `, DAMAGED: ${result.damage.message}` : ''}`,
);
console.log(`peak RSS   ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
