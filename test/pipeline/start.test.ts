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
import { csvFields } from '../helpers/fauxqs.ts';
import { SPEC_HIGH_DOMAINS, SPEC_MEDIUM_DOMAINS } from '../rule/spec-lists.ts';

const SPEC_TIERS = [
  ...SPEC_HIGH_DOMAINS.map((domain) => ({ domain, tier: 'high' as const })),
  ...SPEC_MEDIUM_DOMAINS.map((domain) => ({ domain, tier: 'medium' as const })),
];

/** The contract's tier of an observed host: that of the longest listed domain it ends with. */
function specTier(host: string): 'high' | 'medium' {
  const longest = SPEC_TIERS.filter(({ domain }) => host === domain || host.endsWith(`.${domain}`))
    .sort((a, b) => b.domain.length - a.domain.length)
    .at(0);
  if (longest === undefined) throw new Error(`expected row for ${host}, which is not listed`);
  return longest.tier;
}

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
        tier: specTier(domain!),
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
    // The samples show both severities, in the table's first column.
    expect(text).toMatch(/^SEVERITY\s+HOST\s+USER\s/m);
    expect(expected.filter((g) => g.tier === 'high').length).toBeGreaterThan(0);
    expect(expected.filter((g) => g.tier === 'medium').length).toBeGreaterThan(0);
    expect(text).toMatch(/Local AWS endpoint: http:\/\/127\.0\.0\.1:\d+/);
  });
});
