import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimEvent } from './events.ts';
import { FalconFormatter } from './falcon-format.ts';
import { type BenchSource, generateBatch } from './generate.ts';
import { handMadeProc } from './hand-made.ts';
import { SysmonFormatter } from './sysmon-format.ts';

/** The batches test/engine/differential.test.ts compares the engine with: 3 MiB, dense attacks. */
const DIFFERENTIAL_MB = 3;
const DIFFERENTIAL_ATTACK_RATE = 0.005;
const DIFFERENTIAL_SEEDS = [1, 2, 3];
const SOURCES: BenchSource[] = ['falcon', 'sysmon'];

describe('Generator: batches and their oracle', () => {
  let dir = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 't1102-generator-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(SOURCES)('writes the same %s batch, byte for byte, for the same seed', async (source) => {
    // Prepare
    const options = { source, mb: 0.5, seed: 5, attackRate: 0.02 };

    // Act
    const a = await generateBatch({ ...options, dir: join(dir, 'a') });
    const b = await generateBatch({ ...options, dir: join(dir, 'b') });
    const other = await generateBatch({ ...options, seed: 6, dir: join(dir, 'a') });

    // Assess
    const { generationMs: _a, ...manifestA } = a.manifest;
    const { generationMs: _b, ...manifestB } = b.manifest;
    expect(readFileSync(a.path).equals(readFileSync(b.path))).toBe(true);
    expect(manifestA).toEqual(manifestB);
    expect(other.manifest.groups).not.toEqual(a.manifest.groups);
  });

  describe.each(SOURCES)('in the differential test’s %s batches', (source) => {
    it.each(DIFFERENTIAL_SEEDS)(
      'plants every behaviour rule v2 added, decoys included (seed %i)',
      async (seed) => {
        // Act
        const { manifest } = await generateBatch({
          source,
          mb: DIFFERENTIAL_MB,
          seed,
          dir,
          attackRate: DIFFERENTIAL_ATTACK_RATE,
        });

        // Assess
        const { actions } = manifest;
        expect(actions.implant).toBeGreaterThanOrEqual(2); // one high-tier match, one medium decoy
        expect(actions.fetchOnly).toBeGreaterThanOrEqual(1);
        expect(actions.impostor).toBeGreaterThanOrEqual(1);
        expect(actions.homeClient).toBeGreaterThanOrEqual(1);
        expect(actions.standard).toBeGreaterThanOrEqual(1);
        expect(manifest.plantedMatches).toBe(manifest.groups.reduce((n, g) => n + g.count, 0));
      },
    );
  });

  describe('the time the oracle gives a process start', () => {
    const create: SimEvent = { t: 'create', proc: handMadeProc(), time: handMadeProc().startMs };

    it('is the FDR timestamp of a ProcessRollup2, which has no ContextTimeStamp', () => {
      // Prepare
      const formatter = new FalconFormatter();

      // Act
      const record = JSON.parse(formatter.render(create)) as Record<string, string>;

      // Assess
      expect(record.ContextTimeStamp).toBeUndefined();
      expect(formatter.recordTime(create)).toBe(Number(record.timestamp));
      expect(formatter.recordTime(create)).toBeGreaterThan(create.time);
    });

    it("is Sysmon's UtcTime of the EventID 1 record", () => {
      // Prepare
      const formatter = new SysmonFormatter();

      // Act
      const record = formatter.render(create);

      // Assess
      const utc = /<Data Name='UtcTime'>([^<]+)<\/Data>/.exec(record)?.[1];
      expect(Date.parse(`${utc?.replace(' ', 'T')}Z`)).toBe(formatter.recordTime(create));
    });
  });
});
