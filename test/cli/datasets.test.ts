import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { npmRun, ROOT } from './run.ts';

/**
 * Real recorded telemetry with its exact expected output (shared/datasets/README.md). The
 * MIT-licensed OTRF files are copied into test/fixtures; the GPL EVTX-ATTACK files are read from
 * ../shared only when it exists.
 */
const DIRS = [join(ROOT, '../shared/datasets'), join(ROOT, 'test/fixtures/datasets')];

const cases = DIRS.filter(existsSync).flatMap((dir) =>
  ['sysmon', 'falcon']
    .map((sub) => join(dir, sub))
    .filter(existsSync)
    .flatMap((sub) => readdirSync(sub).map((f) => join(sub, f)))
    .map((file) => ({
      file,
      name: `${basename(dir)}/${basename(file)}`,
      expected: join(dir, 'expected', `${basename(file).replace(/\.gz$/, '')}.csv`),
    })),
);

describe('scan: real datasets give exactly the expected CSV', () => {
  it('has datasets to check', () => {
    expect(cases.length).toBeGreaterThanOrEqual(7);
  });

  it.each(cases)('$name', async ({ file, expected }) => {
    // Act
    const out = await npmRun('scan', ['--format', 'csv', file]);
    // Assess
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(readFileSync(expected, 'utf8'));
  });
});
