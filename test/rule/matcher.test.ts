import { describe, expect, it } from 'vitest';
import { loadDefaultRule } from '../../lib/rule/index.ts';
import { matchInput } from './helpers.ts';
import {
  SPEC_EXCLUDED_CLIENTS,
  SPEC_HIGH_DOMAINS,
  SPEC_MEDIUM_DOMAINS,
  SPEC_OFFICE_PARENTS,
  SPEC_SUSPICIOUS_POSIX,
  SPEC_SUSPICIOUS_WINDOWS,
  SPEC_USER_WRITABLE,
} from './spec-lists.ts';

const rule = loadDefaultRule();
const POWERSHELL = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';
const OUTLOOK = 'C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE';
const PROGRAM = 'C:\\Program Files\\Contoso\\contoso.exe';

/** A path in the client's home: the marker is a folder, or the start of one (`\windowsapps\msteams`). */
const atHome = (name: string, home: string): string =>
  `C:\\Program Files${home}${home.endsWith('\\') ? '' : '_24004_x64\\'}${name}`;
const impostor = (name: string): string => `C:\\Users\\mallory\\AppData\\Roaming\\${name}`;

describe('Matcher: domain tiers', () => {
  it.each(SPEC_HIGH_DOMAINS)('puts %s and its subdomains in the high tier', (domain) => {
    // Act
    const own = rule.match(matchInput({ hostname: domain, image: POWERSHELL }));
    const sub = rule.match(matchInput({ hostname: `c2.${domain}.`, image: POWERSHELL }));

    // Assess
    expect(own).toEqual({ domain, tier: 'high' });
    expect(sub).toEqual({ domain, tier: 'high' });
  });

  it.each(SPEC_MEDIUM_DOMAINS)('puts %s and its subdomains in the medium tier', (domain) => {
    // Act
    const own = rule.match(matchInput({ hostname: domain.toUpperCase(), image: POWERSHELL }));

    // Assess
    expect(own).toEqual({ domain, tier: 'medium' });
  });

  it.each([
    ['hooks.slack.com', 'hooks.slack.com', 'high'],
    ['x.hooks.slack.com', 'hooks.slack.com', 'high'],
    ['api.slack.com', 'slack.com', 'medium'],
    ['cdn.discordapp.com', 'discordapp.com', 'high'],
    ['firebase.googleapis.com', 'googleapis.com', 'medium'],
    ['gist.github.com', 'gist.github.com', 'high'],
    ['codeload.github.com', 'github.com', 'medium'],
  ])('gives %s the tier of its longest listed domain (%s)', (hostname, domain, tier) => {
    // Act
    const listed = rule.listedDomain(hostname);

    // Assess
    expect(listed).toEqual({ domain, tier });
  });

  it.each([
    'evilpastebin.com',
    'pastebin.com.evil.io',
    'not-t.me',
    't.me.example.net',
    'workers.dev.example.com',
    'abc.trycloudflare.com',
    '',
  ])('lists no domain for the look-alike or unlisted %j', (hostname) => {
    // Act
    const listed = rule.match(matchInput({ hostname, image: POWERSHELL }));

    // Assess
    expect(listed).toBeUndefined();
  });
});

describe('Matcher: branch a, suspicious processes', () => {
  it.each(SPEC_SUSPICIOUS_WINDOWS)('lets %s under a Windows path reach every tier', (name) => {
    // Act
    const reach = rule.processReach({
      image: `C:\\Windows\\System32\\${name.toUpperCase()}`,
      originalFileName: undefined,
      parentImage: undefined,
    });

    // Assess
    expect(reach).toBe('any');
  });

  it.each([...SPEC_SUSPICIOUS_POSIX, 'python3.11', 'python3.9'])(
    'lets /usr/bin/%s reach every tier',
    (name) => {
      // Act
      const matched = rule.match(
        matchInput({ kind: 'network', hostname: 'graph.microsoft.com', image: `/usr/bin/${name}` }),
      );

      // Assess
      expect(matched?.tier).toBe('medium');
    },
  );

  it.each(['python3.x', 'python3.', 'bash', 'notepad.exe'])('does not count %s', (name) => {
    // Act
    const reach = rule.processReach({
      image: `C:\\Program Files\\Tools\\${name}`,
      originalFileName: undefined,
      parentImage: undefined,
    });

    // Assess
    expect(reach).toBe('none');
  });

  it('takes the identity from OriginalFileName: a renamed PowerShell is suspicious', () => {
    // Act
    const reach = rule.processReach({
      image: 'C:\\Program Files\\Contoso\\update.exe',
      originalFileName: 'PowerShell.EXE',
      parentImage: undefined,
    });

    // Assess
    expect(reach).toBe('any');
  });

  it.each(['-', '?', ''])('takes the image name as identity when OriginalFileName is %j', (ofn) => {
    // Act
    const reach = rule.processReach({
      image: POWERSHELL,
      originalFileName: ofn,
      parentImage: undefined,
    });

    // Assess
    expect(reach).toBe('any');
  });
});

describe('Matcher: branch b, Office/PDF parents', () => {
  it.each(SPEC_OFFICE_PARENTS)('lets an unlisted child of %s reach every tier', (parent) => {
    // Act
    const matched = rule.match(
      matchInput({
        hostname: 'docs.google.com',
        image: PROGRAM,
        parentImage: `C:\\Program Files\\Vendor\\${parent.toUpperCase()}`,
      }),
    );

    // Assess
    expect(matched).toEqual({ domain: 'docs.google.com', tier: 'medium' });
  });
});

