import { EvtxBinXmlError } from './errors.ts';
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
  private readonly literals = new Map<number, string>();

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

  /**
   * The text of a Value token in a template (a Data element's Name, say), rendered once per chunk:
   * the same string each time also spares the engine re-hashing it as a property key.
   */
  literal(at: number, type: number, size: number): string {
    let text = this.literals.get(at);
    if (text === undefined) {
      text = renderInlineValue(this.b, at, size, type);
      this.literals.set(at, text);
    }
    return text;
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
  count: number;
  at: number[];
  size: number[];
  type: number[];
}

/**
 * Walks fragments of a chunk into a sink. One walker serves a whole parse: the substitution
 * arrays are kept per nesting level and reused, since records are walked one at a time.
 */
export class BinXmlWalker {
  private c!: ChunkBytes;
  private b!: Buffer;
  private sink!: BinXmlSink;
  private readonly pool: Substitutions[] = [];
  private level = 0;
  /** The text the last text token rendered, when it was wanted. */
  private lastText: string | undefined;

  /** Walks the fragment in [start, end) of the chunk. */
  walk(c: ChunkBytes, start: number, end: number, sink: BinXmlSink): void {
    this.c = c;
    this.b = c.b;
    this.sink = sink;
    this.level = 0;
    this.content(start, end, undefined, 0, false);
  }

  /** Tokens until end of stream (or the end of the enclosing element); returns the next offset. */
  private content(
    pos: number,
    end: number,
    subs: Substitutions | undefined,
    depth: number,
    inElement: boolean,
  ): number {
    if (depth > MAX_BINXML_DEPTH) {
      throw new EvtxBinXmlError(`nesting deeper than ${MAX_BINXML_DEPTH}`);
    }
    const { b, sink } = this;
    while (!sink.stop) {
      if (pos >= end) {
        if (inElement) throw new EvtxBinXmlError(`element not closed before offset ${end}`);
        return pos;
      }
      switch (b[pos]! & 0x0f) {
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
          pos = this.textToken(pos, end, sink.wantsText());
          if (this.lastText !== undefined) sink.text(this.lastText);
      }
    }
    return pos;
  }

  /**
   * Value, character/entity reference, CDATA or processing instruction: rendered into
   * `lastText` when wanted (python-evtx writes references escaped, so its dump reads back as
   * the reference's own text).
   */
  private textToken(pos: number, end: number, wants: boolean): number {
    const b = this.b;
    const token = b[pos]! & 0x0f;
    this.lastText = undefined;
    switch (token) {
      case TOKEN.value: {
        need(pos, 2, end, 'value');
        const type = b[pos + 1]!;
        const size = inlineValueSize(b, pos + 2, type);
        need(pos + 2, size, end, 'value');
        if (wants) this.lastText = this.c.literal(pos + 2, type, size);
        return pos + 2 + size;
      }
      case TOKEN.charRef:
        need(pos, 3, end, 'character reference');
        if (wants)
          this.lastText = `&#x${b
            .readUInt16LE(pos + 1)
            .toString(16)
            .padStart(4, '0')};`;
        return pos + 3;
      case TOKEN.entityRef:
      case TOKEN.piTarget: {
        const next = this.nameRef(pos, end);
        const name = this.c.name(b.readUInt32LE(pos + 1));
        if (wants) this.lastText = token === TOKEN.entityRef ? `&${name};` : `<?${name}`;
        return next;
      }
      case TOKEN.cdata:
      case TOKEN.piData: {
        need(pos, 3, end, 'text');
        const n = b.readUInt16LE(pos + 1);
        const bytes = token === TOKEN.cdata ? n : 2 * n;
        need(pos + 3, bytes, end, 'text');
        if (wants) {
          const s = b.toString('utf16le', pos + 3, pos + 3 + bytes);
          this.lastText = token === TOKEN.cdata ? s : ` ${s}?>`;
        }
        return pos + 3 + bytes;
      }
      default:
        throw new EvtxBinXmlError(
          `unexpected token 0x${token.toString(16)} at chunk offset ${pos}`,
        );
    }
  }

