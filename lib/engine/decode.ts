import { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import * as zlib from 'node:zlib';
import { MAX_DECOMPRESSED_BYTES } from './limits.ts';
import type { ObjectDamage } from './types.ts';

/**
 * Read size for local files (`scan`, the benchmark), in bytes: about what an S3 body delivers per
 * chunk (socket reads of at most 64 KiB, TLS records of 16 KiB). Reading 1 MiB at a time made even
 * gunzip-and-split grow from 72 to 129 MiB resident between 100 MiB and 1 GiB of input: buffers
 * that large outlive a scavenge, wait for a full GC, and fragment the C heap meanwhile.
 */
export const READ_CHUNK_BYTES = 64 * 1024;

/** zlib output chunk size, in bytes: large chunks keep per-chunk overhead off the hot path. */
export const DECOMPRESS_CHUNK_BYTES = 256 * 1024;

/**
 * Largest text chunk handed on, in bytes. The splitters take a latin1 view of every chunk; V8
 * allocates a string over 128 KiB in its large-object space (a fresh mapping per string, every
 * page faulted in), which made that view cost ~1.2 s per GiB at 256 KiB against ~0.1 s at 64 KiB.
 */
export const TEXT_CHUNK_BYTES = 64 * 1024;

/** Bytes sniffed to decide between gzip, zstd, UTF-16 and UTF-8 text. */
const SNIFF_BYTES = 4;

/** The stream stopped early; what was decoded before it still counts. */
export class InputDamageError extends Error {
  readonly damage: ObjectDamage;
  constructor(damage: ObjectDamage, options?: ErrorOptions) {
    super(damage.message, options);
    this.name = 'InputDamageError';
    this.damage = damage;
  }
}

export interface DecodeCounters {
  /** Bytes read from the input as stored. */
  bytesIn: number;
  /** Bytes of UTF-8 text produced. */
  bytesDecoded: number;
}

export interface DecodeOptions {
  maxDecompressedBytes?: number;
  counters: DecodeCounters;
}

type Compression = 'gzip' | 'zstd' | 'none';

const startsWith = (b: Uint8Array, ...sig: number[]): boolean =>
  b.length >= sig.length && sig.every((v, i) => b[i] === v);

function sniffCompression(head: Uint8Array): Compression {
  if (startsWith(head, 0x1f, 0x8b)) return 'gzip';
  if (startsWith(head, 0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  const other: Array<[string, number[]]> = [
    ['bzip2', [0x42, 0x5a, 0x68]],
    ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a]],
    ['zip', [0x50, 0x4b, 0x03, 0x04]],
  ];
  for (const [name, sig] of other) {
    if (startsWith(head, ...sig)) {
      throw new InputDamageError({
        reason: 'unsupported-compression',
        message: `${name} compression is not supported (use gzip, zstd or plain text)`,
      });
    }
  }
  return 'none';
}

/** Reads until at least `n` bytes are buffered (or the input ends), then replays everything. */
async function peek(
  input: AsyncIterable<Uint8Array>,
  n: number,
): Promise<{ head: Buffer; rest: AsyncIterator<Uint8Array> }> {
  const it = input[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let size = 0;
  while (size < n) {
    const { value, done } = await it.next();
    if (done) break;
    const b = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    parts.push(b);
    size += b.length;
  }
  return { head: Buffer.concat(parts), rest: it };
}

async function* replay(
  head: Buffer,
  rest: AsyncIterator<Uint8Array>,
  counters: DecodeCounters,
): AsyncGenerator<Buffer> {
  counters.bytesIn += head.length;
  if (head.length > 0) yield head;
  for (;;) {
    const { value, done } = await rest.next();
    if (done) return;
    counters.bytesIn += value.byteLength;
    yield Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
}

function zlibDamage(err: unknown, codec: string): InputDamageError {
  const e = err as NodeJS.ErrnoException;
  const truncated = e.code === 'Z_BUF_ERROR' || /unexpected end/i.test(e.message ?? '');
  return new InputDamageError(
    truncated
      ? { reason: 'truncated-gzip', message: `${codec} stream ends early (truncated object)` }
      : {
          reason: 'corrupt-compression',
          message: `${codec} stream is corrupt: ${e.message ?? String(err)}`,
        },
    { cause: err },
  );
}

async function* decompress(
  source: AsyncGenerator<Buffer>,
  codec: Exclude<Compression, 'none'>,
): AsyncGenerator<Buffer> {
  let inflater: zlib.Gunzip;
  if (codec === 'gzip') {
    inflater = zlib.createGunzip({ chunkSize: DECOMPRESS_CHUNK_BYTES });
  } else {
    // zstd arrived in Node 22.15 / 23.8; the Lambda runtime (nodejs22.x) has it, Node 20 does not.
    const create = (zlib as unknown as { createZstdDecompress?: (o: object) => zlib.Gunzip })
      .createZstdDecompress;
    if (!create) {
      throw new InputDamageError({
        reason: 'unsupported-compression',
        message: `zstd needs Node >= 22.15 (running ${process.version})`,
      });
    }
    inflater = create({ chunkSize: DECOMPRESS_CHUNK_BYTES });
  }
  const readable = Readable.from(source, { objectMode: false });
  readable.on('error', (err) => inflater.destroy(err));
  readable.pipe(inflater);
  try {
    for await (const chunk of inflater) yield chunk as Buffer;
  } catch (err) {
    if (err instanceof InputDamageError) throw err;
    if ((err as NodeJS.ErrnoException).code?.startsWith('Z_')) throw zlibDamage(err, codec);
    throw new InputDamageError(
      { reason: 'read-failed', message: (err as Error).message },
      {
        cause: err,
      },
    );
  } finally {
    readable.destroy();
    inflater.destroy();
  }
}

type TextEncoding = 'utf8' | 'utf-16le' | 'utf-16be';

function sniffEncoding(head: Buffer): { encoding: TextEncoding; bom: number } {
  if (startsWith(head, 0xef, 0xbb, 0xbf)) return { encoding: 'utf8', bom: 3 };
  if (startsWith(head, 0xff, 0xfe)) return { encoding: 'utf-16le', bom: 2 };
  if (startsWith(head, 0xfe, 0xff)) return { encoding: 'utf-16be', bom: 2 };
  // UTF-16 without a BOM still starts with an ASCII character next to a zero byte.
  if (head.length >= 2 && head[0] !== 0 && head[1] === 0) return { encoding: 'utf-16le', bom: 0 };
  if (head.length >= 2 && head[0] === 0 && head[1] !== 0) return { encoding: 'utf-16be', bom: 0 };
  return { encoding: 'utf8', bom: 0 };
}

/**
 * The stored bytes decompressed: compression chosen by the first bytes (never by the name), at
 * most `maxDecompressedBytes` of output. Streams throughout: at most one zlib chunk is in flight.
 * Throws InputDamageError where the input stops making sense; everything yielded before stays valid.
 */
export async function* decompressed(
  input: AsyncIterable<Uint8Array>,
  options: DecodeOptions,
): AsyncGenerator<Buffer> {
  const maxBytes = options.maxDecompressedBytes ?? MAX_DECOMPRESSED_BYTES;
  const { head, rest } = await peek(input, SNIFF_BYTES);
  const codec = sniffCompression(head);
  const stored = replay(head, rest, options.counters);
  const raw = codec === 'none' ? stored : decompress(stored, codec);
  let total = 0;
  for await (const chunk of raw) {
    total += chunk.length;
    if (total > maxBytes) {
      throw new InputDamageError({
        reason: 'too-large',
        message: `decompressed size exceeds MAX_DECOMPRESSED_BYTES (${maxBytes} bytes); the rest is not read`,
      });
    }
    yield chunk;
  }
}

/**
 * Decompressed bytes as UTF-8 text chunks of at most TEXT_CHUNK_BYTES, the encoding chosen by the
 * BOM (UTF-16 is converted). Binary content is damage (`not-text`).
 */
export async function* toUtf8(
  raw: AsyncIterable<Buffer>,
  counters: DecodeCounters,
): AsyncGenerator<Buffer> {
  let decoder: TextDecoder | undefined;
  let first = true;
  for await (const chunk of raw) {
    let text = chunk;
    if (first) {
      first = false;
      const { encoding, bom } = sniffEncoding(chunk);
      if (encoding !== 'utf8') decoder = new TextDecoder(encoding, { fatal: false });
      text = chunk.subarray(bom);
      if (!decoder && looksBinary(text)) {
        throw new InputDamageError({
          reason: 'not-text',
          message: `content is neither gzip, zstd nor text (first bytes ${chunk.subarray(0, 8).toString('hex')})`,
        });
      }
    }
    if (decoder) text = Buffer.from(decoder.decode(text, { stream: true }), 'utf8');
    if (text.length === 0) continue;
    counters.bytesDecoded += text.length;
    for (let p = 0; p < text.length; p += TEXT_CHUNK_BYTES) {
      yield p === 0 && text.length <= TEXT_CHUNK_BYTES
        ? text
        : text.subarray(p, p + TEXT_CHUNK_BYTES);
    }
  }
  if (decoder) {
    const tail = Buffer.from(decoder.decode(), 'utf8');
    if (tail.length > 0) {
      counters.bytesDecoded += tail.length;
      yield tail;
    }
  }
}

/** `decompressed` then `toUtf8`: stored bytes to UTF-8 text chunks. */
export function decodeToUtf8(
  input: AsyncIterable<Uint8Array>,
  options: DecodeOptions,
): AsyncGenerator<Buffer> {
  return toUtf8(decompressed(input, options), options.counters);
}

/** Text logs have no NUL bytes; binary files (executables, images, EVTX) almost always do. */
function looksBinary(b: Buffer): boolean {
  const n = Math.min(b.length, 4096);
  for (let i = 0; i < n; i++) if (b[i] === 0) return true;
  return false;
}
