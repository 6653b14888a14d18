import { inlineValueSize, renderInlineValue, renderValue, VALUE_TYPE } from './values.ts';

/**
 * Binary XML as EVTX writes it: a record is a fragment holding one template instance, whose
 * template definition (an element tree with numbered substitution slots) is written inline in
 * the chunk on first use and referenced later by its chunk-relative offset; the record then
 * carries the substitution values. A value of type 0x21 is itself a Binary XML fragment.
 *
 * The walker turns this into start/attribute/text/end calls on a sink, the way python-evtx's XML
 * view renders it (optional substitutions that are null still give an empty element), and reads
 * only the values the sink wants.
 */

/** Nesting bound for elements, template instances and Binary XML values, against cycles. */
export const MAX_BINXML_DEPTH = 64;

const TOKEN = {
  endOfStream: 0x00,
  openStartElement: 0x01,
  closeStartElement: 0x02,
  closeEmptyElement: 0x03,
  endElement: 0x04,
  value: 0x05,
  attribute: 0x06,
  cdata: 0x07,
  charRef: 0x08,
  entityRef: 0x09,
  piTarget: 0x0a,
  piData: 0x0b,
  templateInstance: 0x0c,
  normalSubstitution: 0x0d,
  optionalSubstitution: 0x0e,
  fragmentHeader: 0x0f,
} as const;

/** Set on OpenStartElement when an attribute list follows. */
const HAS_ATTRIBUTES = 0x40;

/** Bytes of a template definition's header: next offset, GUID, data size. */
const TEMPLATE_HEADER_BYTES = 24;

/** A record whose Binary XML cannot be read; the parser turns it into a located skip. */
export class EvtxBinXmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvtxBinXmlError';
  }
}

/** What the walker reports; `stop` set by the sink ends the walk early. */
export interface BinXmlSink {
  stop: boolean;
  start(name: string): void;
  end(): void;
  wantsAttr(name: string): boolean;
  attr(name: string, value: string): void;
  wantsText(): boolean;
  text(value: string): void;
}

/** A chunk's bytes (chunk-relative offsets) and the names resolved so far in it. */
export class ChunkBytes {
  private readonly names = new Map<number, string>();

  constructor(
    readonly b: Buffer,
    /** Bytes of the chunk actually present (less than 64 KiB when the input was cut). */
    readonly limit: number,
  ) {}

  /** A name string: next offset (4), hash (2), character count (2), UTF-16, NUL. */
  name(at: number): string {
    const cached = this.names.get(at);
    if (cached !== undefined) return cached;
    need(at, 8, this.limit, 'name');
    const count = this.b.readUInt16LE(at + 6);
    need(at + 8, 2 * count, this.limit, 'name');
    const name = this.b.toString('utf16le', at + 8, at + 8 + 2 * count);
    this.names.set(at, name);
    return name;
  }

  /** Bytes a name string written inline takes. */
  nameBytes(at: number): number {
    need(at, 8, this.limit, 'name');
    return 10 + 2 * this.b.readUInt16LE(at + 6);
  }
}

function need(at: number, bytes: number, end: number, what: string): void {
  if (at < 0 || at + bytes > end) {
    throw new EvtxBinXmlError(`${what} at chunk offset ${at} runs past its end (${end})`);
  }
}

/** The substitution values of one template instance: offsets, sizes and types. */
interface Substitutions {
  at: Int32Array;
  size: Int32Array;
  type: Uint8Array;
}

/** Walks one fragment ([start, end) of the chunk) into `sink`. */
export function walkFragment(c: ChunkBytes, start: number, end: number, sink: BinXmlSink): void {
  new Walker(c, sink).content(start, end, undefined, 0, false);
}

class Walker {
  private readonly b: Buffer;
  private readonly emitText = (v: string): void => this.sink.text(v);

  constructor(
    private readonly c: ChunkBytes,
    private readonly sink: BinXmlSink,
  ) {
    this.b = c.b;
  }

