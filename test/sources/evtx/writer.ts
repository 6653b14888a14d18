import { crc32 } from 'node:zlib';

/**
 * A test-only EVTX writer: small valid files (file header, chunks with inline names and template
 * definitions referenced again by offset, records with substitution values) that tests then
 * damage by hand. Layouts follow libyal/libevtx's format notes; nothing here is parser code.
 */

export const FILE_HEADER_BYTES = 4096;
export const CHUNK_BYTES = 65536;
const CHUNK_HEADER_BYTES = 512;

/** A substitution value: its type code and bytes. */
export interface Value {
  type: number;
  /** Nested Binary XML holds chunk-relative offsets: it is built knowing where it lands. */
  bytes: Uint8Array | ((at: number) => Uint8Array);
}

const valueBytes = (v: Value, at: number): Uint8Array =>
  typeof v.bytes === 'function' ? v.bytes(at) : v.bytes;

/** Template content: elements, literal text, substitution slots (by index). */
export type Content =
  | { element: string; attrs?: Array<[string, Content]>; children?: Content[] }
  | { text: string }
  | { sub: number; type: number; optional?: boolean };

export interface Template {
  /** Identity: records with the same template reuse its definition within a chunk. */
  id: number;
  root: Content;
}

export interface RecordSpec {
  number: number;
  template: Template;
  values: Value[];
}

export interface FileSpec {
  chunks: RecordSpec[][];
  /** Chunk count written in the file header (default: the real count). */
  headerChunkCount?: number;
  dirty?: boolean;
}

const utf16 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf16le'));

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

class Bytes {
  private parts: number[] = [];
  get length(): number {
    return this.parts.length;
  }
  u8(...v: number[]): this {
    this.parts.push(...v.map((x) => x & 0xff));
    return this;
  }
  u16(v: number): this {
    return this.u8(v, v >> 8);
  }
  u32(v: number): this {
    return this.u8(v, v >> 8, v >> 16, v >>> 24);
  }
  u64(v: number): this {
    return this.u32(v % 2 ** 32).u32(Math.floor(v / 2 ** 32));
  }
  raw(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  set32(at: number, v: number): void {
    for (let i = 0; i < 4; i++) this.parts[at + i] = (v >>> (8 * i)) & 0xff;
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.parts);
  }
}

/** Writes the Binary XML of one chunk, remembering where names and templates were defined. */
class ChunkWriter {
  private readonly names = new Map<string, number>();
  private readonly templates = new Map<number, number>();

  constructor(private readonly out: Bytes) {}

  /** A name: inline at first use in the chunk (offset pointing just past the field), else by offset. */
  private name(name: string): void {
    const known = this.names.get(name);
    if (known !== undefined) {
      this.out.u32(known);
      return;
    }
    const at = this.out.length + 4;
    this.names.set(name, at);
    this.out.u32(at).u32(0).u16(0).u16(name.length).raw(utf16(name)).u16(0);
  }

  private content(c: Content): void {
    const o = this.out;
    if ('text' in c) {
      o.u8(0x05, 0x01).u16(c.text.length).raw(utf16(c.text));
    } else if ('sub' in c) {
      o.u8(c.optional ? 0x0e : 0x0d)
        .u16(c.sub)
        .u8(c.type);
    } else {
      const attrs = c.attrs ?? [];
      o.u8(attrs.length > 0 ? 0x41 : 0x01).u16(0xffff);
      const sizeAt = o.length;
      o.u32(0);
      this.name(c.element);
      const attrListAt = o.length;
      if (attrs.length > 0) o.u32(0);
      attrs.forEach(([name, value], i) => {
        o.u8(i < attrs.length - 1 ? 0x46 : 0x06);
        this.name(name);
        this.content(value);
      });
      if (attrs.length > 0) o.set32(attrListAt, o.length - attrListAt - 4);
      const children = c.children ?? [];
      if (children.length === 0) o.u8(0x03);
      else {
        o.u8(0x02);
        for (const child of children) this.content(child);
        o.u8(0x04);
      }
      o.set32(sizeAt, o.length - sizeAt - 4);
    }
  }

