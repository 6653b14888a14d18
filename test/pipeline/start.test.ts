/**
 * `npm start` without options: the samples in events/samples/ go through the emulator and the
 * real handlers, and their alerts come back as the table the samples' expected files describe.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { AlertGroup } from '../../lib/alert/index.ts';
import { emptyEvidence, formatTable, sortGroups } from '../../lib/alert/index.ts';
import { DEFAULT_SAMPLES_DIR, runSamples } from '../../lib/cli/start.ts';
import { defaultRule } from '../../lib/rule/index.ts';
import { csvFields } from '../helpers/fauxqs.ts';

/** Every row of events/samples/expected/*.csv as the group it describes. */
function expectedGroups(): AlertGroup[] {
  const dir = join(DEFAULT_SAMPLES_DIR, 'expected');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.csv'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').trimEnd().split('\n').slice(1))
    .map((row) => {
      const [host, user, process, domain, count, first, last] = csvFields(row);
      return {
        key: { host: host!, user: user!, process: process!, domain: domain! },
        tier: defaultRule().listedDomain(domain!)!.tier,
        count: Number(count),
        firstSeen: Date.parse(first!),
        lastSeen: Date.parse(last!),
        evidence: emptyEvidence(),
      };
    });
}

describe('npm start', () => {
  it('prints the alerts of every sample and exits 0', async () => {
    // Prepare
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const expected = expectedGroups();

    // Act
    const code = await runSamples({ out });

    // Assess
    const text = Buffer.concat(chunks).toString('utf8');
    expect(code).toBe(0);
    expect(expected.length).toBeGreaterThan(0);
    expect(text).toContain(`${expected.length} alert(s) received`);
    expect(text).toContain(formatTable(sortGroups(expected)));
    expect(text).toMatch(/Local AWS endpoint: http:\/\/127\.0\.0\.1:\d+/);
  });
});
