import type { AlertGroup } from './types.ts';

/** The exact CSV header of `scan --format csv` (docs/detection.md, Grouping and output). */
export const CSV_HEADER = 'host,user,process,domain,count,first_seen,last_seen';

/** ISO 8601 UTC with milliseconds, e.g. `2024-03-01T10:00:00.123Z`. */
export const isoTime = (ms: number): string => new Date(ms).toISOString();

/** RFC 4180: quote a field holding a comma, a quote or a line break; double inner quotes. */
export function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

const row = (g: AlertGroup): string[] => [
  g.key.host,
  g.key.user,
  g.key.process,
  g.key.domain,
  String(g.count),
  isoTime(g.firstSeen),
  isoTime(g.lastSeen),
];

/** Groups (already sorted) as CSV text, header first, one line per group, `\n` line ends. */
export function formatCsv(groups: AlertGroup[]): string {
  return `${[CSV_HEADER, ...groups.map((g) => row(g).map(csvField).join(','))].join('\n')}\n`;
}

/** The table's severity column: the group's tier, as the finding's severity names it. */
const SEVERITY_LABEL = { high: 'High', medium: 'Medium' } as const;

/** Groups as an aligned text table, like the LogScale query's result view, with severity. */
export function formatTable(groups: AlertGroup[]): string {
  if (groups.length === 0) return 'No T1102 web-service activity found.\n';
  const header = [
    'SEVERITY',
    'HOST',
    'USER',
    'PROCESS',
    'DOMAIN',
    'COUNT',
    'FIRST SEEN',
    'LAST SEEN',
  ];
  const rows = groups.map((g) => [SEVERITY_LABEL[g.tier], ...row(g)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
