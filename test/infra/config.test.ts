import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { readPipelineConfig } from '../../infra/config.ts';
import { InvalidContextError } from '../../infra/errors.ts';

function configFrom(context: Record<string, unknown>) {
  return readPipelineConfig(new App({ context }));
}

function errorFrom(context: Record<string, unknown>): unknown {
  try {
    configFrom(context);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('Context: defaults', () => {
  it('uses the functions own quarantine prefix and keeps data when nothing is given', () => {
    // Prepare
    const context = {};

    // Act
    const config = configFrom(context);

    // Assess
    expect(config.quarantinePrefix).toBe('quarantine/');
    expect(config.removalPolicy).toBe('retain');
    expect(config.alertEmail).toBeUndefined();
    expect(config.reservedConcurrency).toBeUndefined();
    expect(config.batchExpirationDays).toBeUndefined();
  });

  it('turns the state table on with a one-day window, threshold 1 and a 7-day TTL', () => {
    // Prepare
    const context = {};

    // Act
    const config = configFrom(context);

    // Assess
    expect(config).toMatchObject({
      state: true,
      windowMinutes: 1440,
      threshold: 1,
      stateTtlDays: 7,
    });
  });

  it('leaves memory and timeout within Lambda limits', () => {
    // Prepare
    const context = {};

    // Act
    const config = configFrom(context);

    // Assess
    expect(config.memoryMiB).toBeGreaterThanOrEqual(128);
    expect(config.memoryMiB).toBeLessThanOrEqual(10_240);
    expect(config.timeoutSeconds).toBeGreaterThanOrEqual(1);
    expect(config.timeoutSeconds).toBeLessThanOrEqual(900);
  });
});

describe('Context: values from -c and cdk.json', () => {
  it.each([
    ['a string from -c', '2048', 2048],
    ['a number from cdk.json', 2048, 2048],
    ['padded by the shell', ' 512 ', 512],
  ])('reads memoryMiB given as %s', (_case, value, expected) => {
    // Prepare
    const context = { memoryMiB: value };

    // Act
    const config = configFrom(context);

    // Assess
    expect(config.memoryMiB).toBe(expected);
  });

  it('reads every option', () => {
    // Prepare
    const context = {
      stackName: 'T1102-Prod',
      alertEmail: 'soc@example.com',
      opsEmail: 'ops@example.com',
      timeoutSeconds: '600',
      reservedConcurrency: '3',
      batchSize: '10',
      logRetentionDays: '365',
      quarantinePrefix: 'held/records/',
      quarantineExpirationDays: '7',
      noncurrentVersionExpirationDays: '14',
      batchExpirationDays: '400',
      accessLogExpirationDays: '90',
      removalPolicy: 'destroy',
    };

    // Act
    const config = configFrom(context);

    // Assess
    expect(config).toMatchObject({
      stackName: 'T1102-Prod',
      alertEmail: 'soc@example.com',
      opsEmail: 'ops@example.com',
      timeoutSeconds: 600,
      reservedConcurrency: 3,
      batchSize: 10,
      logRetentionDays: 365,
      quarantinePrefix: 'held/records/',
      quarantineExpirationDays: 7,
      noncurrentVersionExpirationDays: 14,
      batchExpirationDays: 400,
      accessLogExpirationDays: 90,
      removalPolicy: 'destroy',
    });
  });
});

describe('Context: the state table switch', () => {
  it.each([
    ['the string false from -c', 'false', false],
    ['a boolean from cdk.json', false, false],
    ['the string true', 'true', true],
    ['upper case, padded', ' FALSE ', false],
  ])('reads state given as %s', (_case, value, expected) => {
    // Prepare
    const context = { state: value };

    // Act
    const config = configFrom(context);

    // Assess
    expect(config.state).toBe(expected);
  });

  it('reads the window, threshold and TTL at their bounds', () => {
    // Prepare
    const context = { windowMinutes: '10080', threshold: '1', stateTtlDays: '365' };

    // Act
    const config = configFrom(context);

    // Assess
    expect(config).toMatchObject({ windowMinutes: 10_080, threshold: 1, stateTtlDays: 365 });
  });
});

describe('Context: rejected values', () => {
  it.each([
    ['memoryMiB', '64', 'below Lambda minimum'],
    ['memoryMiB', '20000', 'above Lambda maximum'],
    ['memoryMiB', '1.5', 'not a whole number'],
    ['timeoutSeconds', '901', 'over 15 minutes'],
    ['timeoutSeconds', '0', 'zero'],
    ['batchSize', '11', 'over the SQS batch limit without a window'],
    ['reservedConcurrency', '0', 'zero'],
    ['logRetentionDays', '10', 'not a CloudWatch Logs retention'],
    ['quarantineExpirationDays', 'soon', 'not a number'],
    ['alertEmail', 'soc.example.com', 'not an email address'],
    ['opsEmail', 'ops@', 'not an email address'],
    ['removalPolicy', 'snapshot', 'neither retain nor destroy'],
    ['stackName', '1stack', 'not a stack name'],
    ['quarantinePrefix', 'quarantine', 'missing the trailing slash'],
    ['quarantinePrefix', '/quarantine/', 'starting with a slash'],
    ['state', 'no', 'neither true nor false'],
    ['windowMinutes', '0', 'zero'],
    ['windowMinutes', '10081', 'longer than a week'],
    ['threshold', '0', 'zero'],
    ['stateTtlDays', '0', 'zero'],
    ['stateTtlDays', '366', 'over a year'],
  ])('rejects %s=%s (%s) naming the key', (key, value) => {
    // Prepare
    const context = { [key]: value };

    // Act
    const error = errorFrom(context);

    // Assess
    expect(error).toBeInstanceOf(InvalidContextError);
    expect((error as InvalidContextError).key).toBe(key);
    expect((error as InvalidContextError).message).toContain(key);
  });

  it.each([
    ['sysmon/quarantine/', 'inside the sysmon batch prefix'],
    ['falcon/', 'equal to the falcon batch prefix'],
  ])('rejects quarantinePrefix=%s (%s): it would feed the pipeline its own output', (prefix) => {
    // Prepare
    const context = { quarantinePrefix: prefix };

    // Act
    const error = errorFrom(context);

    // Assess
    expect(error).toBeInstanceOf(InvalidContextError);
    expect((error as Error).message).toMatch(/overlaps/);
  });
});

describe('Context: the exceptions file', () => {
  it('reads none by default and a key in the stack bucket when given', () => {
    // Act
    const none = configFrom({});
    const some = configFrom({ exceptionsKey: 'config/exceptions.json' });

    // Assess
    expect(none.exceptionsKey).toBeUndefined();
    expect(some.exceptionsKey).toBe('config/exceptions.json');
  });

  it.each([
    ['sysmon/exceptions.json', 'under the sysmon batch prefix: it would be scanned'],
    ['quarantine/exceptions.json', 'under the quarantine prefix'],
    ['s3://bucket/exceptions.json', 'a URI, not a key'],
    ['config/', 'a prefix, not an object'],
  ])('rejects exceptionsKey=%s (%s)', (value) => {
    // Act
    const error = errorFrom({ exceptionsKey: value });

    // Assess
    expect(error).toBeInstanceOf(InvalidContextError);
    expect((error as InvalidContextError).key).toBe('exceptionsKey');
  });
});
