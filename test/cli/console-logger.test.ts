import { describe, expect, it } from 'vitest';
import { createConsoleLogger } from '../../lib/cli/console-logger.ts';
import { ObjectReadError } from '../../lib/pipeline/index.ts';

describe("npm start's logger for the functions", () => {
  it("keeps an object's failure for its one line and prints nothing", () => {
    // Prepare
    const lines: string[] = [];
    const { logger, take } = createConsoleLogger((l) => lines.push(l));
    const error = new ObjectReadError('s3://b/sysmon/x.xml', 'Access Denied');

    // Act
    logger.error('object failed', { bucket: 'b', key: 'sysmon/x.xml', stage: 'read', error });

    // Assess
    expect(lines).toEqual([]);
    expect(take('b', 'sysmon/x.xml')).toEqual({
      text: 'FAILED while read: s3://b/sysmon/x.xml: Access Denied',
      failed: true,
    });
    expect(take('b', 'sysmon/x.xml')).toBeUndefined();
  });

  it('keeps the damage of an object that was read up to it', () => {
    // Prepare
    const { logger, take } = createConsoleLogger(() => undefined);

    // Act
    logger.warn('object processed; it is damaged and was read up to the damage', {
      bucket: 'b',
      key: 'falcon/cut.gz',
      damage: { reason: 'truncated-gzip', message: 'unexpected end of file' },
    });

    // Assess
    expect(take('b', 'falcon/cut.gz')?.text).toBe(
      'damaged (truncated-gzip): unexpected end of file; alerts are from what came before',
    );
  });

  it('prints any other problem as one line and drops routine ones', () => {
    // Prepare
    const lines: string[] = [];
    const { logger } = createConsoleLogger((l) => lines.push(l));

    // Act
    logger.info('object processed', { bucket: 'b', key: 'k' });
    logger.error('notification not understood', { messageId: 'm-1', error: new Error('not JSON') });

    // Assess
    expect(lines).toEqual(['notification not understood (message m-1): not JSON\n']);
  });
});