  /** Tokens until end of stream (or the end of the enclosing element); returns the next offset. */
  content(
    pos: number,
    end: number,
    subs: Substitutions | undefined,
    depth: number,
    inElement: boolean,
  ): number {
    if (depth > MAX_BINXML_DEPTH)
      throw new EvtxBinXmlError(`nesting deeper than ${MAX_BINXML_DEPTH}`);
    const { b, sink } = this;
    while (!sink.stop) {
      if (pos >= end) {
        if (inElement) throw new EvtxBinXmlError(`element not closed before offset ${end}`);
        return pos;
      }
      const token = b[pos]!;
      switch (token & 0x0f) {
        case TOKEN.endOfStream:
          if (inElement) throw new EvtxBinXmlError(`end of stream inside an element at ${pos}`);
          return pos + 1;
        case TOKEN.endElement:
          if (!inElement) throw new EvtxBinXmlError(`end element outside an element at ${pos}`);
          return pos + 1;
        case TOKEN.fragmentHeader:
          pos += 4;
          break;
        case TOKEN.openStartElement:
          pos = this.element(pos, end, subs, depth + 1);
          break;
        case TOKEN.templateInstance:
          pos = this.templateInstance(pos, end, depth + 1);
          break;
        case TOKEN.normalSubstitution:
        case TOKEN.optionalSubstitution:
          need(pos, 4, end, 'substitution');
          this.substitutionContent(b.readUInt16LE(pos + 1), subs, depth + 1);
          pos += 4;
          break;
        default:
          pos = this.textToken(pos, end, sink.wantsText(), this.emitText);
      }
    }
    return pos;
  }

  /** Value, character/entity reference, CDATA or processing instruction: rendered as text. */
  private textToken(pos: number, end: number, wants: boolean, emit: (v: string) => void): number {
    const b = this.b;
    const token = b[pos]! & 0x0f;
    switch (token) {
      case TOKEN.value: {
        need(pos, 2, end, 'value');
        const type = b[pos + 1]!;
        const size = inlineValueSize(b, pos + 2, type);
        need(pos + 2, size, end, 'value');
        if (wants) emit(renderInlineValue(b, pos + 2, size, type));
        return pos + 2 + size;
      }
      case TOKEN.charRef:
        need(pos, 3, end, 'character reference');
        // python-evtx escapes the reference it writes, so its dump reads back as this text.
        if (wants)
          emit(
            `&#x${b
              .readUInt16LE(pos + 1)
              .toString(16)
              .padStart(4, '0')};`,
          );
        return pos + 3;
      case TOKEN.entityRef:
      case TOKEN.piTarget: {
        const [name, next] = this.nameRef(pos, end);
        if (wants) emit(token === TOKEN.entityRef ? `&${name};` : `<?${name}`);
        return next;
      }
      case TOKEN.cdata:
      case TOKEN.piData: {
        need(pos, 3, end, 'text');
        const n = b.readUInt16LE(pos + 1);
        const bytes = token === TOKEN.cdata ? n : 2 * n;
        need(pos + 3, bytes, end, 'text');
        const s = b.toString('utf16le', pos + 3, pos + 3 + bytes);
        if (wants) emit(token === TOKEN.cdata ? s : ` ${s}?>`);
        return pos + 3 + bytes;
      }
      default:
        throw new EvtxBinXmlError(
          `unexpected token 0x${token.toString(16)} at chunk offset ${pos}`,
        );
    }
  }

  /** A token holding a name offset (4 bytes after the token), the name inline when it follows. */
  private nameRef(pos: number, end: number): [string, number] {
    need(pos, 5, end, 'name reference');
    const at = this.b.readUInt32LE(pos + 1);
    const next = at > pos ? pos + 5 + this.c.nameBytes(at) : pos + 5;
    return [this.c.name(at), next];
  }

  private element(
    pos: number,
    end: number,
    subs: Substitutions | undefined,
    depth: number,
  ): number {
    const { b, sink } = this;
    need(pos, 11, end, 'element');
    const nameAt = b.readUInt32LE(pos + 7);
    let p = nameAt > pos ? pos + 11 + this.c.nameBytes(nameAt) : pos + 11;
    if (b[pos]! & HAS_ATTRIBUTES) p += 4;
    sink.start(this.c.name(nameAt));
    while (p < end && (b[p]! & 0x0f) === TOKEN.attribute) {
      const [name, valueAt] = this.nameRef(p, end);
      need(valueAt, 1, end, 'attribute value');
      const wanted = sink.wantsAttr(name);
      let value = '';
      // python-evtx reads one token as the value (a Value or a substitution, usually).
      p = this.attributeValue(valueAt, end, subs, wanted, (v) => {
        value = v;
      });
      if (wanted) sink.attr(name, value);
    }
    need(p, 1, end, 'element');
    const close = b[p]! & 0x0f;
    if (close === TOKEN.closeEmptyElement) p += 1;
    else if (close === TOKEN.closeStartElement) p = this.content(p + 1, end, subs, depth, true);
    else
      throw new EvtxBinXmlError(
        `unexpected token 0x${close.toString(16)} closing a start tag at ${p}`,
      );
    sink.end();
    return p;
  }

