export type { DetectionFinding, FindingOptions } from './finding.ts';
export { buildFinding, findingUid, OCSF_VERSION, PRODUCT } from './finding.ts';
export { CSV_HEADER, csvField, formatCsv, formatTable, isoTime } from './format.ts';
export type { ResolvedMatch } from './group.ts';
export { emptyEvidence, Grouper, groupKeyString, mergeGroups, sortGroups } from './group.ts';
export type { AlertGroup, GroupEvidence, GroupKey, ProvenanceRef } from './types.ts';
