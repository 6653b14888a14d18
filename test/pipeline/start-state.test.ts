/**
 * `npm start` as run by default: with cross-object state in dynalite. The handlers read their
 * environment once at import, so this lives in its own file (own process).
 */
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runSamples } from '../../lib/cli/start.ts';
import { REPO_ROOT } from '../helpers/fauxqs.ts';

const expectedRow = (file: string, prefix: string) =>
  readFileSync(`${REPO_ROOT}/events/samples/expected/${file}`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(prefix))!
    .split(',');

describe('npm start with state', () => {
  it('accumulates one group seen in two batches of the same window into one finding', async () => {
    // Prepare: the Linux curl scenario has the same host, user, process and domain in its Sysmon
    // and its Falcon batch (Linux user names carry no domain), within one 24-hour window.
    const prefix = 'lnx-dev-03,root,curl,raw.githubusercontent.com,';
    const sysmon = expectedRow('t1102-03-github-raw-curl-linux.xml.csv', prefix);
    const falcon = expectedRow('t1102-03-github-raw-curl-linux.fdr.ndjson.csv', prefix);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));

    // Act
    const code = await runSamples({ out, state: true });

    // Assess: one row for the finding, at the summed count and the widest first/last seen
    const text = Buffer.concat(chunks).toString('utf8');
    expect(code).toBe(0);
    expect(text).toMatch(/state table\s+t1102-state/);
    // The table's first column is the severity: raw.githubusercontent.com is a high-tier domain.
    const rows = text
      .split('\n')
      .filter((l) => /^High\s+lnx-dev-03\s+root\s+curl\s+raw\.githubusercontent\.com\s/.test(l));
    expect(rows).toHaveLength(1);
    const count = Number(sysmon[4]) + Number(falcon[4]);
    const first = [sysmon[5]!, falcon[5]!].sort()[0]!;
    const last = [sysmon[6]!, falcon[6]!].sort()[1]!;
    expect(rows[0]!.split(/\s+/).slice(5, 8)).toEqual([String(count), first, last]);
  });
});
