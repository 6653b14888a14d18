import { isUtf8 } from 'node:buffer';
import type { ReaderOptions, RecordSkip } from '../engine/input.ts';
import { excerptOf } from '../text/record.ts';

export type Json = Record<string, unknown>;

/** One JSON record's text parsed as an object, or why it is not one. */
export function parseJsonObject(text: string): { json: Json } | RecordSkip {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return { skip: 'invalid-json', message: `not valid JSON: ${(err as Error).message}` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return {
      skip: 'not-an-object',
      message: `a JSON ${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v} is not an event`,
    };
  }
  return { json: v as Json };
}

/** parseJsonObject on a record's bytes, which must be UTF-8. */
export function parseJsonBytes(bytes: Buffer): { json: Json } | RecordSkip {
  if (!isUtf8(bytes)) return { skip: 'invalid-encoding', message: 'record is not valid UTF-8' };
  return parseJsonObject(bytes.toString('utf8'));
}

/** A JSON value as text: strings as they are, numbers and booleans written out. */
export const jsonText = (v: unknown): string | undefined =>
  typeof v === 'string'
    ? v
    : typeof v === 'number' || typeof v === 'boolean'
      ? String(v)
      : undefined;

/** `o.a.b.c` when every step is an object. */
export function jsonPath(o: Json, ...path: string[]): unknown {
  let v: unknown = o;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Json)[key];
  }
  return v;
}

/** Every string-or-number member of `o`, as text (a flattened event's data fields). */
export function textMembers(o: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return out;
  for (const [k, v] of Object.entries(o)) {
    const text = jsonText(v);
    if (text !== undefined) out[k] = text;
  }
  return out;
}

/**
 * The record `[start, end)` of `buf` parsed as a JSON object, counted as parsed; undefined when it
 * is none, after reporting why as a located skip.
 */
export function readJsonRecord(
  o: Pick<ReaderOptions, 'parsed' | 'skip'>,
  buf: Buffer,
  start: number,
  end: number,
  record: number,
  offset: number,
): Json | undefined {
  o.parsed();
  const v = parseJsonBytes(buf.subarray(start, end));
  if (!('skip' in v)) return v.json;
  o.skip(v.skip, v.message, record, offset, excerptOf(buf, start, end));
  return undefined;
}
