import { describe, expect, it } from 'vitest';
import type { MatchInput } from '../../lib/rule/index.ts';
import { loadDefaultRule } from '../../lib/rule/index.ts';
import { matchInput } from './helpers.ts';

const POWERSHELL = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';
const WINWORD = 'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE';

describe('Matcher: the whole rule (SPEC §1)', () => {
  it.each(['dns', 'network'] as const)(
    'matches a %s event to a listed domain by PowerShell',
    (kind) => {
      // Prepare
      const rule = loadDefaultRule();
      const input = matchInput({ kind, hostname: 'pastebin.com', image: POWERSHELL });

      // Act
      const result = rule.matches(input);

      // Assess
      expect(result).toBe(true);
    },
  );

  it('does not match an event that is neither a DNS query nor a connection', () => {
    // Prepare
    const rule = loadDefaultRule();
    const input = matchInput({
      kind: 'process' as unknown as MatchInput['kind'],
      hostname: 'pastebin.com',
      image: POWERSHELL,
    });

    // Act
    const result = rule.matches(input);

    // Assess
    expect(result).toBe(false);
  });

  it.each([
    ['no hostname', undefined],
    ['an empty hostname', ''],
  ])('does not match a connection with %s', (_label, hostname) => {
    // Prepare
    const rule = loadDefaultRule();
    const input = matchInput({ kind: 'network', hostname, image: POWERSHELL });

    // Act
    const result = rule.matches(input);

    // Assess
    expect(result).toBe(false);
  });

  it.each([
    [
      'api.telegram.org. (trailing dot) by python.exe',
      'api.telegram.org.',
      'C:\\Python311\\python.exe',
      undefined,
    ],
    [
      'cdn.discordapp.com by wscript.exe',
      'cdn.discordapp.com',
      'C:\\Windows\\System32\\wscript.exe',
      undefined,
    ],
    [
      'raw.githubusercontent.com by /usr/bin/curl on Linux',
      'raw.githubusercontent.com',
      '/usr/bin/curl',
      undefined,
    ],
    ['api.github.com by python3.11 on Linux', 'api.github.com', '/usr/bin/python3.11', undefined],
    ['gist.github.com by osascript on macOS', 'gist.github.com', '/usr/bin/osascript', undefined],
    ['GRAPH.MICROSOFT.COM by PowerShell', 'GRAPH.MICROSOFT.COM', POWERSHELL, undefined],
    [
      'drive.google.com by an unlisted child of winword.exe',
      'drive.google.com',
      'C:\\Users\\alice\\AppData\\Local\\Temp\\a.exe',
      WINWORD,
    ],
  ])('matches %s', (_label, hostname, image, parentImage) => {
    // Prepare
    const rule = loadDefaultRule();
    const input = matchInput({ kind: 'dns', hostname, image, parentImage });

    // Act
    const result = rule.matches(input);

    // Assess
    expect(result).toBe(true);
  });

  it.each([
    ['evilpastebin.com by PowerShell', 'evilpastebin.com', POWERSHELL, undefined, undefined],
    [
      'pastebin.com.evil.io by PowerShell',
      'pastebin.com.evil.io',
      POWERSHELL,
      undefined,
      undefined,
    ],
    ['www.microsoft.com by PowerShell', 'www.microsoft.com', POWERSHELL, undefined, undefined],
    [
      'pastebin.com by notepad.exe under explorer.exe',
      'pastebin.com',
      'C:\\Windows\\notepad.exe',
      undefined,
      'C:\\Windows\\explorer.exe',
    ],
    [
      'pastebin.com by msedge.exe under winword.exe',
      'pastebin.com',
      'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe',
      undefined,
      WINWORD,
    ],
    [
      'pastebin.com by chrome renamed to powershell.exe',
      'pastebin.com',
      'C:\\Users\\Public\\powershell.exe',
      'chrome.exe',
      undefined,
    ],
    [
      'raw.githubusercontent.com by <unknown process>',
      'raw.githubusercontent.com',
      '<unknown process>',
      undefined,
      undefined,
    ],
  ])('does not match %s', (_label, hostname, image, originalFileName, parentImage) => {
    // Prepare
    const rule = loadDefaultRule();
    const input = matchInput({ kind: 'network', hostname, image, originalFileName, parentImage });

    // Act
    const result = rule.matches(input);

    // Assess
    expect(result).toBe(false);
  });

  it('matches PowerShell renamed to chrome.exe', () => {
    // Prepare
    const rule = loadDefaultRule();
    const input = matchInput({
      kind: 'dns',
      hostname: 'paste.ee',
      image: 'C:\\Users\\Public\\chrome.exe',
      originalFileName: 'PowerShell.EXE',
    });

    // Act
    const result = rule.matches(input);

    // Assess
    expect(result).toBe(true);
  });
});
