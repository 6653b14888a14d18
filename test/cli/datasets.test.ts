import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { datasetCases } from '../helpers/datasets.ts';
import { npmRun } from './run.ts';

const cases = datasetCases();

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
