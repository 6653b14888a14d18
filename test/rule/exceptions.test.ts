import { describe, expect, it } from 'vitest';
import {
  compileExceptions,
  type ExceptionSubject,
  ExceptionsError,
  exceptionsFromText,
  parseExceptions,
  RuleError,
} from '../../lib/rule/index.ts';
import { thrown } from './helpers.ts';

/** An implant in AppData talking to a Discord webhook, as the engine resolves it. */
const subject: ExceptionSubject = {
  host: 'WKS-7',
  user: 'CORP\\jdoe',
  image: 'C:\\Users\\jdoe\\AppData\\Roaming\\Contoso\\Bot\\bot.exe',
  originalFileName: 'ContosoBot.exe',
  parentImage: 'C:\\Windows\\explorer.exe',
  hostname: 'Discord.com.',
};

const excepts = (exception: Record<string, string>, s: ExceptionSubject = subject) =>
  compileExceptions(parseExceptions({ exceptions: [exception] }, 'test.json')).excepts(s);

function exceptionsError(text: string): ExceptionsError {
  const error = thrown(() => exceptionsFromText(text, 'exceptions.json'));
  expect(error).toBeInstanceOf(ExceptionsError);
  expect(error).toBeInstanceOf(RuleError);
  return error as ExceptionsError;
}

describe('Exceptions: matching', () => {
  it.each([
    ['the host, case-insensitive', { host: 'wks-7' }],
    ['the user, case-insensitive', { user: 'corp\\JDOE' }],
    ['the process identity (OriginalFileName)', { process: 'contosobot.exe' }],
    ['the parent basename', { parent: 'explorer.exe' }],
    ['a fragment of the image path', { path: '\\appdata\\roaming\\contoso\\' }],
    ['the domain itself', { domain: 'discord.com' }],
    ['every field at once', { host: 'WKS-7', process: 'contosobot.exe', domain: 'discord.com' }],
  ])('excepts an event by %s', (_label, exception) => {
    // Act
    const result = excepts(exception);

    // Assess
    expect(result).toBe(true);
  });

  it.each([
    ['another host', { host: 'WKS-8' }],
    ['one field of two failing', { host: 'WKS-7', domain: 'telegram.org' }],
    ['the image basename when OriginalFileName names another identity', { process: 'bot.exe' }],
    ['a path fragment the image does not hold', { path: '\\program files\\' }],
    ['a look-alike domain (label boundary)', { domain: 'scord.com' }],
    ['a subdomain of the observed host', { domain: 'cdn.discord.com' }],
  ])('does not except an event by %s', (_label, exception) => {
    // Act
    const result = excepts(exception);

    // Assess
    expect(result).toBe(false);
  });

  it('excepts subdomains of the domain it names', () => {
    // Act
    const result = excepts(
      { domain: 'discord.com' },
      { ...subject, hostname: 'gateway.discord.com' },
    );

    // Assess
    expect(result).toBe(true);
  });

  it('excepts nothing when the file lists no exception', () => {
    // Act
    const compiled = exceptionsFromText('{"exceptions": []}', 'empty.json');

    // Assess
    expect(compiled.size).toBe(0);
    expect(compiled.excepts(subject)).toBe(false);
  });
});

describe('Exceptions: validation refuses the whole file with one clear error', () => {
  it('refuses a file that is not JSON', () => {
    // Act
    const error = exceptionsError('{"exceptions": [');

    // Assess
    expect(error.message).toMatch(/^exceptions file exceptions\.json is not valid JSON: /);
  });

  it('refuses an unknown field, naming its path and the allowed ones', () => {
    // Act
    const error = exceptionsError('{"exceptions": [{"hostname": "WKS-7"}]}');

    // Assess
    expect(error.problems).toEqual([
      {
        path: 'exceptions[0].hostname',
        message: 'unknown key (allowed: reason, host, user, process, parent, path, domain)',
      },
    ]);
    expect(error.message).toBe(
      'invalid exceptions file exceptions.json (1 problem):\n  exceptions[0].hostname: unknown key (allowed: reason, host, user, process, parent, path, domain)',
    );
  });

  it('refuses an empty exception, which would except everything', () => {
    // Act
    const error = exceptionsError('{"exceptions": [{"reason": "known good"}]}');

    // Assess
    expect(error.problems).toEqual([
      {
        path: 'exceptions[0]',
        message:
          'an exception must name at least one of host, user, process, parent, path, domain (an empty one would except everything)',
      },
    ]);
  });

  it('refuses a domain written with a scheme', () => {
    // Act
    const error = exceptionsError('{"exceptions": [{"domain": "https://hooks.slack.com"}]}');

    // Assess
    expect(error.problems).toEqual([
      {
        path: 'exceptions[0].domain',
        message:
          'expected a hostname without a scheme (write "example.com", not "https://example.com"), got "https://hooks.slack.com"',
      },
    ]);
  });

  it('reports every problem of the file at once', () => {
    // Act
    const error = exceptionsError(
      '{"exceptions": [{"process": "C:\\\\x\\\\a.exe"}, {}, {"path": "/tmp/"}], "extra": 1}',
    );

    // Assess
    expect(error.problems.map((p) => p.path)).toEqual([
      'extra',
      'exceptions[0].process',
      'exceptions[1]',
      'exceptions[2].path',
    ]);
  });

  it('refuses a JSON array instead of the exceptions object', () => {
    // Act
    const error = exceptionsError('[{"host": "WKS-7"}]');

    // Assess
    expect(error.problems).toEqual([
      { path: '(root)', message: 'expected an object, got an array' },
    ]);
  });
});
