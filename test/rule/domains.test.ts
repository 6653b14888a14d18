import { describe, expect, it } from 'vitest';
import { loadDefaultRule } from '../../lib/rule/index.ts';
import { SPEC_HIGH_DOMAINS, SPEC_MEDIUM_DOMAINS } from './spec-lists.ts';

const SPEC_DOMAINS = [...SPEC_HIGH_DOMAINS, ...SPEC_MEDIUM_DOMAINS];

describe('Matcher: domains by label boundary (clause 2)', () => {
  it.each(SPEC_DOMAINS)('matches the listed domain %s itself', (domain) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const listed = rule.listedDomain(domain);

    // Assess
    expect(listed?.domain).toBe(domain);
  });

  it.each(SPEC_DOMAINS)('matches a subdomain of %s', (domain) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const listed = rule.listedDomain(`c2-node7.${domain}`);

    // Assess
    expect(listed?.domain).toBe(domain);
  });

  it.each(SPEC_DOMAINS)('matches %s in upper case with one trailing dot', (domain) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const listed = rule.listedDomain(`${domain.toUpperCase()}.`);

    // Assess
    expect(listed?.domain).toBe(domain);
  });

  it.each([
    ['api.telegram.org.', 'api.telegram.org'],
    ['cdn.discordapp.com', 'discordapp.com'],
    ['media.cdn.discordapp.com', 'discordapp.com'],
    ['www.googleapis.com', 'googleapis.com'],
    ['storage.googleapis.com', 'googleapis.com'],
    ['firebase.googleapis.com', 'googleapis.com'],
    ['my-app-default-rtdb.firebaseio.com', 'firebaseio.com'],
    ['hooks.slack.com', 'hooks.slack.com'],
    ['api.slack.com', 'slack.com'],
    ['x.workers.dev', 'workers.dev'],
    ['t.me', 't.me'],
    ['Raw.GitHubUserContent.com', 'raw.githubusercontent.com'],
  ])('reports %s as falling under %s (the most specific listed domain)', (hostname, domain) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const listed = rule.listedDomain(hostname);

    // Assess
    expect(listed?.domain).toBe(domain);
  });

  it.each([
    'evilpastebin.com',
    'pastebin.com.evil.io',
    'pastebin.co',
    'pastebin-com.ru',
    'notgithub.com',
    'api.github.com.attacker.net',
    'rawgithubusercontent.com',
    'githubusercontent.com',
    'mydiscord.com',
    'discord.co',
    'discordapp.com.cdn.evil.io',
    'xapi.telegram.org',
    'api-telegram.org',
    'telegram.org',
    'evilgoogleapis.com',
    'googleapis.com.cn',
    'google.com',
    'nott.me',
    'workers.dev.evil.io',
    'githack.com',
    'myslack.com',
    'notion.so',
    'api.notion.som',
    'paste.ee.attacker.net',
    'top4top.io.evil',
    'microsoft.com',
    'live.com',
  ])('ignores the look-alike or unlisted %s', (hostname) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const listed = rule.listedDomain(hostname);

    // Assess
    expect(listed).toBeUndefined();
  });

  it.each([
    ['an empty name', ''],
    ['a lone dot', '.'],
    ['two trailing dots (only one is removed)', 'pastebin.com..'],
  ])('ignores %s', (_label, hostname) => {
    // Prepare
    const rule = loadDefaultRule();

    // Act
    const listed = rule.listedDomain(hostname);

    // Assess
    expect(listed).toBeUndefined();
  });
});
