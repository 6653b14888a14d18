import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertGroup } from '../../lib/alert/types.ts';
import { scanObject } from '../../lib/engine/index.ts';
import type { ScanResult } from '../../lib/engine/types.ts';
import { defaultRule } from '../../lib/rule/index.ts';
import { SOURCE_PLUGINS } from '../../lib/sources/index.ts';
import { type GroupSummary, sortGroups, summarize } from '../bench/compare.ts';
import { type BenchSource, type GenerateOptions, generateBatch } from '../bench/generate.ts';
import { SHAPE_SOURCE_NAMES, type SysmonShape } from '../bench/shapes.ts';
import { datasetCases } from '../helpers/datasets.ts';

/**
 * The pre-filter decides on raw bytes which records to parse; it must never change the result
 * (the acceptance criterion). Both modes run over the same generated batches and real
 * recordings: 'fast' (pre-filter) and 'full' (parse every record, same joins and rule).
 */

/** Uncompressed MiB per generated batch: hundreds of hosts' processes, joins across records. */
const GENERATED_MB = 3;
/** Ten times the benchmark's density of attacks, so that every small batch has several. */
const DENSE_ATTACK_RATE = 0.005;
const SEEDS = [1, 2, 3];
/** The pre-filter must leave most records unparsed, else this test proves nothing. */
const MAX_FAST_PARSED_SHARE = 0.5;

interface GeneratedKind {
  name: string;
  source: BenchSource;
  /** The Sysmon batch's events in another shape (the same seeds, so the same planted matches). */
  shape?: SysmonShape;
  /** The shape the engine must sniff. */
  reads: string;
  /**
   * Whether fast mode leaves records unparsed. A CloudWatch Logs record is an envelope of up to
   * CWL_EVENTS_PER_ENVELOPE events, and the reader parses each envelope to reach its events.
   */
  prefiltersRecords: boolean;
}

const KINDS: GeneratedKind[] = [
  { name: 'falcon', source: 'falcon', reads: 'falcon-fdr', prefiltersRecords: true },
  { name: 'sysmon', source: 'sysmon', reads: 'sysmon-xml', prefiltersRecords: true },
  ...(['nxlog', 'winlogbeat', 'cwl'] as const).map((shape) => ({
    name: `sysmon as ${shape}`,
    source: 'sysmon' as const,
    shape,
    reads: SHAPE_SOURCE_NAMES[shape],
    prefiltersRecords: shape !== 'cwl',
  })),
];

const realCases = datasetCases();

function scan(file: string, mode: 'fast' | 'full'): Promise<ScanResult> {
  return scanObject(createReadStream(file), {
    origin: file,
    sources: SOURCE_PLUGINS,
    source: 'auto',
    rule: defaultRule(),
    mode,
  });
}

/** One RFC 4180 line (the expected files quote fields that need it). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (line[i] === '"') {
          i++;
          break;
        } else {
          value += line[i++];
        }
      }
      out.push(value);
      i++;
    } else {
      const end = line.indexOf(',', i);
      const stop = end === -1 ? line.length : end;
      out.push(line.slice(i, stop));
      i = stop + 1;
    }
  }
  return out;
}

function expectedGroups(csvPath: string): GroupSummary[] {
  const [header, ...rows] = readFileSync(csvPath, 'utf8').split(/\r?\n/).filter(Boolean);
  expect(header).toBe('host,user,process,domain,count,first_seen,last_seen');
  return summarize(
    rows.map((row) => {
      const [host, user, process, domain, count, first, last] = csvFields(row);
      return {
        key: { host: host ?? '', user: user ?? '', process: process ?? '', domain: domain ?? '' },
        count: Number(count),
        firstSeen: Date.parse(first ?? ''),
        lastSeen: Date.parse(last ?? ''),
      };
    }),
  );
}

const matchesIn = (groups: readonly AlertGroup[]): number =>
  groups.reduce((sum, g) => sum + g.count, 0);

describe('Differential: the pre-filter never changes the result', () => {
  let dir = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 't1102-differential-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe.each(KINDS)(
    'on generated $name batches',
    ({ source, shape, reads, prefiltersRecords }) => {
      const batch = (seed: number) => {
        const options: GenerateOptions = {
          source,
          mb: GENERATED_MB,
          seed,
          dir,
          attackRate: DENSE_ATTACK_RATE,
        };
        return generateBatch(shape === undefined ? options : { ...options, shape });
      };

      it.each(SEEDS)(
        'finds the same groups, evidence included, in fast and full mode (seed %i)',
        async (seed) => {
          // Prepare
          const { path } = await batch(seed);

          // Act
          const fast = await scan(path, 'fast');
          const full = await scan(path, 'full');

          // Assess
          expect(fast.format).toBe(reads);
          expect(fast.groups.length).toBeGreaterThan(0);
          expect(sortGroups(fast.groups)).toEqual(sortGroups(full.groups));
          expect(fast.stats.matched).toBe(full.stats.matched);
          expect(fast.stats.recordsRead).toBe(full.stats.recordsRead);
        },
      );

      it.each(SEEDS)('finds exactly the matches the generator planted (seed %i)', async (seed) => {
        // Prepare
        const { path, manifest } = await batch(seed);

        // Act
        const fast = await scan(path, 'fast');

        // Assess
        expect(summarize(fast.groups)).toEqual(summarize(manifest.groups));
        expect(matchesIn(fast.groups)).toBe(manifest.plantedMatches);
      });

      it('parses every record in full mode and, where a record is one event, most not in fast mode', async () => {
        // Prepare
        const { path, manifest } = await batch(SEEDS[0] as number);

        // Act
        const fast = await scan(path, 'fast');
        const full = await scan(path, 'full');

        // Assess
        expect(full.stats.recordsRead).toBe(manifest.records);
        expect(full.stats.recordsParsed).toBe(manifest.records);
        if (prefiltersRecords)
          expect(fast.stats.recordsParsed).toBeLessThan(manifest.records * MAX_FAST_PARSED_SHARE);
        else expect(fast.stats.recordsParsed).toBeLessThanOrEqual(manifest.records);
      });
    },
  );

  describe.runIf(realCases.length > 0)('on the real recordings', () => {
    it.each(realCases)('finds the same groups in fast and full mode: $name', async ({ file }) => {
      // Act
      const fast = await scan(file, 'fast');
      const full = await scan(file, 'full');

      // Assess
      expect(sortGroups(fast.groups)).toEqual(sortGroups(full.groups));
      expect(fast.stats.matched).toBe(full.stats.matched);
    });

    it.each(realCases)(
      'finds exactly the expected groups in fast mode: $name',
      async ({ file, expected }) => {
        // Act
        const fast = await scan(file, 'fast');

        // Assess
        expect(summarize(fast.groups)).toEqual(expectedGroups(expected));
      },
    );
  });
});
