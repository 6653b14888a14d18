import type { AlertGroup } from '../alert/index.ts';
import type { SourceName } from '../event/types.ts';

export interface AlertPolicyInput {
  /** `s3://bucket/key#versionId-or-etag`: one version of one object. */
  objectId: string;
  source: SourceName;
  /** Every group the object produced. */
  groups: AlertGroup[];
}

export interface AlertDecision {
  group: AlertGroup;
  /** `create` for a new finding, `update` when it extends one already published. */
  activity: 'create' | 'update';
}

/**
 * Decides which groups of an object become alerts, and whether each creates or updates a finding.
 * The extension point for state across objects (merging the same group seen in many batches,
 * suppressing repeats): the processor publishes exactly what `decide` returns.
 */
export interface AlertPolicy {
  decide(input: AlertPolicyInput): Promise<AlertDecision[]>;
}

/** No state: every group of every object is a new finding. */
export const statelessAlertPolicy: AlertPolicy = {
  decide: async ({ groups }) => groups.map((group) => ({ group, activity: 'create' })),
};
