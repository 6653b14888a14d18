export type { DetectionFinding, FindingOptions } from './finding.ts';
export { buildFinding, findingUid, OCSF_VERSION, PRODUCT } from './finding.ts';
export { CSV_HEADER, csvField, formatCsv, formatTable, isoTime } from './format.ts';
export type { GroupCaps, ResolvedMatch } from './group.ts';
export {
  emptyEvidence,
  Grouper,
  groupKeyString,
  mergeGroups,
  SUMMARY_USER,
  sortGroups,
} from './group.ts';
export type {
  AlertGroup,
  GroupEvidence,
  GroupKey,
  GroupOverflow,
  GroupSummary,
  ProvenanceRef,
} from './types.ts';
