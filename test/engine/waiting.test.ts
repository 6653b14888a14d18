import { describe, expect, it } from 'vitest';
import { MAX_WAITING_CANDIDATES, resolveWaiting, scanObject } from '../../lib/engine/index.ts';
import { defaultRule } from '../../lib/rule/index.ts';
import { SOURCE_PLUGINS } from '../../lib/sources/index.ts';
import { aidmaster, dnsRequest, FDR_T0 } from '../helpers/falcon-records.ts';

const rule = defaultRule();

async function scan(text: string) {
  return scanObject(
    (async function* () {
      yield Buffer.from(text);
    })(),
    { origin: 's3://b/part-b', sources: SOURCE_PLUGINS, rule },
  );
}

describe('Engine: candidates waiting for context from another object', () => {
  it('hands back a listed query whose process is not in the object, as plain data', async () => {
    // Prepare
    const text = [aidmaster('a1', 'WKS-7'), dnsRequest('a1', '42', 'pastebin.com')].join('\n');

    // Act
    const result = await scan(text);

    // Assess
    expect(result.groups).toEqual([]);
    expect(result.stats.contextless).toBe(1);
    expect(result.waiting).toHaveLength(1);
    const [c] = result.waiting;
    expect(c).toMatchObject({ processKey: 'a1:42', hostname: 'pastebin.com.', host: 'WKS-7' });
    expect(JSON.parse(JSON.stringify(c))).toEqual(c);
  });

  it('does not keep an unlisted query', async () => {
    // Act
    const result = await scan(dnsRequest('a1', '42', 'example.com'));

    // Assess
    expect(result.waiting).toEqual([]);
    expect(result.stats.contextless).toBe(0);
  });

  it('evaluates a waiting candidate with the process context that arrived, through the rule', async () => {
    // Prepare
    const [c] = (await scan(dnsRequest('a1', '42', 'pastebin.com', FDR_T0))).waiting;

    // Act
    const powershell = resolveWaiting(
      rule,
      c!,
      { image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', user: 'jdoe' },
      'WKS-7',
    );
    const chrome = resolveWaiting(rule, c!, {
      image: 'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
    });

    // Assess
    expect(powershell?.key).toEqual({
      host: 'WKS-7',
      user: 'jdoe',
      process: 'powershell.exe',
      domain: 'pastebin.com',
    });
    expect(powershell?.event.time).toBe(FDR_T0);
    expect(chrome).toBeUndefined();
  });

  it(`keeps at most MAX_WAITING_CANDIDATES (${MAX_WAITING_CANDIDATES}) and counts the rest`, async () => {
    // Prepare
    const lines: string[] = [];
    for (let i = 0; i <= MAX_WAITING_CANDIDATES; i++) {
      lines.push(dnsRequest('a1', String(i), 'pastebin.com', FDR_T0 + i));
    }

    // Act
    const result = await scan(lines.join('\n'));

    // Assess
    expect(result.waiting).toHaveLength(MAX_WAITING_CANDIDATES);
    expect(result.stats.contextless).toBe(MAX_WAITING_CANDIDATES + 1);
  });
});
