import { describe, expect, it } from 'vitest';
import {
  decodeS3EventKey,
  NotificationError,
  objectId,
  parseInvocation,
} from '../../lib/pipeline/index.ts';
import {
  loadNotification,
  notificationFor,
  SHAPES,
  type Shape,
  s3EventFor,
  sqsBatch,
} from '../helpers/notifications.ts';

const WEIRD_KEY = 'sysmon/batch 2024+03/Bücher 1+1=2.xml.gz';

describe('Notifications: the captured shapes', () => {
  it('reads the S3 event notification S3 sends to a function', () => {
    // Prepare
    const event = loadNotification('s3-object-created');

    // Act
    const parsed = parseInvocation(event);

    // Assess
    expect(parsed.kind).toBe('direct');
    expect(parsed.items).toHaveLength(1);
    expect(parsed.items[0]!.objects).toEqual([
      {
        bucket: 'xxx',
        key: 'test.pdf',
        size: 104681,
        etag: '2e3ad1e983318bbd8e73b080e2997980',
        versionId: 'yd3d4HaWOT2zguDLvIQLU6ptDTwKBnQV',
        shape: 's3',
        via: [],
      },
    ]);
  });

  it.each([
    ['sqs-s3', ['sqs'], 's3', 'xxx', 'test.pdf'],
    ['sqs-sns-s3', ['sqs', 'sns'], 's3', 'xxx', 'test.pdf'],
    ['sns-s3', ['sns'], 's3', 'xxx', 'test.pdf'],
    ['eventbridge-object-created', [], 'eventbridge', 'example-bucket', 'IMG_m7fzo3.jpg'],
    ['sqs-eventbridge', ['sqs'], 'eventbridge', 'example-bucket', 'IMG_m7fzo3.jpg'],
    [
      'sqs-fdr',
      ['sqs'],
      'fdr',
      'cs-prod-cannon-07b6f6a2c1a9e4d3',
      'data/6b2f2d52-4c1f-4b8e-9e51-0c7f0f3d9a11/part-00000.gz',
    ],
  ] as const)('reads %s (via %j) as a %s object %s/%s', (name, via, shape, bucket, key) => {
    // Prepare
    const event = loadNotification(name);

    // Act
    const parsed = parseInvocation(event);

    // Assess
    const objects = parsed.items.flatMap((i) => i.objects);
    expect(objects).toHaveLength(1);
    expect(objects[0]).toMatchObject({ bucket, key, shape, via: [...via] });
    expect(parsed.items.every((i) => i.error === undefined)).toBe(true);
  });

  it('names each SQS message so partial failures can point at it', () => {
    // Prepare
    const event = loadNotification('sqs-sns-s3');

    // Act
    const parsed = parseInvocation(event);

    // Assess
    expect(parsed.kind).toBe('sqs');
    expect(parsed.items.map((i) => i.itemId)).toEqual(['79406a00-bf15-46ca-978c-22c3613fcb30']);
  });

  it.each(SHAPES)(
    'round-trips a key with spaces, + and non-ASCII through the %s shape',
    (shape: Shape) => {
      // Prepare
      const event = notificationFor(shape, {
        bucket: 'logs',
        key: WEIRD_KEY,
        size: 10,
        etag: 'abc',
      });

      // Act
      const parsed = parseInvocation(event);

      // Assess
      expect(parsed.items.flatMap((i) => i.objects).map((o) => o.key)).toEqual([WEIRD_KEY]);
    },
  );
});

describe('Notifications: keys', () => {
  it.each([
    ['red+flower.jpg', 'red flower.jpg'],
    ['sysmon/a%2Bb.xml', 'sysmon/a+b.xml'],
    ['sysmon/B%C3%BCcher+1.xml', 'sysmon/Bücher 1.xml'],
    ['plain/key.gz', 'plain/key.gz'],
  ])('decodes the S3 event key %s as %s', (raw, decoded) => {
    // Act & Assess
    expect(decodeS3EventKey(raw)).toBe(decoded);
  });

  it('keeps + in an EventBridge key, which arrives unencoded', () => {
    // Prepare
    const event = loadNotification('eventbridge-object-created');
    event.detail.object.key = 'sysmon/a+b%20c.xml';

    // Act
    const parsed = parseInvocation(event);

    // Assess
    expect(parsed.items[0]!.objects[0]!.key).toBe('sysmon/a+b%20c.xml');
  });

  it('rejects a key that is not valid percent-encoding', () => {
    // Prepare
    const event = loadNotification('s3-object-created');
    event.Records[0]!.s3.object.key = 'bad%E0%A4%A.xml';

    // Act
    const parsed = parseInvocation(event);

    // Assess
    expect(parsed.items[0]!.error).toBeInstanceOf(NotificationError);
  });

  it('identifies an object version by version id, else ETag', () => {
    // Act & Assess
    expect(objectId({ bucket: 'b', key: 'k', etag: 'e', versionId: 'v' })).toBe('s3://b/k#v');
    expect(objectId({ bucket: 'b', key: 'k', etag: 'e' })).toBe('s3://b/k#e');
    expect(objectId({ bucket: 'b', key: 'k' })).toBe('s3://b/k');
  });
});