  /** Fragment header, template instance (definition inline on first use), substitution values. */
  fragment(template: Template, values: Value[]): void {
    const o = this.out;
    o.u8(0x0f, 0x01, 0x01, 0x00);
    o.u8(0x0c, 0x01).u32(template.id);
    const known = this.templates.get(template.id);
    if (known !== undefined) o.u32(known);
    else {
      const at = o.length + 4;
      this.templates.set(template.id, at);
      o.u32(at).u32(0).u32(template.id).u32(0).u32(0).u32(0);
      const sizeAt = o.length;
      o.u32(0);
      o.u8(0x0f, 0x01, 0x01, 0x00);
      this.content(template.root);
      o.u8(0x00);
      o.set32(sizeAt, o.length - sizeAt - 4);
    }
    o.u32(values.length);
    for (const v of values) o.u16(valueBytes(v, 0).length).u8(v.type, 0);
    for (const v of values) o.raw(valueBytes(v, o.length));
  }
}

/** One 64 KiB chunk holding `records`, checksums set. */
export function buildChunk(records: RecordSpec[]): Uint8Array {
  const out = new Bytes();
  out.raw(new Uint8Array(CHUNK_HEADER_BYTES));
  const w = new ChunkWriter(out);
  let last = CHUNK_HEADER_BYTES;
  for (const r of records) {
    last = out.length;
    out
      .raw(new Uint8Array([0x2a, 0x2a, 0, 0]))
      .u32(0)
      .u64(r.number)
      .u64(132_000_000_000_000_000);
    w.fragment(r.template, r.values);
    out.u8(0x00);
    while ((out.length - last + 4) % 8 !== 0) out.u8(0);
    const size = out.length - last + 4;
    out.u32(size);
    out.set32(last + 4, size);
  }
  const chunk = new Uint8Array(CHUNK_BYTES);
  const body = out.bytes();
  if (body.length > CHUNK_BYTES) throw new Error('records do not fit one chunk');
  chunk.set(body);
  const first = records[0]?.number ?? 0;
  const lastNumber = records.at(-1)?.number ?? 0;
  const h = new DataView(chunk.buffer);
  chunk.set(Buffer.from('ElfChnk\0', 'latin1'));
  h.setBigUint64(8, BigInt(first), true);
  h.setBigUint64(16, BigInt(lastNumber), true);
  h.setBigUint64(24, BigInt(first), true);
  h.setBigUint64(32, BigInt(lastNumber), true);
  h.setUint32(40, 128, true);
  h.setUint32(44, last, true);
  h.setUint32(48, body.length, true);
  fixChunkChecksums(chunk);
  return chunk;
}

/** Recomputes a chunk's data and header CRC32s, after a test damaged what they cover. */
export function fixChunkChecksums(chunk: Uint8Array): void {
  const h = new DataView(chunk.buffer, chunk.byteOffset, CHUNK_HEADER_BYTES);
  h.setUint32(52, crc32(chunk.subarray(CHUNK_HEADER_BYTES, h.getUint32(48, true))), true);
  const headerCrc = crc32(chunk.subarray(128, CHUNK_HEADER_BYTES), crc32(chunk.subarray(0, 120)));
  h.setUint32(124, headerCrc, true);
}

export function buildFileHeader(chunkCount: number, dirty = false): Uint8Array {
  const b = new Uint8Array(FILE_HEADER_BYTES);
  const h = new DataView(b.buffer);
  b.set(Buffer.from('ElfFile\0', 'latin1'));
  h.setBigUint64(16, BigInt(Math.max(chunkCount - 1, 0)), true);
  h.setUint32(32, 128, true);
  h.setUint16(36, 1, true);
  h.setUint16(38, 3, true);
  h.setUint16(40, FILE_HEADER_BYTES, true);
  h.setUint16(42, chunkCount, true);
  h.setUint32(120, dirty ? 1 : 0, true);
  h.setUint32(124, crc32(b.subarray(0, 120)), true);
  return b;
}

export function buildEvtx(spec: FileSpec): Uint8Array {
  const chunks = spec.chunks.map(buildChunk);
  return concat([buildFileHeader(spec.headerChunkCount ?? chunks.length, spec.dirty), ...chunks]);
}

/** File offset of chunk `i`. */
export const chunkAt = (i: number): number => FILE_HEADER_BYTES + i * CHUNK_BYTES;

