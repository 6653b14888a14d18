/**
 * `npm start -- --watch DIR`: the real telemetry of shared/datasets dropped into the watched
 * directory arrives as SNS alerts with exactly the groups, counts and first/last seen times of
 * its expected CSV.
 */
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCsv, sortGroups } from '../../lib/alert/index.ts';
import { groupOfFinding } from '../../lib/cli/local-stack.ts';
import { type ObjectResult, startWatch, type Watcher } from '../../lib/cli/start.ts';
import { sysmonDns } from '../engine/fixtures.ts';
import { FIXTURE_DATASETS, SHARED_DATASETS } from '../helpers/datasets.ts';

/** Every dataset when ../shared is beside the clone, else the project's MIT copies. */
const DATASETS = existsSync(SHARED_DATASETS) ? SHARED_DATASETS : FIXTURE_DATASETS;

/** Time for every dataset file to settle and go through the pipeline. */
const ALL_FILES_TIMEOUT_MS = 30_000;

const datasets = (['sysmon', 'falcon'] as const).flatMap((source) => {
  const dir = join(DATASETS, source);
  return existsSync(dir)
    ? readdirSync(dir).map((name) => ({ source, name, path: join(dir, name) }))
    : [];
});

let dir: string;
let watcher: Watcher;
const printed: Buffer[] = [];
const results = new Map<string, ObjectResult>();
let arrived: () => void = () => {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 't1102-watch-'));
  watcher = await startWatch({
    dir,
    out: new PassThrough().on('data', (c: Buffer) => printed.push(c)),
    settleMs: 100,
    onResult: (r) => {
      results.set(r.key, r);
      arrived();
    },
  });
});
afterAll(async () => {
  await watcher?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('npm start -- --watch DIR', () => {
  it('turns every dataset file dropped into the directory into its expected alerts', async () => {
    // Prepare
    expect(datasets.length).toBeGreaterThan(0);
    const all = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${results.size}/${datasets.length} files processed`)),
        ALL_FILES_TIMEOUT_MS,
      );
      arrived = () => {
        if (results.size >= datasets.length) {
          clearTimeout(timer);
          resolve();
        }
      };
    });

    // Act
    for (const d of datasets) copyFileSync(d.path, join(dir, d.source, d.name));
    await all;

    // Assess
    for (const d of datasets) {
      const result = results.get(`${d.source}/${d.name}`)!;
      const expected = readFileSync(
        join(DATASETS, 'expected-v2', `${d.name.replace(/\.gz$/, '')}.csv`),
        'utf8',
      );
      expect(result.failed, d.name).toBe(false);
      expect(
        formatCsv(sortGroups(result.alerts.map((a) => groupOfFinding(a.finding)))),
        d.name,
      ).toBe(expected);
      for (const a of result.alerts) expect(a.attributes.source).toBe(d.source);
    }
  });

  it('leaves alone files that are still being written under a temporary name', async () => {
    // Prepare
    const before = results.size;

    // Act
    writeFileSync(join(dir, 'sysmon', 'export.xml.part'), '<Event>');
    writeFileSync(join(dir, 'falcon', '.hidden.ndjson'), '{}');
    await watcher.idle();
    await new Promise((r) => setTimeout(r, 300));
    await watcher.idle();

    // Assess
    expect(results.size).toBe(before);
  });

  it('says in one readable line that a dropped file is damaged', async () => {
    // Prepare: a gzip cut short
    const gz = gzipSync(sysmonDns('pastebin.com').repeat(200));
    printed.length = 0;

    // Act
    writeFileSync(join(dir, 'sysmon', 'cut.xml.gz'), gz.subarray(0, gz.length - 30));
    await waitFor(() => results.has('sysmon/cut.xml.gz'));

    // Assess
    const lines = Buffer.concat(printed).toString('utf8').trim().split('\n');
    expect(lines).toHaveLength(1 + 2); // the line, the table's header and its one row
    expect(lines[0]).toMatch(
      /^sysmon\/cut\.xml\.gz: 1 alert\(s\) — damaged \(truncated-gzip\): .+; alerts are from what came before$/,
    );
    expect(lines.join('\n')).not.toContain('{'); // no JSON log line
  });
});

async function waitFor(done: () => boolean): Promise<void> {
  const deadline = Date.now() + ALL_FILES_TIMEOUT_MS;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
  await watcher.idle();
}