describe('Notifications: what is ignored', () => {
  it('ignores the s3:TestEvent S3 sends when notifications are configured', () => {
    // Act
    const direct = parseInvocation(loadNotification('s3-test-event'));
    const viaSqs = parseInvocation(loadNotification('sqs-s3-test-event'));

    // Assess
    for (const parsed of [direct, viaSqs]) {
      expect(parsed.items[0]!.objects).toEqual([]);
      expect(parsed.items[0]!.ignored.map((i) => i.reason)).toEqual(['test-event']);
      expect(parsed.items[0]!.error).toBeUndefined();
    }
  });

  it.each([
    ['a zero-byte object', 'sysmon/empty.xml', 0, 'empty-object'],
    ['a folder marker', 'sysmon/2024/', 5, 'folder-marker'],
    [
      'the quarantine output',
      'quarantine/sysmon/2024/01/02/x.xml.jsonl.gz',
      5,
      'quarantine-output',
    ],
  ] as const)('ignores %s', (_what, key, size, reason) => {
    // Prepare
    const event = s3EventFor({ bucket: 'b', key, size, etag: 'e' });

    // Act
    const parsed = parseInvocation(event, { ignorePrefixes: ['quarantine/'] });

    // Assess
    expect(parsed.items[0]!.objects).toEqual([]);
    expect(parsed.items[0]!.ignored).toEqual([{ reason, bucket: 'b', key }]);
  });

  it('ignores events other than object creation', () => {
    // Prepare
    const s3 = loadNotification('s3-object-created');
    s3.Records[0]!.eventName = 'ObjectRemoved:Delete';
    const eb = loadNotification('eventbridge-object-created') as unknown as Record<string, unknown>;
    eb['detail-type'] = 'Object Deleted';

    // Act
    const parsed = [parseInvocation(s3), parseInvocation(eb)];

    // Assess
    for (const p of parsed) {
      expect(p.items[0]!.objects).toEqual([]);
      expect(p.items[0]!.ignored[0]!.reason).toBe('not-object-created');
    }
  });
});

describe('Notifications: every record, and what cannot be read', () => {
  it('returns every record of a multi-record S3 event and every file of an FDR message', () => {
    // Prepare
    const s3 = loadNotification('s3-object-created');
    const second = structuredClone(s3.Records[0]!);
    second.s3.object.key = 'second.xml';
    s3.Records.push(second);
    const fdr = loadNotification('fdr-message');
    fdr.files.push({ path: 'data/x/part-00001.gz', size: 9, checksum: 'c' });

    // Act
    const fromS3 = parseInvocation(s3).items[0]!.objects.map((o) => o.key);
    const fromFdr = parseInvocation(fdr).items[0]!.objects.map((o) => o.key);

    // Assess
    expect(fromS3).toEqual(['test.pdf', 'second.xml']);
    expect(fromFdr).toEqual([
      'data/6b2f2d52-4c1f-4b8e-9e51-0c7f0f3d9a11/part-00000.gz',
      'data/x/part-00001.gz',
    ]);
  });

  it('fails only the SQS message that is not a notification', () => {
    // Prepare
    const good = JSON.stringify(s3EventFor({ bucket: 'b', key: 'k.xml', size: 1, etag: 'e' }));
    const event = sqsBatch([good, 'hello, not JSON', '{"some":"thing"}']);

    // Act
    const parsed = parseInvocation(event);

    // Assess
    expect(parsed.items.map((i) => i.error === undefined)).toEqual([true, false, false]);
    expect(parsed.items[2]!.error!.message).toContain('unrecognised notification');
  });
});
