import type { HeldProcess } from './input.ts';
import type { StoredProcess } from './types.ts';

/** Everything pooled about one process within the object (docs/detection.md, "Process context"). */
export interface ProcessContext extends StoredProcess {
  /** Process records not parsed yet, in arrival order; folded in when the context is needed. */
  lazy?: HeldProcess[];
}

/** Characters a context holds: its key, its values and its records not parsed yet. */
function sizeOf(key: string, ctx: ProcessContext): number {
  let n = key.length;
  n += ctx.image?.length ?? 0;
  n += ctx.originalFileName?.length ?? 0;
  n += ctx.parentImage?.length ?? 0;
  n += ctx.cmdLine?.length ?? 0;
  n += ctx.user?.length ?? 0;
  if (ctx.urlHosts) for (const h of ctx.urlHosts) n += h.length;
  if (ctx.lazy) for (const ref of ctx.lazy) n += ref.chars;
  return n;
}

/**
 * The process contexts of one object, bounded twice: by count (`maxCount`) and by the
 * characters they hold (`maxChars`: command lines run to tens of KiB, so a count alone does not
 * bound memory). Past either, the oldest contexts go, each reported to `onEvict`. A Map in
 * insertion order: "oldest" is the first added.
 */
export class ProcessContexts {
  private readonly map = new Map<string, ProcessContext>();
  private readonly sizes = new Map<string, number>();
  private chars = 0;

  constructor(
    private readonly maxCount: number,
    private readonly maxChars: number,
    private readonly onEvict: (why: string) => void,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): ProcessContext | undefined {
    return this.map.get(key);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  entries(): IterableIterator<[string, ProcessContext]> {
    return this.map.entries();
  }

  delete(key: string): void {
    if (!this.map.delete(key)) return;
    this.chars -= this.sizes.get(key) ?? 0;
    this.sizes.delete(key);
  }

  /** The context of `key`, a new empty one if there is none. Call `resized` after changing it. */
  open(key: string): ProcessContext {
    let ctx = this.map.get(key);
    if (!ctx) {
      ctx = {};
      this.map.set(key, ctx);
      this.resized(key, ctx);
    }
    return ctx;
  }

  /** Adds a context read back from elsewhere (the context store) unless `key` has one. */
  adopt(key: string, ctx: ProcessContext): void {
    if (this.map.has(key)) return;
    this.map.set(key, ctx);
    this.resized(key, ctx);
  }

  /**
   * Recounts `key`'s context after a change, then lets the oldest contexts go while the table is
   * over a bound. The context just changed stays, even when it alone is over (one context is
   * bounded by the record size and the analyzer's MAX_LAZY_RECORDS).
   */
  resized(key: string, ctx: ProcessContext): void {
    const size = sizeOf(key, ctx);
    this.chars += size - (this.sizes.get(key) ?? 0);
    this.sizes.set(key, size);
    if (this.map.size <= this.maxCount && this.chars <= this.maxChars) return;
    for (const oldest of this.map.keys()) {
      const why =
        this.map.size > this.maxCount
          ? `more than ${this.maxCount} processes that could match were held`
          : this.chars > this.maxChars
            ? `the process contexts held passed ${this.maxChars} characters`
            : undefined;
      if (why === undefined) return;
      if (oldest === key) continue;
      this.delete(oldest);
      this.onEvict(why);
    }
  }
}
