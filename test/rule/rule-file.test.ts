import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_RULE_PATH,
  defaultRule,
  loadDefaultRule,
  loadRule,
  MAX_RULE_FILE_BYTES,
  RuleError,
  RuleLoadError,
} from '../../lib/rule/index.ts';
import { matchTestEvent, thrown } from './helpers.ts';
import {
  SPEC_EXCLUDED_CLIENTS,
  SPEC_HIGH_DOMAINS,
  SPEC_MEDIUM_DOMAINS,
  SPEC_OFFICE_PARENTS,
  SPEC_SUSPICIOUS_POSIX,
  SPEC_SUSPICIOUS_WINDOWS,
  SPEC_USER_WRITABLE,
  VERSIONED_PYTHON3_ENTRY,
} from './spec-lists.ts';

const sorted = (values: readonly string[]): string[] => [...values].sort();

/** The seeds' "False Positives & Tuning" notes (QRadar then LogScale), by their opening words. */
const SEED_FALSE_POSITIVE_OPENINGS = [
  'Administrative PowerShell scripts legitimately querying Microsoft Graph API or OneDrive',
  'Developer tools (node.exe, python.exe) on developer workstations',
  'Backup or sync agents not included in the exclusion list',
  'PowerShell scripts used in endpoint management platforms (SCCM, Intune, Ansible)',
  'Python-based devops tooling on build servers',
  'Node.js applications running as Windows services',
];

describe('Rule file: lib/rules/t1102-web-service.json', () => {
  it("lists exactly the contract's domains in each tier", () => {
    // Prepare
    const { rule } = loadDefaultRule();

    // Act
    const { high, medium } = rule.lists.domains;

    // Assess
    expect(sorted(high)).toEqual(sorted(SPEC_HIGH_DOMAINS));
    expect(sorted(medium)).toEqual(sorted(SPEC_MEDIUM_DOMAINS));
  });

  it("lists exactly the contract's excluded clients, each with its homes", () => {
    // Prepare
    const { rule } = loadDefaultRule();

    // Act
    const excluded = rule.lists.excludedClients.map((c) => [c.name, sorted(c.homes)]);

    // Assess
    expect(excluded.sort()).toEqual(
      SPEC_EXCLUDED_CLIENTS.map((c) => [c.name, sorted(c.homes)]).sort(),
    );
  });

  it("lists exactly the contract's user-writable markers", () => {
    // Prepare
    const { rule } = loadDefaultRule();

    // Act
    const markers = sorted(rule.lists.userWritablePaths);

    // Assess
    expect(markers).toEqual(sorted(SPEC_USER_WRITABLE));
  });

  it('lists exactly the suspicious processes of the contract, with python3.N as one wildcard entry', () => {
    // Prepare
    const { rule } = loadDefaultRule();

    // Act
    const suspicious = sorted(rule.lists.suspiciousProcesses);

    // Assess
    expect(suspicious).toEqual(
      sorted([...SPEC_SUSPICIOUS_WINDOWS, ...SPEC_SUSPICIOUS_POSIX, VERSIONED_PYTHON3_ENTRY]),
    );
  });

  it('lists exactly the Office/PDF parents of the contract', () => {
    // Prepare
    const { rule } = loadDefaultRule();

    // Act
    const parents = sorted(rule.lists.officeParents);

    // Assess
    expect(parents).toEqual(sorted(SPEC_OFFICE_PARENTS));
  });

  it('is rule version 2 with the T1102 / TA0011 mapping', () => {
    // Prepare
    const { rule } = loadDefaultRule();

    // Act
    const { version, attack, references } = rule;

    // Assess
    expect(version).toBe(2);
    expect(attack).toEqual({
      technique: { uid: 'T1102', name: 'Web Service' },
      tactic: { uid: 'TA0011', name: 'Command and Control' },
    });
    expect(references).toContain('https://attack.mitre.org/techniques/T1102/');
  });

  it.each(SEED_FALSE_POSITIVE_OPENINGS)('keeps the seed false-positive note "%s…"', (opening) => {
    // Prepare
    const { rule } = loadDefaultRule();

    // Act
    const note = rule.falsePositives.find((text) => text.startsWith(opening));

    // Assess
    expect(note).toBeDefined();
  });

  it.each(loadDefaultRule().rule.tests.positive.map((c) => [c.name, c] as const))(
    'matches its own positive test: %s',
    (_name, testCase) => {
      // Prepare
      const rule = loadDefaultRule();

      // Act
      const result = matchTestEvent(rule, testCase.event);

      // Assess
      expect(result).toBeDefined();
      if (testCase.tier) expect(result?.tier).toBe(testCase.tier);
    },
  );

  it.each([
    ['branch a (suspicious process)', 'branch a'],
    ['branch b (Office/PDF parent)', 'branch b'],
    ['branch c (user-writable image)', 'branch c'],
    ['the high tier', 'high tier'],
    ['the medium tier', 'medium tier'],
    ['a process start', 'process start'],
  ])('has positive tests for %s', (_label, words) => {
    // Prepare
    const { rule } = loadDefaultRule();

    // Act
    const cases = rule.tests.positive.filter((c) => c.name.includes(words));

    // Assess
    expect(cases.length).toBeGreaterThan(0);
  });

  it('has a real-home negative and an impostor positive for every excluded client', () => {
    // Prepare
    const { rule } = loadDefaultRule();

    // Act
    const missing = rule.lists.excludedClients
      .map((c) => c.name)
      .filter(
        (name) =>
          !rule.tests.negative.some((t) => t.name === `excluded client at home: ${name}`) ||
          !rule.tests.positive.some((t) =>
            t.name.startsWith(`impostor of an excluded client: ${name} `),
          ),
      );

    // Assess
    expect(missing).toEqual([]);
  });

  it.each(loadDefaultRule().rule.tests.negative.map((c) => [c.name, c.event] as const))(
    'does not match its own negative test: %s',
    (_name, event) => {
      // Prepare
      const rule = loadDefaultRule();

      // Act
      const result = matchTestEvent(rule, event);

      // Assess
      expect(result).toBeUndefined();
    },
  );
});