/** The chunk `i` of a file, as a view to damage in place. */
export const chunkOf = (file: Uint8Array, i: number): Uint8Array =>
  file.subarray(chunkAt(i), chunkAt(i) + CHUNK_BYTES);

/** Offsets (file-relative) of the records of chunk `i`, by walking their sizes. */
export function recordOffsets(file: Uint8Array, i: number): number[] {
  const c = chunkOf(file, i);
  const v = new DataView(c.buffer, c.byteOffset, c.length);
  const out: number[] = [];
  for (let p = CHUNK_HEADER_BYTES; p < v.getUint32(48, true); p += v.getUint32(p + 4, true)) {
    out.push(chunkAt(i) + p);
  }
  return out;
}

// Values, encoded as Windows writes them.
export const V = {
  null: (): Value => ({ type: 0x00, bytes: new Uint8Array(0) }),
  wstring: (s: string): Value => ({ type: 0x01, bytes: utf16(s) }),
  uint16: (n: number): Value => ({ type: 0x06, bytes: new Bytes().u16(n).bytes() }),
  uint32: (n: number): Value => ({ type: 0x08, bytes: new Bytes().u32(n).bytes() }),
  uint64: (n: number): Value => ({ type: 0x0a, bytes: new Bytes().u64(n).bytes() }),
  raw: (type: number, bytes: number[] | Uint8Array): Value => ({
    type,
    bytes: Uint8Array.from(bytes),
  }),
  filetime: (ticks: bigint): Value => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, ticks, true);
    return { type: 0x11, bytes: b };
  },
  /** Nested Binary XML: a fragment with its own names and template written inline. */
  binXml: (template: Template, values: Value[]): Value => ({
    type: 0x21,
    bytes: (at) => fragmentBytes(template, values, at),
  }),
};

/** A Sysmon-like template: System with substitutions 0-4, then one Data per name from slot 5. */
export function sysmonTemplate(id: number, dataNames: string[]): Template {
  return {
    id,
    root: {
      element: 'Event',
      attrs: [['xmlns', { text: 'http://schemas.microsoft.com/win/2004/08/events/event' }]],
      children: [
        {
          element: 'System',
          children: [
            { element: 'Provider', attrs: [['Name', { text: 'Microsoft-Windows-Sysmon' }]] },
            {
              element: 'EventID',
              attrs: [['Qualifiers', { sub: 4, type: 0x06, optional: true }]],
              children: [{ sub: 0, type: 0x06 }],
            },
            { element: 'TimeCreated', attrs: [['SystemTime', { sub: 1, type: 0x11 }]] },
            { element: 'EventRecordID', children: [{ sub: 2, type: 0x0a }] },
            { element: 'Channel', children: [{ text: 'Microsoft-Windows-Sysmon/Operational' }] },
            { element: 'Computer', children: [{ sub: 3, type: 0x01 }] },
          ],
        },
        {
          element: 'EventData',
          children: dataNames.map((name, i) => ({
            element: 'Data',
            attrs: [['Name', { text: name }]] as Array<[string, Content]>,
            children: [{ sub: 5 + i, type: 0x01, optional: true }] as Content[],
          })),
        },
      ],
    },
  };
}

/** FILETIME ticks python-evtx writes as `2019-06-15 07:13:44.106609` (a real record's). */
export const TICKS = 132050564241066098n;

/** A record of `sysmonTemplate`: event id, record number, computer and the Data values. */
export function sysmonRecord(
  template: Template,
  n: number,
  eventId: number,
  data: Value[],
): RecordSpec {
  return {
    number: n,
    template,
    values: [
      V.uint16(eventId),
      V.filetime(TICKS),
      V.uint64(1000 + n),
      V.wstring('HOST'),
      V.null(),
      ...data,
    ],
  };
}

/** Binary XML of a standalone fragment written at chunk offset `base`, names and template inline. */
function fragmentBytes(template: Template, values: Value[], base: number): Uint8Array {
  const out = new Bytes();
  out.raw(new Uint8Array(base));
  new ChunkWriter(out).fragment(template, values);
  out.u8(0x00);
  return out.bytes().subarray(base);
}
