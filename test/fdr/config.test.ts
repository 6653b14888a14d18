import { describe, expect, it } from 'vitest';
import {
  cachedSecretReader,
  DEFAULT_DESTINATION_PREFIX,
  DEFAULT_MAX_MESSAGES_PER_RUN,
  FdrSecretError,
  loadFdrConfig,
  MAX_MESSAGES_PER_RUN_LIMIT,
  parseCredentials,
  SECRET_CACHE_MS,
} from '../../lib/fdr/index.ts';
import { ConfigError } from '../../lib/pipeline/index.ts';

const QUEUE_URL = 'https://sqs.us-west-1.amazonaws.com/292230061137/cs-prod-cannon-q1';
const base = { FDR_QUEUE_URL: QUEUE_URL, FDR_SECRET_ID: 'fdr', DESTINATION_BUCKET: 'my-logs' };

describe('FDR poller: configuration', () => {
  it("takes CrowdStrike's region from the queue URL and defaults the rest", () => {
    // Act
    const config = loadFdrConfig(base);

    // Assess
    expect(config.sourceRegion).toBe('us-west-1');
    expect(config.destinationPrefix).toBe(DEFAULT_DESTINATION_PREFIX);
    expect(config.maxMessagesPerRun).toBe(DEFAULT_MAX_MESSAGES_PER_RUN);
  });

  it('names every problem at once', () => {
    // Act
    const load = () =>
      loadFdrConfig({
        FDR_QUEUE_URL: 'not a url',
        DESTINATION_BUCKET: 'Bad_Bucket',
        FDR_MAX_MESSAGES_PER_RUN: String(MAX_MESSAGES_PER_RUN_LIMIT + 1),
      });

    // Assess
    expect(load).toThrow(ConfigError);
    try {
      load();
    } catch (err) {
      expect((err as ConfigError).problems.map((p) => p.split(' ')[0])).toEqual([
        'FDR_QUEUE_URL',
        'FDR_SECRET_ID',
        'DESTINATION_BUCKET',
        'FDR_MAX_MESSAGES_PER_RUN',
      ]);
    }
  });
});

describe('FDR poller: the secret', () => {
  it.each([
    ['not JSON', 'AKIA:secret', /is not JSON/],
    ['without the secret key', '{"accessKeyId":"AKIA1"}', /lacks accessKeyId or secretAccessKey/],
  ])('rejects a secret %s without echoing it', (_, text, reason) => {
    // Act
    const parse = () => parseCredentials('fdr', text);

    // Assess
    expect(parse).toThrow(FdrSecretError);
    expect(parse).toThrow(reason);
    expect(parse).not.toThrow(/AKIA/);
  });

  it('reads the secret again once SECRET_CACHE_MS has passed, and never caches a failure', async () => {
    // Prepare
    let clock = 0;
    let reads = 0;
    let fail = true;
    const reader = cachedSecretReader(
      {
        read: async () => {
          reads++;
          if (fail) throw new FdrSecretError('fdr', 'does not exist');
          return { accessKeyId: `AKIA${reads}`, secretAccessKey: 's' };
        },
      },
      SECRET_CACHE_MS,
      () => clock,
    );

    // Act
    await expect(reader.read('fdr')).rejects.toThrow(FdrSecretError);
    fail = false;
    const first = await reader.read('fdr');
    clock += SECRET_CACHE_MS - 1;
    const cached = await reader.read('fdr');
    clock += 1;
    const fresh = await reader.read('fdr');

    // Assess
    expect([first.accessKeyId, cached.accessKeyId, fresh.accessKeyId]).toEqual([
      'AKIA2',
      'AKIA2',
      'AKIA3',
    ]);
    expect(SECRET_CACHE_MS).toBe(300_000);
  });
});
