/**
 * Falcon Data Replicator records as NDJSON lines, for tests that need objects of a chosen shape:
 * the host name (`aidmaster`), a process (`ProcessRollup2`) and its DNS requests.
 */

/** 2024-03-05T09:14:22Z, the time the records start at. */
export const FDR_T0 = 1_709_630_062_000;

const POWERSHELL =
  '\\Device\\HarddiskVolume2\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';

export const aidmaster = (aid: string, host: string): string =>
  JSON.stringify({ aid, ComputerName: host, event_platform: 'Win', cid: 'c1' });

export const powershell = (aid: string, pid: string, t = FDR_T0, user = 'jdoe'): string =>
  JSON.stringify({
    event_simpleName: 'ProcessRollup2',
    aid,
    TargetProcessId: pid,
    ImageFileName: POWERSHELL,
    CommandLine: 'powershell.exe -nop -w hidden',
    ParentBaseFileName: 'explorer.exe',
    UserName: user,
    timestamp: String(t),
  });

export const dnsRequest = (aid: string, pid: string, domain: string, t = FDR_T0 + 500): string =>
  JSON.stringify({
    event_simpleName: 'DnsRequest',
    aid,
    ContextProcessId: pid,
    DomainName: `${domain}.`,
    timestamp: String(t),
    ContextTimeStamp: `${t / 1000}`,
  });

/**
 * One host (`aid` a1, WKS-7), one powershell process, and a DNS request to each of `domains`:
 * one alert group per distinct domain.
 */
export function powershellQuerying(domains: readonly string[]): string {
  const lines = [aidmaster('a1', 'WKS-7'), powershell('a1', '1000')];
  domains.forEach((d, i) => {
    lines.push(dnsRequest('a1', '1000', d, FDR_T0 + 500 + i));
  });
  return `${lines.join('\n')}\n`;
}
