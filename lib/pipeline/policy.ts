/**
 * The alert policy seam lives with the state it drives (lib/state): the processor publishes what
 * `decide` returns and acknowledges each decision once its message is out.
 */
export type { AlertDecision, AlertPolicy, AlertPolicyInput } from '../state/index.ts';
export { statelessPolicy as statelessAlertPolicy } from '../state/index.ts';