describe('Matcher: branch c, an image in a user-writable location', () => {
  it.each(SPEC_USER_WRITABLE)('lets an image under %s reach high-tier domains only', (marker) => {
    // Prepare
    const image = `C:${marker.replace(/\\$/, '')}\\x\\implant.exe`;

    // Act
    const high = rule.match(matchInput({ hostname: 'api.telegram.org', image }));
    const medium = rule.match(matchInput({ hostname: 'graph.microsoft.com', image }));

    // Assess
    expect(high).toEqual({ domain: 'api.telegram.org', tier: 'high' });
    expect(medium).toBeUndefined();
  });

  it('reads a POSIX path with / as \\', () => {
    // Act
    const reach = rule.processReach({
      image: '/var/tmp/.cache/agent',
      originalFileName: undefined,
      parentImage: undefined,
    });

    // Assess
    expect(reach).toBe('high');
  });

  it.each([
    ['a program in Program Files', PROGRAM],
    ['a bare image name (the path is unknown)', 'implant.exe'],
    ['a marker that is only part of a folder name', 'C:\\Users\\alice\\MyAppData\\x.exe'],
  ])('does not hold for %s', (_label, image) => {
    // Act
    const reach = rule.processReach({ image, originalFileName: undefined, parentImage: undefined });

    // Assess
    expect(reach).toBe('none');
  });
});

describe('Matcher: excluded clients, where they live (clause 3)', () => {
  const homes = SPEC_EXCLUDED_CLIENTS.flatMap((c) => c.homes.map((h) => [c.name, h] as const));

  it.each(homes)('excludes %s in its home %s, even under Outlook', (name, home) => {
    // Act
    const reach = rule.processReach({
      image: atHome(name, home),
      originalFileName: undefined,
      parentImage: OUTLOOK,
    });

    // Assess
    expect(reach).toBe('none');
  });

  it.each(SPEC_EXCLUDED_CLIENTS.map((c) => c.name))(
    'does not exclude an impostor %s in AppData\\Roaming started by Outlook',
    (name) => {
      // Act
      const underOutlook = rule.processReach({
        image: impostor(name),
        originalFileName: undefined,
        parentImage: OUTLOOK,
      });
      const alone = rule.match(matchInput({ hostname: 'pastebin.com', image: impostor(name) }));

      // Assess
      expect(underOutlook).toBe('any');
      expect(alone?.tier).toBe('high');
    },
  );

  it.each(SPEC_EXCLUDED_CLIENTS.map((c) => c.name))(
    'excludes %s when only its name is known (Falcon ContextBaseFileName)',
    (name) => {
      // Act
      const reach = rule.processReach({
        image: name,
        originalFileName: undefined,
        parentImage: 'outlook.exe',
      });

      // Assess
      expect(reach).toBe('none');
    },
  );

  it('excludes Slack at home whatever OriginalFileName its Electron build carries', () => {
    // Act
    const reach = rule.processReach({
      image: 'C:\\Users\\alice\\AppData\\Local\\slack\\app-4.41.105\\slack.exe',
      originalFileName: 'electron.exe',
      parentImage: OUTLOOK,
    });

    // Assess
    expect(reach).toBe('none');
  });

  it('excludes a binary whose identity is a client in that client home', () => {
    // Act
    const reach = rule.processReach({
      image: 'C:\\Program Files\\Google\\Chrome\\Application\\powershell.exe',
      originalFileName: 'chrome.exe',
      parentImage: undefined,
    });

    // Assess
    expect(reach).toBe('none');
  });

  it("does not let chrome's OriginalFileName excuse a powershell.exe outside chrome's home", () => {
    // Act
    const reach = rule.processReach({
      image: 'C:\\Users\\Public\\powershell.exe',
      originalFileName: 'chrome.exe',
      parentImage: undefined,
    });

    // Assess
    expect(reach).toBe('any');
  });

  it("does not take another client's home: chrome.exe in Firefox's folder", () => {
    // Act
    const reach = rule.processReach({
      image: 'C:\\Program Files\\Mozilla Firefox\\chrome.exe',
      originalFileName: undefined,
      parentImage: OUTLOOK,
    });

    // Assess
    expect(reach).toBe('any');
  });
});

describe('Matcher: a process nobody can name', () => {
  it.each([
    ['<unknown process>', undefined],
    ['<unknown process>', 'powershell.exe'],
    ['-', undefined],
    [undefined, undefined],
  ])('matches no branch for image %j (OriginalFileName %j)', (image, originalFileName) => {
    // Act
    const matched = rule.match(
      matchInput({
        hostname: 'raw.githubusercontent.com',
        image,
        originalFileName,
        parentImage: OUTLOOK,
      }),
    );

    // Assess
    expect(matched).toBeUndefined();
  });
});

describe('Matcher: event kinds', () => {
  it.each(['dns', 'network', 'process'] as const)('matches a %s event alike', (kind) => {
    // Act
    const matched = rule.match(matchInput({ kind, hostname: 'pastebin.com', image: POWERSHELL }));

    // Assess
    expect(matched).toEqual({ domain: 'pastebin.com', tier: 'high' });
  });

  it('does not match an event without a hostname', () => {
    // Act
    const matched = rule.match(matchInput({ kind: 'network', image: POWERSHELL }));

    // Assess
    expect(matched).toBeUndefined();
  });
});