describe('Rule loading', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'rule-test-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('compiles the default rule once', () => {
    // Prepare
    const first = loadDefaultRule();

    // Act
    const second = loadDefaultRule();

    // Assess
    expect(second).toBe(first);
  });

  it('bundles the same rule as the file on disk', () => {
    // Prepare
    const fromDisk = loadRule(DEFAULT_RULE_PATH);

    // Act
    const bundled = defaultRule();

    // Assess
    expect(bundled.rule).toEqual(fromDisk);
    expect(defaultRule()).toBe(bundled);
  });

  it('reads a rule file that starts with a UTF-8 byte order mark', () => {
    // Prepare
    const path = join(scratch, 'bom.json');
    writeFileSync(path, `\uFEFF${JSON.stringify(loadRule(DEFAULT_RULE_PATH))}`);

    // Act
    const rule = loadRule(path);

    // Assess
    expect(rule.id).toBe('t1102-web-service');
  });

  it('reports a missing file as a RuleLoadError with the cause kept', () => {
    // Prepare
    const path = join(scratch, 'missing.json');

    // Act
    const error = thrown(() => loadRule(path));

    // Assess
    expect(error).toBeInstanceOf(RuleLoadError);
    expect(error).toBeInstanceOf(RuleError);
    expect((error as RuleLoadError).name).toBe('RuleLoadError');
    expect((error as RuleLoadError).cause).toMatchObject({ code: 'ENOENT' });
    expect((error as RuleLoadError).message).toContain(path);
  });

  it('reports a file that is not JSON as a RuleLoadError', () => {
    // Prepare
    const path = join(scratch, 'broken.json');
    writeFileSync(path, '{ "id": "t1102-web-service", ');

    // Act
    const act = () => loadRule(path);

    // Assess
    expect(act).toThrow(/is not valid JSON/);
    expect(act).toThrow(RuleLoadError);
  });

  it('refuses a file larger than MAX_RULE_FILE_BYTES', () => {
    // Prepare
    const path = join(scratch, 'huge.json');
    writeFileSync(path, `[${' '.repeat(MAX_RULE_FILE_BYTES)}]`);

    // Act
    const act = () => loadRule(path);

    // Assess
    expect(act).toThrow(RuleLoadError);
    expect(act).toThrow(/MAX_RULE_FILE_BYTES/);
  });

  it('reads a file of exactly MAX_RULE_FILE_BYTES (then validates it)', () => {
    // Prepare
    const path = join(scratch, 'at-limit.json');
    writeFileSync(path, `[${' '.repeat(MAX_RULE_FILE_BYTES - 2)}]`);

    // Act
    const act = () => loadRule(path);

    // Assess
    expect(act).toThrow(/\(root\): expected an object, got an empty array/);
  });
});
