import { describe, expect, it } from 'vitest';
import { loadDefaultRule } from '../../lib/rule/index.ts';
import {
  SPEC_EXCLUDED_CLIENTS,
  SPEC_OFFICE_PARENTS,
  SPEC_SUSPICIOUS_POSIX,
  SPEC_SUSPICIOUS_WINDOWS,
} from './spec-lists.ts';

const WINWORD = 'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE';
const EXPLORER = 'C:\\Windows\\explorer.exe';
const DROPPED_CHILD = 'C:\\Users\\alice\\AppData\\Local\\Temp\\invoice.exe';

describe('Matcher: suspicious processes (SPEC §1 clause 4)', () => {
  it.each(SPEC_SUSPICIOUS_WINDOWS)('treats %s under a Windows path as suspicious', (name) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const result = rule.processCouldMatch({
      image: `C:\\Windows\\System32\\${name}`,
      originalFileName: undefined,
      parentImage: EXPLORER,
    });

    // Assess
    expect(result).toBe(true);
  });

  it.each(SPEC_SUSPICIOUS_WINDOWS)(
    'treats %s in upper case as a bare name as suspicious',
    (name) => {
      // Prepare
      const rule = loadDefaultRule();

      // Act
      const result = rule.processCouldMatch({
        image: name.toUpperCase(),
        originalFileName: undefined,
        parentImage: undefined,
      });

      // Assess
      expect(result).toBe(true);
    },
  );

  it.each(SPEC_SUSPICIOUS_POSIX)('treats /usr/bin/%s on Linux and macOS as suspicious', (name) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const result = rule.processCouldMatch({
      image: `/usr/bin/${name}`,
      originalFileName: undefined,
      parentImage: '/bin/bash',
    });

    // Assess
    expect(result).toBe(true);
  });

  it.each([
    '/usr/bin/python3.11',
    '/usr/local/bin/python3.9',
    '/opt/homebrew/bin/python3.12',
    '/usr/bin/python3.100',
  ])('treats the versioned python3.N %s as suspicious', (image) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const result = rule.processCouldMatch({
      image,
      originalFileName: undefined,
      parentImage: undefined,
    });

    // Assess
    expect(result).toBe(true);
  });

  it.each([
    '/usr/bin/python3.x',
    '/usr/bin/python3.',
    '/usr/bin/python3.11a',
    '/usr/bin/python31',
    '/usr/bin/python2.7',
    '/usr/bin/curlftpfs',
    '/usr/bin/nodejs-helper',
    'C:\\Windows\\System32\\notepad.exe',
    'C:\\Windows\\System32\\xcmd.exe',
    'C:\\Windows\\System32\\cmd.exe.bak',
  ])('does not treat %s as suspicious', (image) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const result = rule.processCouldMatch({
      image,
      originalFileName: undefined,
      parentImage: EXPLORER,
    });

    // Assess
    expect(result).toBe(false);
  });

  it('reads a basename after forward slashes in a Windows path', () => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const result = rule.processCouldMatch({
      image: 'C:/Windows/System32/WindowsPowerShell/v1.0/powershell.exe',
      originalFileName: undefined,
      parentImage: undefined,
    });

    // Assess
    expect(result).toBe(true);
  });

  it('reads a basename from a Falcon device path', () => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const result = rule.processCouldMatch({
      image: '\\Device\\HarddiskVolume3\\Windows\\System32\\wbem\\WMIC.exe',
      originalFileName: undefined,
      parentImage: undefined,
    });

    // Assess
    expect(result).toBe(true);
  });
});

