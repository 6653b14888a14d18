import { describe, expect, it } from 'vitest';
import type { SkippedRecord } from '../../lib/engine/index.ts';
import { MAX_S3_KEY_BYTES, QuarantineCollector, quarantineKey } from '../../lib/pipeline/index.ts';

const skip = (record: number, reason: SkippedRecord['reason'] = 'invalid-json'): SkippedRecord => ({
  reason,
  message: 'line is not JSON',
  origin: 's3://logs/falcon/x.ndjson',
  record,
  offset: record * 100,
  excerpt: `{"broken": ${record}`,
});

const lines = (c: QuarantineCollector) =>
  c
    .toJsonl()
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('Quarantine: where', () => {
  it('files records under prefix, source, date and the object key', () => {
    // Act
    const key = quarantineKey(
      'quarantine/',
      'sysmon',
      'sysmon/wks 7/batch.xml.gz',
      new Date('2024-03-05T23:59:59Z'),
    );

    // Assess
    expect(key).toBe('quarantine/sysmon/2024/03/05/sysmon/wks 7/batch.xml.gz.jsonl.gz');
  });

  it('keeps a key within S3 limits when the object key is very long', () => {
    // Act
    const key = quarantineKey(
      'quarantine/',
      'falcon',
      `falcon/${'ä'.repeat(600)}.gz`,
      new Date('2024-01-02T00:00:00Z'),
    );

    // Assess
    expect(Buffer.byteLength(key)).toBeLessThanOrEqual(MAX_S3_KEY_BYTES);
    expect(key).toMatch(/^quarantine\/falcon\/2024\/01\/02\/[0-9a-f]{16}-ä+\.gz\.jsonl\.gz$/);
  });
});

describe('Quarantine: what', () => {
  it('keeps each record with its reason and position', () => {
    // Prepare
    const c = new QuarantineCollector('s3://logs/falcon/x.ndjson', {
      maxRecords: 10,
      maxBytes: 10_000,
    });

    // Act
    c.add(skip(3));
    c.add(skip(9, 'record-too-large'));

    // Assess
    expect(lines(c)).toEqual([
      { type: 'skipped', ...skip(3) },
      { type: 'skipped', ...skip(9, 'record-too-large') },
    ]);
  });

  it('stops at the record limit and counts what it left out', () => {
    // Prepare
    const c = new QuarantineCollector('s3://logs/falcon/x.ndjson', {
      maxRecords: 2,
      maxBytes: 1_000_000,
    });

    // Act
    for (let i = 1; i <= 5; i++) c.add(skip(i, i === 5 ? 'invalid-encoding' : 'invalid-json'));

    // Assess
    const out = lines(c);
    expect(out.map((l) => l.record ?? l.type)).toEqual([1, 2, 'truncated']);
    expect(out[2]).toMatchObject({
      droppedRecords: 3,
      droppedByReason: { 'invalid-json': 2, 'invalid-encoding': 1 },
    });
    expect(c.records).toBe(2);
  });

  it('stops at the byte limit', () => {
    // Prepare
    const oneLine = Buffer.byteLength(`${JSON.stringify({ type: 'skipped', ...skip(1) })}\n`);
    const c = new QuarantineCollector('s3://logs/falcon/x.ndjson', {
      maxRecords: 100,
      maxBytes: oneLine * 2 + 1,
    });

    // Act
    for (let i = 1; i <= 4; i++) c.add(skip(i));

    // Assess
    expect(c.records).toBe(2);
    expect(lines(c).at(-1)).toMatchObject({ type: 'truncated', droppedRecords: 2 });
  });

  it('records damage to the object after the records', () => {
    // Prepare
    const c = new QuarantineCollector('s3://logs/falcon/x.ndjson.gz', {
      maxRecords: 0,
      maxBytes: 0,
    });

    // Act
    c.damage({ reason: 'truncated-gzip', message: 'unexpected end of file' });

    // Assess
    expect(c.isEmpty).toBe(false);
    expect(lines(c)).toEqual([
      {
        type: 'damage',
        origin: 's3://logs/falcon/x.ndjson.gz',
        reason: 'truncated-gzip',
        message: 'unexpected end of file',
      },
    ]);
  });
});
