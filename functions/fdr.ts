import { createFdrHandler } from '../lib/fdr/index.ts';

/** Copies CrowdStrike Falcon Data Replicator files into the stack's bucket, on a schedule. */
export const handler = createFdrHandler();