  private attributeValue(
    pos: number,
    end: number,
    subs: Substitutions | undefined,
    wanted: boolean,
    emit: (v: string) => void,
  ): number {
    const token = this.b[pos]! & 0x0f;
    if (token === TOKEN.normalSubstitution || token === TOKEN.optionalSubstitution) {
      need(pos, 4, end, 'substitution');
      if (wanted) emit(this.substitutionText(this.b.readUInt16LE(pos + 1), subs));
      return pos + 4;
    }
    return this.textToken(pos, end, wanted, emit);
  }

  /** A substitution as text; Binary XML in an attribute gives an empty value. */
  private substitutionText(index: number, subs: Substitutions | undefined): string {
    const i = this.checkIndex(index, subs);
    const type = subs!.type[i]!;
    if (type === VALUE_TYPE.binXml) return '';
    return renderValue(this.b, subs!.at[i]!, subs!.size[i]!, type);
  }

  /** A substitution in element content: nested Binary XML is walked, any other value is text. */
  private substitutionContent(index: number, subs: Substitutions | undefined, depth: number): void {
    const i = this.checkIndex(index, subs);
    const at = subs!.at[i]!;
    const size = subs!.size[i]!;
    if (subs!.type[i] === VALUE_TYPE.binXml) {
      this.content(at, at + size, undefined, depth, false);
    } else if (this.sink.wantsText()) {
      this.sink.text(renderValue(this.b, at, size, subs!.type[i]!));
    }
  }

  private checkIndex(index: number, subs: Substitutions | undefined): number {
    if (subs === undefined || index >= subs.at.length) {
      throw new EvtxBinXmlError(`substitution ${index} of ${subs?.at.length ?? 0} values`);
    }
    return index;
  }

  /**
   * Template instance: token, 1 unknown byte, template id (4), definition offset (4); the
   * definition follows inline when its offset lies ahead; then the substitution values.
   */
  private templateInstance(pos: number, end: number, depth: number): number {
    const b = this.b;
    need(pos, 10, end, 'template instance');
    const definition = b.readUInt32LE(pos + 6);
    need(definition, TEMPLATE_HEADER_BYTES, this.c.limit, 'template definition');
    const bodyStart = definition + TEMPLATE_HEADER_BYTES;
    const bodyEnd = bodyStart + b.readUInt32LE(definition + 20);
    need(bodyStart, bodyEnd - bodyStart, this.c.limit, 'template definition');
    // python-evtx's rule: a definition offset past the instance means the definition is inline.
    const p = definition > pos ? pos + 10 + (bodyEnd - definition) : pos + 10;
    const [subs, next] = this.substitutions(p, end);
    this.content(bodyStart, bodyEnd, subs, depth, false);
    return next;
  }

  /** Count (4), then a (size 2, type 1, pad 1) descriptor per value, then the values. */
  private substitutions(pos: number, end: number): [Substitutions, number] {
    const b = this.b;
    need(pos, 4, end, 'substitution array');
    const count = b.readUInt32LE(pos);
    need(pos + 4, 4 * count, end, 'substitution descriptors');
    const subs: Substitutions = {
      at: new Int32Array(count),
      size: new Int32Array(count),
      type: new Uint8Array(count),
    };
    let value = pos + 4 + 4 * count;
    for (let i = 0, d = pos + 4; i < count; i++, d += 4) {
      const size = b.readUInt16LE(d);
      subs.at[i] = value;
      subs.size[i] = size;
      subs.type[i] = b[d + 2]!;
      value += size;
    }
    need(pos, value - pos, end, 'substitution values');
    return [subs, value];
  }
}
