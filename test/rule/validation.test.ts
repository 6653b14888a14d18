import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RULE_PATH,
  parseRule,
  RuleError,
  RuleValidationError,
} from '../../lib/rule/index.ts';
import { thrown } from './helpers.ts';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Segment = string | number;
const REMOVE = Symbol('remove');
type Edit = readonly [path: readonly Segment[], value: Json | typeof REMOVE];

/** The valid default rule as plain JSON, cloned for each test so edits never leak. */
const VALID_RULE_TEXT = readFileSync(DEFAULT_RULE_PATH, 'utf8');
const validRule = (): Json => JSON.parse(VALID_RULE_TEXT) as Json;

function applyEdit(root: Json, [path, value]: Edit): void {
  let node = root as Record<Segment, Json>;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<Segment, Json>;
  const last = path.at(-1) as Segment;
  if (value === REMOVE) delete node[last];
  else node[last] = value;
}

function edited(...edits: Edit[]): Json {
  const json = validRule();
  for (const edit of edits) applyEdit(json, edit);
  return json;
}

function validationError(json: unknown): RuleValidationError {
  const error = thrown(() => parseRule(json, 'test.json'));
  expect(error).toBeInstanceOf(RuleValidationError);
  return error as RuleValidationError;
}

describe('Rule validation', () => {
  it('accepts the default rule file as written', () => {
    // Prepare
    const json = validRule();

    // Act
    const rule = parseRule(json, 'test.json');

    // Assess
    expect(rule).toEqual(json);
  });

  it.each<[string, Edit[], [path: string, message: string][]]>([
    [
      'an upper-case domain',
      [[['lists', 'domains', 'high', 3], 'Pastebin.COM']],
      [['lists.domains.high[3]', 'expected a lower-case hostname, got "Pastebin.COM"']],
    ],
    [
      'a domain with a trailing dot',
      [[['lists', 'domains', 'high', 0], 'pastebin.com.']],
      [['lists.domains.high[0]', 'expected a lower-case hostname, got "pastebin.com."']],
    ],
    [
      'a URL instead of a domain',
      [[['lists', 'domains', 'high', 1], 'https://paste.ee']],
      [
        [
          'lists.domains.high[1]',
          'expected a hostname without a scheme (write "example.com", not "https://example.com"), got "https://paste.ee"',
        ],
      ],
    ],
    [
      'a bare top-level domain',
      [[['lists', 'domains', 'high', 2], 'com']],
      [['lists.domains.high[2]', 'expected a hostname with at least two labels, got "com"']],
    ],
    [
      'a domain label longer than 63 characters',
      [[['lists', 'domains', 'high', 2], `${'a'.repeat(64)}.com`]],
      [['lists.domains.high[2]', `expected a lower-case hostname, got "${'a'.repeat(64)}.com"`]],
    ],
    [
      'an empty domain list',
      [[['lists', 'domains', 'high'], []]],
      [['lists.domains.high', 'expected a non-empty array, got []']],
    ],
    [
      'a string instead of a domain list',
      [[['lists', 'domains', 'medium'], 'pastebin.com']],
      [['lists.domains.medium', 'expected a non-empty array, got "pastebin.com"']],
    ],
    [
      'a duplicate domain',
      [[['lists', 'domains', 'high', 45], 'pastebin.com']],
      [['lists.domains.high[45]', 'duplicate of lists.domains.high[0] ("pastebin.com")']],
    ],
    [
      'an upper-case excluded client',
      [[['lists', 'excludedClients', 0, 'name'], 'Chrome.exe']],
      [
        [
          'lists.excludedClients[0].name',
          'expected a lower-case process basename, got "Chrome.exe"',
        ],
      ],
    ],
    [
      'a wildcard in an excluded client',
      [[['lists', 'excludedClients', 1, 'name'], 'firefox*']],
      [['lists.excludedClients[1].name', 'expected a lower-case process basename, got "firefox*"']],
    ],
    [
      'a path as a suspicious process',
      [[['lists', 'suspiciousProcesses', 2], '/usr/bin/curl']],
      [
        [
          'lists.suspiciousProcesses[2]',
          'expected a lower-case process basename, optionally ending in "*", got "/usr/bin/curl"',
        ],
      ],
    ],
    [
      'a lone wildcard as a suspicious process',
      [[['lists', 'suspiciousProcesses', 0], '*']],
      [
        [
          'lists.suspiciousProcesses[0]',
          'expected a lower-case process basename, optionally ending in "*", got "*"',
        ],
      ],
    ],
    [
      'a wildcard inside a suspicious process',
      [[['lists', 'suspiciousProcesses', 0], 'power*shell.exe']],
      [
        [
          'lists.suspiciousProcesses[0]',
          'expected a lower-case process basename, optionally ending in "*", got "power*shell.exe"',
        ],
      ],
    ],
    [
      'null as an Office parent',
      [[['lists', 'officeParents', 1], null]],
      [['lists.officeParents[1]', 'expected a lower-case process basename, got null']],
    ],
    [
      'an unknown top-level key',
      [[['colour'], 'red']],
      [
        [
          'colour',
          'unknown key (allowed: id, version, title, description, attack, falsePositives, references, lists, tests)',
        ],
      ],
    ],
    [
      'a misspelt list name',
      [
        [['lists', 'exludedClients'], ['chrome.exe']],
        [['lists', 'excludedClients'], REMOVE],
      ],
      [
        [
          'lists.exludedClients',
          'unknown key (allowed: domains, excludedClients, suspiciousProcesses, officeParents, userWritablePaths)',
        ],
        ['lists.excludedClients', 'is required'],
      ],
    ],
    [
      'a key that is not an identifier',
      [[['lists', 'bad key'], []]],
      [
        [
          'lists["bad key"]',
          'unknown key (allowed: domains, excludedClients, suspiciousProcesses, officeParents, userWritablePaths)',
        ],
      ],
    ],
    [
      'an unknown key in a test event',
      [[['tests', 'positive', 0, 'event', 'commandLine'], 'powershell -c iex']],
      [
        [
          'tests.positive[0].event.commandLine',
          'unknown key (allowed: kind, hostname, image, originalFileName, parentImage, cmdLine)',
        ],
      ],
    ],
    ['a missing title', [[['title'], REMOVE]], [['title', 'is required']]],
    [
      'a number as the title',
      [[['title'], 42]],
      [['title', 'expected a non-empty string, got number 42']],
    ],
    [
      'a blank description',
      [[['description'], '   ']],
      [['description', 'expected a non-empty string, got "   "']],
    ],
    [
      'a rule written for another version of the logic',
      [[['version'], 1]],
      [['version', 'expected 2 (the rule logic this engine implements)']],
    ],
    [
      'a domain listed in both tiers',
      [[['lists', 'domains', 'medium', 0], 'pastebin.com']],
      [['lists.domains.medium', '"pastebin.com" is also high']],
    ],
    [
      'an excluded client without a home',
      [[['lists', 'excludedClients', 2, 'homes'], []]],
      [['lists.excludedClients[2].homes', 'expected a non-empty array, got []']],
    ],
    [
      'a home marker written with forward slashes',
      [[['lists', 'excludedClients', 0, 'homes', 0], '/google/chrome/application/']],
      [
        [
          'lists.excludedClients[0].homes[0]',
          'expected a non-empty lower-case path fragment using "\\" as the separator, got "/google/chrome/application/"',
        ],
      ],
    ],
    [
      'an upper-case user-writable marker',
      [[['lists', 'userWritablePaths', 0], '\\AppData\\']],
      [
        [
          'lists.userWritablePaths[0]',
          'expected a non-empty lower-case path fragment using "\\" as the separator, got "\\\\AppData\\\\"',
        ],
      ],
    ],
    [
      'an unknown tier on a positive test',
      [[['tests', 'positive', 0, 'tier'], 'critical']],
      [['tests.positive[0].tier', 'expected one of "high", "medium", got "critical"']],
    ],
    [
      'an unknown test event kind',
      [[['tests', 'negative', 0, 'event', 'kind'], 'file']],
      [['tests.negative[0].event.kind', 'expected one of "dns", "network", "process", got "file"']],
    ],
    [
      'a boolean hostname in a test event',
      [[['tests', 'positive', 1, 'event', 'hostname'], true]],
      [['tests.positive[1].event.hostname', 'expected a string, got boolean true']],
    ],
    [
      'no positive tests',
      [[['tests', 'positive'], []]],
      [['tests.positive', 'expected a non-empty array, got []']],
    ],
    [
      'a duplicate test name',
      [[['tests', 'negative', 1, 'name'], 'look-alike evilpastebin.com']],
      [['tests.negative[1]', 'duplicate of tests.negative[0] ("look-alike evilpastebin.com")']],
    ],
    [
      'a malformed technique id',
      [[['attack', 'technique', 'uid'], 'T11O2']],
      [['attack.technique.uid', 'expected an ATT&CK technique id such as "T1102", got "T11O2"']],
    ],
    [
      'a string instead of the tactic object',
      [[['attack', 'tactic'], 'TA0011']],
      [['attack.tactic', 'expected an object, got "TA0011"']],
    ],
    [
      'a reference that is not a URL',
      [[['references', 0], 'attack.mitre.org/techniques/T1102/']],
      [['references[0]', 'expected an http(s) URL, got "attack.mitre.org/techniques/T1102/"']],
    ],
    [
      'an upper-case rule id',
      [[['id'], 'T1102_Web']],
      [['id', 'expected a lower-case kebab-case id, got "T1102_Web"']],
    ],
    [
      'an array instead of the lists object',
      [[['lists'], []]],
      [['lists', 'expected an object, got an empty array']],
    ],
  ])('rejects %s, naming the field path', (_label, edits, expected) => {
    // Prepare
    const json = edited(...edits);

    // Act
    const error = validationError(json);

    // Assess
    expect(error.problems).toEqual(expected.map(([path, message]) => ({ path, message })));
    for (const [path, message] of expected) expect(error.message).toContain(`${path}: ${message}`);
  });

  it.each<[Json, string]>([
    [null, 'null'],
    [[], 'an empty array'],
    ['t1102', '"t1102"'],
    [42, 'number 42'],
  ])('rejects %j as the whole rule', (json, described) => {
    // Prepare
    const input = json;

    // Act
    const error = validationError(input);

    // Assess
    expect(error.problems).toEqual([
      { path: '(root)', message: `expected an object, got ${described}` },
    ]);
  });

  it('reports every problem at once, each on its own line', () => {
    // Prepare
    const json = edited(
      [['version'], 1],
      [['lists', 'domains', 'high', 3], 'Pastebin.COM'],
      [['tests', 'positive', 0, 'event', 'kind'], 'file'],
    );

    // Act
    const error = validationError(json);

    // Assess
    expect(error.problems).toHaveLength(3);
    expect(error.message.split('\n')).toEqual([
      'invalid rule test.json (3 problems):',
      '  version: expected 2 (the rule logic this engine implements)',
      '  lists.domains.high[3]: expected a lower-case hostname, got "Pastebin.COM"',
      '  tests.positive[0].event.kind: expected one of "dns", "network", "process", got "file"',
    ]);
  });

  it('rejects a __proto__ key as unknown', () => {
    // Prepare
    const json: unknown = JSON.parse(VALID_RULE_TEXT.replace('{', '{"__proto__": {"id": "x"},'));

    // Act
    const error = validationError(json);

    // Assess
    expect(error.problems).toEqual([
      {
        path: '__proto__',
        message:
          'unknown key (allowed: id, version, title, description, attack, falsePositives, references, lists, tests)',
      },
    ]);
  });

  it('raises a RuleValidationError that is a RuleError', () => {
    // Prepare
    const json = edited([['title'], REMOVE]);

    // Act
    const error = validationError(json);

    // Assess
    expect(error).toBeInstanceOf(RuleError);
    expect(error.name).toBe('RuleValidationError');
    expect(error.source).toBe('test.json');
  });

  it('returns a rule that shares nothing with its input', () => {
    // Prepare
    const json = validRule() as { lists: { domains: { high: string[] } } };
    const rule = parseRule(json, 'test.json');

    // Act
    json.lists.domains.high[0] = 'example.com';

    // Assess
    expect(rule.lists.domains.high[0]).toBe('pastebin.com');
  });
});
