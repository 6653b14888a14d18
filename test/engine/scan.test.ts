import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { AlertGroup } from '../../lib/alert/index.ts';
import { type SkippedRecord, scanObject } from '../../lib/engine/index.ts';
import { defaultRule } from '../../lib/rule/index.ts';
import { SOURCE_PLUGINS } from '../../lib/sources/index.ts';
import {
  chunks,
  falconGroup,
  falconLines,
  falconNdjson,
  sysmonDns,
  sysmonGroup,
} from './fixtures.ts';

const rule = defaultRule();

const keyOf = (g: AlertGroup) => ({
  host: g.key.host,
  user: g.key.user,
  process: g.key.process,
  domain: g.key.domain,
  count: g.count,
  firstSeen: g.firstSeen,
});

async function scan(parts: Uint8Array[], limits = {}) {
  const skips: SkippedRecord[] = [];
  const result = await scanObject(chunks(...parts), {
    origin: 'test://input',
    sources: SOURCE_PLUGINS,
    rule,
    limits,
    onSkip: (s) => skips.push(s),
  });
  return { result, skips, groups: result.groups.map(keyOf) };
}

describe('Reading: compression and text encoding', () => {
  const text = falconNdjson();

  it.each([
    ['plain UTF-8', [Buffer.from(text)]],
    ['UTF-8 with BOM', [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])]],
    ['gzip', [gzipSync(text)]],
    [
      'multi-member gzip (cat a.gz b.gz)',
      [
        Buffer.concat([
          gzipSync(`${falconLines.aidmaster}\n${falconLines.process}\n`),
          gzipSync(falconLines.dns),
        ]),
      ],
    ],
  ])('detects the group in %s', async (_name, parts) => {
    // Act
    const { groups, result } = await scan(parts);
    // Assess
    expect(groups).toEqual([falconGroup]);
    expect(result.damage).toBeUndefined();
  });

  it('decodes UTF-16LE with a BOM split at every byte position', async () => {
    // Prepare
    const xml = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`${sysmonDns('pastebin.com')}\r\n`, 'utf16le'),
    ]);
    for (let cut = 1; cut < xml.length; cut += 7) {
      // Act
      const { groups } = await scan([xml.subarray(0, cut), xml.subarray(cut)]);
      // Assess
      expect(groups, `cut at ${cut}`).toEqual([sysmonGroup]);
    }
  });

  it('decodes UTF-16BE with a BOM', async () => {
    // Prepare
    const le = Buffer.from(sysmonDns('pastebin.com'), 'utf16le');
    const be = Buffer.from(le).swap16();
    // Act
    const { groups } = await scan([Buffer.from([0xfe, 0xff]), be]);
    // Assess
    expect(groups).toEqual([sysmonGroup]);
  });

  it('decides by content, not by name: gzip bytes are gunzipped whatever they are called', async () => {
    // Act
    const { result } = await scan([gzipSync(sysmonDns('pastebin.com'))]);
    // Assess
    expect(result.source).toBe('sysmon');
    expect(result.groups).toHaveLength(1);
  });
});

