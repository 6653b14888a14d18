import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type PutObjectCommandOutput } from '@aws-sdk/client-s3';
import type { ObjectDamage, SkippedRecord, SkipReason } from '../engine/types.ts';
import type { SourceName } from '../event/types.ts';
import { QuarantineError } from './errors.ts';

/** S3 keys are at most 1,024 bytes of UTF-8. */
export const MAX_S3_KEY_BYTES = 1024;
/** Characters of an engine message kept per quarantine line (messages are one sentence). */
export const MAX_QUARANTINE_MESSAGE_CHARS = 1024;
export const QUARANTINE_SUFFIX = '.jsonl.gz';

/** One line of a quarantine file. */
export type QuarantineLine =
  | ({ type: 'skipped' } & SkippedRecord)
  | {
      type: 'damage';
      origin: string;
      reason: ObjectDamage['reason'];
      message: string;
      /** The object's first bytes, when its shape could not be told. */
      head?: string;
    }
  | {
      type: 'truncated';
      origin: string;
      /** Skipped records past the limits: counted here, not kept. */
      droppedRecords: number;
      droppedByReason: Partial<Record<SkipReason, number>>;
      maxRecords: number;
      maxBytes: number;
    };

export interface QuarantineLimits {
  maxRecords: number;
  /** Uncompressed JSONL bytes of skipped-record lines. */
  maxBytes: number;
}

const clip = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max)}…` : s);

/**
 * Collects what an analyst needs about the records of one object that could not be used, bounded
 * in count and bytes: past the bounds records are counted by reason in a final `truncated` line,
 * so nothing disappears without a trace and a flood of bad records cannot exhaust memory.
 */
export class QuarantineCollector {
  private readonly lines: string[] = [];
  private bytes = 0;
  private kept = 0;
  private dropped = 0;
  private readonly droppedByReason: Partial<Record<SkipReason, number>> = {};
  private damageLine: string | undefined;

  constructor(
    private readonly origin: string,
    private readonly limits: QuarantineLimits,
  ) {}

  add(skip: SkippedRecord): void {
    const line = `${JSON.stringify({
      type: 'skipped',
      ...skip,
      message: clip(skip.message, MAX_QUARANTINE_MESSAGE_CHARS),
    } satisfies QuarantineLine)}\n`;
    const size = Buffer.byteLength(line);
    if (this.kept >= this.limits.maxRecords || this.bytes + size > this.limits.maxBytes) {
      this.dropped++;
      this.droppedByReason[skip.reason] = (this.droppedByReason[skip.reason] ?? 0) + 1;
      return;
    }
    this.lines.push(line);
    this.bytes += size;
    this.kept++;
  }

  /** The object could not be read to its end: said once, whatever the limits. */
  damage(damage: ObjectDamage): void {
    this.damageLine = `${JSON.stringify({
      type: 'damage',
      origin: this.origin,
      reason: damage.reason,
      message: clip(damage.message, MAX_QUARANTINE_MESSAGE_CHARS),
      ...(damage.excerpt === undefined ? {} : { head: damage.excerpt }),
    } satisfies QuarantineLine)}\n`;
  }

  /** Skipped records written to the file. */
  get records(): number {
    return this.kept;
  }

  get isEmpty(): boolean {
    return this.kept === 0 && this.dropped === 0 && this.damageLine === undefined;
  }

  /** The file's text: skipped records in order, then the damage, then what was left out. */
  toJsonl(): string {
    const tail: string[] = [];
    if (this.damageLine) tail.push(this.damageLine);
    if (this.dropped > 0) {
      tail.push(
        `${JSON.stringify({
          type: 'truncated',
          origin: this.origin,
          droppedRecords: this.dropped,
          droppedByReason: this.droppedByReason,
          maxRecords: this.limits.maxRecords,
          maxBytes: this.limits.maxBytes,
        } satisfies QuarantineLine)}\n`,
      );
    }
    return this.lines.join('') + tail.join('');
  }
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * `<prefix><source>/<yyyy>/<mm>/<dd>/<object key>.jsonl.gz`, dated by when it was processed (UTC).
 * A key too long for S3 keeps its last characters behind a hash of the whole key, so it stays
 * unique and still recognisable.
 */
export function quarantineKey(
  prefix: string,
  source: SourceName,
  objectKey: string,
  now: Date,
): string {
  const dir = `${prefix}${source}/${now.getUTCFullYear()}/${pad2(now.getUTCMonth() + 1)}/${pad2(now.getUTCDate())}/`;
  const key = `${dir}${objectKey}${QUARANTINE_SUFFIX}`;
  if (Buffer.byteLength(key) <= MAX_S3_KEY_BYTES) return key;
  const hash = createHash('sha256').update(objectKey).digest('hex').slice(0, 16);
  const room = MAX_S3_KEY_BYTES - Buffer.byteLength(`${dir}${hash}-${QUARANTINE_SUFFIX}`);
  let tail = objectKey;
  // Trim whole characters from the front until the UTF-8 tail fits.
  while (Buffer.byteLength(tail) > room) tail = [...tail].slice(1).join('');
  return `${dir}${hash}-${tail}${QUARANTINE_SUFFIX}`;
}

export interface S3Writer {
  send(command: PutObjectCommand): Promise<PutObjectCommandOutput>;
}

/** Writes the collector's lines gzipped to `bucket/key`. Throws QuarantineError. */
export async function writeQuarantine(
  s3: S3Writer,
  bucket: string,
  key: string,
  collector: QuarantineCollector,
): Promise<void> {
  // Bounded by the limits (1 MiB by default), so building it in memory is fine.
  const body = gzipSync(Buffer.from(collector.toJsonl(), 'utf8'));
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        // A .gz file, not a gzip-encoded text: tools that honour Content-Encoding would
        // otherwise hand the analyst plain text under a .gz name.
        ContentType: 'application/gzip',
      }),
    );
  } catch (err) {
    throw new QuarantineError(key, `PutObject to ${bucket} failed: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
