import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  createS3BatchHandler,
  DEFAULT_MAX_ALERT_GROUPS,
  DEFAULT_MAX_QUARANTINE_BYTES,
  DEFAULT_MAX_QUARANTINE_RECORDS,
  DEFAULT_OBJECT_CONCURRENCY,
  loadConfig,
  MAX_ALERT_GROUPS_LIMIT,
} from '../../lib/pipeline/index.ts';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:t1102-alerts';

function problemsOf(env: Record<string, string>, source?: 'sysmon' | 'falcon'): readonly string[] {
  try {
    loadConfig(env, source);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('Configuration from the environment', () => {
  it('needs only ALERT_TOPIC_ARN and defaults the rest', () => {
    // Act
    const config = loadConfig({ ALERT_TOPIC_ARN: TOPIC }, 'sysmon');

    // Assess
    expect(config).toEqual({
      alertTopicArn: TOPIC,
      quarantinePrefix: 'quarantine/',
      quarantineBucket: undefined,
      maxQuarantineRecords: DEFAULT_MAX_QUARANTINE_RECORDS,
      maxQuarantineBytes: DEFAULT_MAX_QUARANTINE_BYTES,
      objectConcurrency: DEFAULT_OBJECT_CONCURRENCY,
      maxAlertGroups: DEFAULT_MAX_ALERT_GROUPS,
      source: 'sysmon',
      aws: { region: undefined, endpoint: undefined, s3ForcePathStyle: false },
    });
  });

  it('honours the emulator settings and the limits', () => {
    // Act
    const config = loadConfig({
      ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:t1102-alerts',
      QUARANTINE_PREFIX: 'bad-records',
      MAX_QUARANTINE_RECORDS: '10',
      MAX_QUARANTINE_BYTES: '4096',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: 'true',
      SOURCE: 'falcon',
      MAX_ALERT_GROUPS: '5000',
    });

    // Assess
    expect(config.maxAlertGroups).toBe(5000);
    expect(config.quarantinePrefix).toBe('bad-records/');
    expect(config.maxQuarantineRecords).toBe(10);
    expect(config.maxQuarantineBytes).toBe(4096);
    expect(config.source).toBe('falcon');
    expect(config.aws).toEqual({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:4566',
      s3ForcePathStyle: true,
    });
  });

  it.each([
    [{}, 'ALERT_TOPIC_ARN is required'],
    [{ ALERT_TOPIC_ARN: 'my-topic' }, 'ALERT_TOPIC_ARN is not an SNS topic ARN'],
    [{ ALERT_TOPIC_ARN: `${TOPIC}.fifo` }, 'FIFO topic'],
    [
      { ALERT_TOPIC_ARN: TOPIC, QUARANTINE_PREFIX: '/q/' },
      'QUARANTINE_PREFIX must not start with "/"',
    ],
    [
      { ALERT_TOPIC_ARN: TOPIC, QUARANTINE_BUCKET: 'Bad_Bucket' },
      'QUARANTINE_BUCKET is not a bucket name',
    ],
    [
      { ALERT_TOPIC_ARN: TOPIC, MAX_QUARANTINE_RECORDS: '-1' },
      'MAX_QUARANTINE_RECORDS must be a whole number',
    ],
    [
      { ALERT_TOPIC_ARN: TOPIC, MAX_QUARANTINE_BYTES: '1e6' },
      'MAX_QUARANTINE_BYTES must be a whole number',
    ],
    [
      { ALERT_TOPIC_ARN: TOPIC, OBJECT_CONCURRENCY: '0' },
      'OBJECT_CONCURRENCY must be a whole number',
    ],
    [
      { ALERT_TOPIC_ARN: TOPIC, MAX_ALERT_GROUPS: String(MAX_ALERT_GROUPS_LIMIT + 1) },
      `MAX_ALERT_GROUPS must be a whole number of groups from 1 to ${MAX_ALERT_GROUPS_LIMIT}`,
    ],
    [{ ALERT_TOPIC_ARN: TOPIC, MAX_ALERT_GROUPS: '0' }, 'MAX_ALERT_GROUPS must be a whole number'],
    [{ ALERT_TOPIC_ARN: TOPIC, SOURCE: 'windows' }, 'SOURCE must be one of sysmon, falcon'],
    [
      { ALERT_TOPIC_ARN: TOPIC, SOURCE: 'falcon' },
      'SOURCE is falcon but this function reads sysmon',
    ],
    [
      { ALERT_TOPIC_ARN: TOPIC, AWS_ENDPOINT_URL: 'localhost:4566' },
      'AWS_ENDPOINT_URL is not an http(s) URL',
    ],
    [
      { ALERT_TOPIC_ARN: TOPIC, S3_FORCE_PATH_STYLE: 'yes' },
      'S3_FORCE_PATH_STYLE must be true or false',
    ],
  ])('rejects %j with one clear problem', (env, problem) => {
    // Act
    const problems = problemsOf(env as Record<string, string>, 'sysmon');

    // Assess
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  it('reports every problem at once, one per line', () => {
    // Act
    let error: unknown;
    try {
      loadConfig({ MAX_QUARANTINE_RECORDS: 'many', S3_FORCE_PATH_STYLE: '1' });
    } catch (err) {
      error = err;
    }

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.problems).toHaveLength(3);
    expect(e.message.split('\n')).toHaveLength(4);
    expect(e.message).toMatch(/^invalid configuration \(3 problems\):/);
  });

  it("reports the state layer's problems together with the function's", () => {
    // Act
    let error: unknown;
    try {
      createS3BatchHandler({
        source: 'sysmon',
        env: { STATE_TABLE: 't', WINDOW_MINUTES: 'abc', THRESHOLD: '-1' },
      });
    } catch (err) {
      error = err;
    }

    // Assess: the missing topic, the window, the threshold and the table name, in one error
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.map((p) => p.split(' ')[0])).toEqual([
      'ALERT_TOPIC_ARN',
      'STATE_TABLE',
      'WINDOW_MINUTES',
      'THRESHOLD',
    ]);
    expect(problems[2]).toContain('whole number of minutes from 1 to 10080, got "abc"');
  });

  it("reports the alert routes' problems together with the function's", () => {
    // Act
    let error: unknown;
    try {
      createS3BatchHandler({
        source: 'sysmon',
        env: { WINDOW_MINUTES: 'abc', ALERT_EVENT_BUS: 'https://events.example' },
      });
    } catch (err) {
      error = err;
    }

    // Assess: the missing topic, the window and the bus, in one error
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.split(' ')[0])).toEqual([
      'ALERT_TOPIC_ARN',
      'WINDOW_MINUTES',
      'ALERT_EVENT_BUS',
    ]);
  });
});