describe('Matcher: excluded clients (SPEC §1 clause 3)', () => {
  it.each(SPEC_EXCLUDED_CLIENTS)('excludes %s', (name) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const result = rule.processCouldMatch({
      image: `C:\\Program Files\\Vendor\\${name}`,
      originalFileName: undefined,
      parentImage: EXPLORER,
    });

    // Assess
    expect(result).toBe(false);
  });

  it.each(SPEC_EXCLUDED_CLIENTS)('excludes %s even when an Office app launched it', (name) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const result = rule.processCouldMatch({
      image: `C:\\Program Files\\Vendor\\${name.toUpperCase()}`,
      originalFileName: undefined,
      parentImage: WINWORD,
    });

    // Assess
    expect(result).toBe(false);
  });

  it.each(SPEC_EXCLUDED_CLIENTS)(
    'excludes %s renamed to powershell.exe (identity from OriginalFileName)',
    (name) => {
      // Prepare
      const rule = loadDefaultRule();

      // Act
      const result = rule.processCouldMatch({
        image: 'C:\\Users\\Public\\powershell.exe',
        originalFileName: name,
        parentImage: EXPLORER,
      });

      // Assess
      expect(result).toBe(false);
    },
  );

  it.each(SPEC_EXCLUDED_CLIENTS)('does not exclude PowerShell renamed to %s', (name) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const result = rule.processCouldMatch({
      image: `C:\\Users\\Public\\${name}`,
      originalFileName: 'PowerShell.EXE',
      parentImage: EXPLORER,
    });

    // Assess
    expect(result).toBe(true);
  });

  it('takes the image name as identity when OriginalFileName is absent ("-")', () => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const result = rule.processCouldMatch({
      image: 'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
      originalFileName: '-',
      parentImage: WINWORD,
    });

    // Assess
    expect(result).toBe(false);
  });

  it('takes the image name as identity when the binary has no version resource ("?")', () => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const result = rule.processCouldMatch({
      image: 'C:\\Program Files\\Mozilla Firefox\\firefox.exe',
      originalFileName: '?',
      parentImage: WINWORD,
    });

    // Assess
    expect(result).toBe(false);
  });

  it('matches a renamed binary whose identity is suspicious though its image name is not', () => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const result = rule.processCouldMatch({
      image: 'C:\\ProgramData\\svc\\updater.exe',
      originalFileName: 'certutil.exe',
      parentImage: EXPLORER,
    });

    // Assess
    expect(result).toBe(true);
  });
});

describe('Matcher: Office/PDF parents (SPEC §1 clause 4)', () => {
  it.each(SPEC_OFFICE_PARENTS)('matches an unlisted child of %s', (parent) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const result = rule.processCouldMatch({
      image: DROPPED_CHILD,
      originalFileName: undefined,
      parentImage: `C:\\Program Files\\Vendor\\${parent}`,
    });

    // Assess
    expect(result).toBe(true);
  });

  it.each(SPEC_OFFICE_PARENTS)(
    'matches an unlisted child of %s in upper case as a bare name',
    (parent) => {
      // Prepare
      const rule = loadDefaultRule();

      // Act
      const result = rule.processCouldMatch({
        image: 'invoice.exe',
        originalFileName: undefined,
        parentImage: parent.toUpperCase(),
      });

      // Assess
      expect(result).toBe(true);
    },
  );

  it.each([
    ['explorer.exe', EXPLORER],
    ['svchost.exe', 'C:\\Windows\\System32\\svchost.exe'],
    [
      'powershell.exe (a suspicious parent is not an Office parent)',
      'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
    ],
    ['no parent', undefined],
  ])('does not match an unlisted child of %s', (_label, parentImage) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const result = rule.processCouldMatch({
      image: DROPPED_CHILD,
      originalFileName: undefined,
      parentImage,
    });

    // Assess
    expect(result).toBe(false);
  });
});

describe('Matcher: a process nobody can name', () => {
  it.each([
    ['an absent image', undefined],
    ['an empty image', ''],
    ['Sysmon <unknown process>', '<unknown process>'],
    ['Sysmon "-"', '-'],
  ])('is not suspicious with %s, even under an Office parent', (_label, image) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const result = rule.processCouldMatch({
      image,
      originalFileName: undefined,
      parentImage: WINWORD,
    });

    // Assess
    expect(result).toBe(false);
  });

  it('is not suspicious even when an OriginalFileName is attached to <unknown process>', () => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const result = rule.processCouldMatch({
      image: '<unknown process>',
      originalFileName: 'PowerShell.EXE',
      parentImage: undefined,
    });

    // Assess
    expect(result).toBe(false);
  });
});

describe('Matcher: process names of interest', () => {
  it.each([
    ...SPEC_SUSPICIOUS_WINDOWS,
    ...SPEC_SUSPICIOUS_POSIX,
    'python3.11',
    ...SPEC_EXCLUDED_CLIENTS,
    ...SPEC_OFFICE_PARENTS,
  ])('reports %s as a name of interest', (name) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const result = rule.isProcessNameOfInterest(name);

    // Assess
    expect(result).toBe(true);
  });

  it.each(['notepad.exe', 'explorer.exe', 'svchost.exe', 'python3.x', 'bash'])(
    'does not report %s as a name of interest',
    (name) => {
      // Prepare
      const rule = loadDefaultRule();

      // Act
      const result = rule.isProcessNameOfInterest(name);

      // Assess
      expect(result).toBe(false);
    },
  );
});
