import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The shared real telemetry (its README.md), beside the repository in CI too. */
export const SHARED_DATASETS = join(ROOT, '../shared/datasets');
/** The MIT-licensed OTRF datasets copied into the project (test/fixtures/datasets/README.md). */
export const FIXTURE_DATASETS = join(ROOT, 'test/fixtures/datasets');

/**
 * Real recorded telemetry with its exact expected output (shared/datasets/README.md). The
 * MIT-licensed OTRF files are copied into test/fixtures; the GPL EVTX-ATTACK files are read from
 * ../shared only when it exists.
 */
export const DATASET_DIRS = [SHARED_DATASETS, FIXTURE_DATASETS];

export interface DatasetCase {
  file: string;
  /** `shared/<file>` or `fixtures/<file>`: where it came from, for the test's name. */
  name: string;
  /** The CSV that `npm run scan -- --format csv` must print for it under rule version 2. */
  expected: string;
}

/** Every Sysmon and Falcon file, of every shape, of the dataset directories that exist here. */
export const datasetCases = (): DatasetCase[] =>
  DATASET_DIRS.filter(existsSync).flatMap((dir) =>
    ['sysmon', 'falcon', 'json', 'evtx']
      .map((sub) => join(dir, sub))
      .filter(existsSync)
      .flatMap((sub) => readdirSync(sub).map((f) => join(sub, f)))
      .map((file) => ({
        file,
        name: `${basename(dirname(dir))}/${basename(file)}`,
        expected: join(dir, 'expected-v2', `${basename(file).replace(/\.gz$/, '')}.csv`),
      })),
  );