  /** Offset after a token holding a name offset (4 bytes), the name inline when it lies ahead. */
  private nameRef(pos: number, end: number): number {
    need(pos, 5, end, 'name reference');
    const at = this.b.readUInt32LE(pos + 1);
    return at > pos ? pos + 5 + this.c.nameBytes(at) : pos + 5;
  }

  /**
   * OpenStartElement: token, dependency id (2), data size (4), name offset (4), the name when
   * inline, the attribute list size (4) when the token says attributes follow.
   */
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
      const valueAt = this.nameRef(p, end);
      const name = this.c.name(b.readUInt32LE(p + 1));
      need(valueAt, 1, end, 'attribute value');
      const wanted = sink.wantsAttr(name);
      // python-evtx reads one token as the value (a Value or a substitution, usually).
      p = this.attributeValue(valueAt, end, subs, wanted);
      if (wanted) sink.attr(name, this.lastText ?? '');
    }
    need(p, 1, end, 'element');
    const close = b[p]! & 0x0f;
    if (close === TOKEN.closeEmptyElement) p += 1;
    else if (close === TOKEN.closeStartElement) p = this.content(p + 1, end, subs, depth, true);
    else {
      throw new EvtxBinXmlError(
        `unexpected token 0x${close.toString(16)} closing a start tag at ${p}`,
      );
    }
    sink.end();
    return p;
  }

  private attributeValue(
    pos: number,
    end: number,
    subs: Substitutions | undefined,
    wanted: boolean,
  ): number {
    const token = this.b[pos]! & 0x0f;
    if (token === TOKEN.normalSubstitution || token === TOKEN.optionalSubstitution) {
      need(pos, 4, end, 'substitution');
      this.lastText = wanted
        ? this.substitutionText(this.b.readUInt16LE(pos + 1), subs)
        : undefined;
      return pos + 4;
    }
    return this.textToken(pos, end, wanted);
  }

  /** A substitution as text; Binary XML in an attribute gives an empty value. */
  private substitutionText(index: number, subs: Substitutions | undefined): string {
    const s = this.checked(index, subs);
    const type = s.type[index]!;
    if (type === VALUE_TYPE.binXml) return '';
    return renderValue(this.b, s.at[index]!, s.size[index]!, type);
  }

  /** A substitution in element content: nested Binary XML is walked, any other value is text. */
  private substitutionContent(index: number, subs: Substitutions | undefined, depth: number): void {
    const s = this.checked(index, subs);
    const at = s.at[index]!;
    const size = s.size[index]!;
    const type = s.type[index]!;
    if (type === VALUE_TYPE.binXml) this.content(at, at + size, undefined, depth, false);
    else if (this.sink.wantsText()) this.sink.text(renderValue(this.b, at, size, type));
  }

  private checked(index: number, subs: Substitutions | undefined): Substitutions {
    if (subs === undefined || index >= subs.count) {
      throw new EvtxBinXmlError(`substitution ${index} of ${subs?.count ?? 0} values`);
    }
    return subs;
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
    const subs = this.pool[this.level] ?? { count: 0, at: [], size: [], type: [] };
    this.pool[this.level] = subs;
    const next = this.substitutions(p, end, subs);
    this.level++;
    try {
      this.content(bodyStart, bodyEnd, subs, depth, false);
    } finally {
      this.level--;
    }
    return next;
  }

  /** Count (4), then a (size 2, type 1, pad 1) descriptor per value, then the values. */
  private substitutions(pos: number, end: number, subs: Substitutions): number {
    const b = this.b;
    need(pos, 4, end, 'substitution array');
    const count = b.readUInt32LE(pos);
    need(pos + 4, 4 * count, end, 'substitution descriptors');
    let value = pos + 4 + 4 * count;
    for (let i = 0, d = pos + 4; i < count; i++, d += 4) {
      const size = b.readUInt16LE(d);
      subs.at[i] = value;
      subs.size[i] = size;
      subs.type[i] = b[d + 2]!;
      value += size;
    }
    subs.count = count;
    need(pos, value - pos, end, 'substitution values');
    return value;
  }
}