describe('Bad input: a clear, located skip, and nothing else lost', () => {
  it('scans the records before the damage in a truncated gzip and reports the damage', async () => {
    // Prepare: many valid lines, then cut the compressed stream short
    const noise = Array.from(
      { length: 2000 },
      (_, i) => `{"event_simpleName":"EndOfProcess","aid":"a1","n":"${i}"}`,
    );
    const gz = gzipSync(falconNdjson(...noise) + '\n'.concat(noise.join('\n')));
    // Act
    const { result, groups } = await scan([gz.subarray(0, Math.floor(gz.length * 0.9))]);
    // Assess
    expect(groups).toEqual([falconGroup]);
    expect(result.damage?.reason).toBe('truncated-gzip');
  });

  it('reports bytes that are neither gzip nor text', async () => {
    // Prepare: a PNG header and binary noise
    const png = Buffer.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
    ]);
    // Act
    const { result } = await scan([png]);
    // Assess
    expect(result.damage?.reason).toBe('not-text');
    expect(result.damage?.message).toMatch(
      /neither gzip, zstd nor text|not Sysmon XML nor Falcon JSON/,
    );
    expect(result.groups).toEqual([]);
  });

  it('refuses an XML bomb in well under a second without expanding it', async () => {
    // Prepare: the billion-laughs DOCTYPE, then a valid event that uses the entity and one that matches
    const lol = ['<!ENTITY lol "lol">'];
    for (let i = 1; i <= 9; i++)
      lol.push(`<!ENTITY lol${i} "${`&lol${i - 1 || ''};`.repeat(10)}">`);
    const bomb = `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n${lol.join('\n')}\n]>\n<Events>${sysmonDns('&lol9;')}${sysmonDns('pastebin.com')}</Events>`;
    const before = process.memoryUsage().rss;
    const started = performance.now();
    // Act
    const { result, skips, groups } = await scan([Buffer.from(bomb)]);
    // Assess
    expect(performance.now() - started).toBeLessThan(500);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
    expect(skips.map((s) => s.reason)).toContain('xml-dtd-refused');
    expect(skips.find((s) => s.reason === 'xml-dtd-refused')?.offset).toBe(22);
    expect(groups).toEqual([sysmonGroup]);
    expect(result.stats.skipped['xml-dtd-refused']).toBe(1);
  });

  it('refuses a DOCTYPE inside an <Event>', async () => {
    // Prepare
    const evil = sysmonDns('pastebin.com').replace(
      '<System>',
      '<!DOCTYPE x [<!ENTITY y "z">]><System>',
    );
    // Act
    const { skips, groups } = await scan([Buffer.from(evil + sysmonDns('pastebin.com'))]);
    // Assess
    expect(skips.map((s) => [s.reason, s.record])).toEqual([['xml-dtd-refused', 1]]);
    expect(groups).toEqual([sysmonGroup]);
  });

  it('skips a 50 MiB single line and still detects the records around it', async () => {
    // Prepare: the huge line arrives in 1 MiB chunks, as a stream would deliver it
    const huge = Buffer.alloc(50 * 1024 * 1024, 'a');
    const parts: Buffer[] = [
      Buffer.from(`${falconLines.aidmaster}\n${falconLines.process}\n{"x":"`),
    ];
    for (let i = 0; i < huge.length; i += 1024 * 1024)
      parts.push(huge.subarray(i, i + 1024 * 1024));
    parts.push(Buffer.from(`"}\n${falconLines.dns}\n`));
    // Act
    const { skips, groups } = await scan(parts);
    // Assess
    expect(skips.map((s) => [s.reason, s.record])).toEqual([['record-too-large', 3]]);
    expect(groups).toEqual([falconGroup]);
  });

  it('skips a record with invalid UTF-8 and names its line', async () => {
    // Prepare: a DNS line for a listed domain with a lone continuation byte in it
    const bad = Buffer.from(
      falconLines.dns.replace('pastebin.com.', 'gist.github.com.').replace('a1', 'a1\u0000'),
    );
    bad[bad.indexOf(0)] = 0x80;
    const text = Buffer.concat([
      Buffer.from(`${falconLines.aidmaster}\n${falconLines.process}\n`),
      bad,
      Buffer.from(`\n${falconLines.dns}\n`),
    ]);
    // Act
    const { skips, groups } = await scan([text]);
    // Assess
    expect(skips.map((s) => [s.reason, s.record])).toEqual([['invalid-encoding', 3]]);
    expect(groups).toEqual([falconGroup]);
  });

  it('reads an empty object as no records and no damage', async () => {
    // Act
    const { result } = await scan([]);
    // Assess
    expect(result.stats.recordsRead).toBe(0);
    expect(result.groups).toEqual([]);
    expect(result.damage).toBeUndefined();
  });

  it.each([
    ['an array', '[1,2,3]'],
    ['a string', '"pastebin.com"'],
    ['null', 'null'],
  ])('skips a JSON line that is %s, not an object', async (_name, line) => {
    // Act
    const { skips, groups } = await scan([Buffer.from(falconNdjson(line))]);
    // Assess
    expect(skips.map((s) => [s.reason, s.record])).toEqual([['not-an-object', 3]]);
    expect(groups).toEqual([falconGroup]);
  });

  it('skips a line that is not JSON, with its line number and offset', async () => {
    // Act
    const { skips, groups } = await scan([
      Buffer.from(falconNdjson('{"event_simpleName":"DnsRequest", oops')),
    ]);
    // Assess
    expect(skips).toHaveLength(1);
    expect(skips[0]).toMatchObject({ reason: 'invalid-json', record: 3, origin: 'test://input' });
    expect(skips[0]!.offset).toBe(falconLines.aidmaster.length + falconLines.process.length + 2);
    expect(groups).toEqual([falconGroup]);
  });

  it('skips an <Event> that never closes and detects the one before it', async () => {
    // Act
    const { skips, groups } = await scan([
      Buffer.from(`${sysmonDns('pastebin.com')}<Event xmlns='x'><System><EventID>22`),
    ]);
    // Assess
    expect(skips.map((s) => [s.reason, s.record])).toEqual([['unclosed-event', 2]]);
    expect(groups).toEqual([sysmonGroup]);
  });

  it('stops at the decompressed-size bound and says so', async () => {
    // Act
    const { result } = await scan([gzipSync(falconNdjson())], { maxDecompressedBytes: 100 });
    // Assess: damage that reading again cannot mend, unlike a failed read
    expect(result.damage?.reason).toBe('too-large');
    expect(result.damage?.message).toMatch(/MAX_DECOMPRESSED_BYTES/);
  });
});

describe('Sysmon character references', () => {
  it('decodes &amp; and &#174; in fields it reads', async () => {
    // Prepare: a process create whose command line holds both, then its DNS query
    const create = sysmonDns('x')
      .replace('<EventID>22</EventID>', '<EventID>1</EventID>')
      .replace(
        /<Data Name='QueryName'>x<\/Data>/,
        "<Data Name='CommandLine'>powershell -c &quot;iwr https://pastebin.com/raw/x&quot; &amp;&amp; echo Microsoft&#174;</Data><Data Name='ParentImage'>C:\\Windows\\explorer.exe</Data>",
      );
    // Act
    const result = await scanObject(chunks(Buffer.from(create + sysmonDns('pastebin.com'))), {
      origin: 't',
      sources: SOURCE_PLUGINS,
      rule,
    });
    // Assess
    expect(result.groups[0]?.evidence.commandLines).toEqual([
      'powershell -c "iwr https://pastebin.com/raw/x" && echo Microsoft®',
    ]);
  });
});
