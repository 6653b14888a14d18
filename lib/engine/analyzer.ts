import { Grouper } from '../alert/group.ts';
import type { AlertGroup } from '../alert/types.ts';
import type { NormalizedEvent } from '../event/types.ts';
import type { CompiledRule } from '../rule/types.ts';
import type {
  AnalyzerInput,
  ConnectionRef,
  ProcessInfo,
  ProcessRef,
  RecordSkip,
} from '../sources/types.ts';
import { basename } from './fields.ts';
import type { ScanLimits } from './limits.ts';
import type { ContextStore, SkipReason, StoredContext } from './types.ts';

/** Everything pooled about one process within the object (SPEC §2 "Process context"). */
interface ProcessContext extends Partial<Omit<ProcessInfo, 'key'>> {
  /** Listed hosts in URLs of the command line (the last-resort hostname for connections). */
  urlHosts?: string[];
  /** Process records not parsed yet, in arrival order; folded in when the context is needed. */
  lazy?: ProcessRef[];
}

/** Inserts into a Map used as a FIFO; past `max` entries the oldest goes. Returns evictions. */
function boundedSet<K, V>(map: Map<K, V>, key: K, value: V, max: number): number {
  if (map.has(key)) {
    map.set(key, value);
    return 0;
  }
  map.set(key, value);
  if (map.size <= max) return 0;
  map.delete(map.keys().next().value as K);
  return 1;
}

/**
 * The per-object join and match engine. Readers feed it process records, host names, DNS
 * events and connections in any order; `finish()` resolves every candidate against everything
 * the object said and groups the matches.
 *
 * Memory is bounded: only processes that could make an event match are kept, connections wait
 * in a FIFO of at most `maxPendingConnections`, and candidates are flushed early past
 * `maxCandidates` (see limits.ts for each bound and why).
 */
export class ObjectAnalyzer implements AnalyzerInput {
  private readonly processes = new Map<string, ProcessContext>();
  /** Image/user seen on events of a process (used when it has no process record). */
  private readonly pooled = new Map<string, { image?: string; user?: string }>();
  private readonly hosts = new Map<string, string>();
  /**
   * process key -> ip -> names its DNS queries resolved it to: every listed name, and unlisted
   * names for processes with a listed URL host (they block the command-line fallback).
   */
  private readonly answers = new Map<string, Map<string, Set<string>>>();
  private answerCount = 0;
  /** Process keys something could match on: listed DNS, listed URL host, listed connection. */
  private readonly interesting = new Set<string>();
  /** Process keys with a listed URL host in their command line. */
  private readonly urlKeys = new Set<string>();
  private pending: ConnectionRef[] = [];
  private pendingHead = 0;
  private candidates: NormalizedEvent[] = [];
  private readonly grouper: Grouper;
  matched = 0;

  constructor(
    private readonly rule: CompiledRule,
    private readonly limits: ScanLimits,
    private readonly onSkip: (
      reason: SkipReason,
      message: string,
      record: number,
      offset: number,
    ) => void,
    windowMs?: number,
  ) {
    this.grouper = new Grouper(windowMs);
  }

  process(p: ProcessInfo): void {
    const urlHosts = p.cmdLine ? this.rule.listedUrlHosts(p.cmdLine) : [];
    if (urlHosts.length === 0 && !this.couldMatch(p)) return; // nothing about it can match
    const { key, ...info } = p;
    const ctx = this.contextFor(key);
    Object.assign(ctx, info);
    if (urlHosts.length > 0) {
      ctx.urlHosts = urlHosts;
      this.interesting.add(key);
      this.urlKeys.add(key);
    }
  }

  processRef(ref: ProcessRef): void {
    const ctx = this.contextFor(ref.key);
    ctx.lazy ??= [];
    ctx.lazy.push(ref);
  }

  wantsAllAnswers(key: string): boolean {
    return this.urlKeys.has(key);
  }

  get anyWantsAllAnswers(): boolean {
    return this.urlKeys.size > 0;
  }

  private couldMatch(p: Omit<ProcessInfo, 'key'>): boolean {
    return this.rule.processCouldMatch({
      image: p.image,
      originalFileName: p.originalFileName,
      parentImage: p.parentImage,
    });
  }

  private contextFor(key: string): ProcessContext {
    let ctx = this.processes.get(key);
    if (!ctx) {
      ctx = {};
      boundedSet(this.processes, key, ctx, this.limits.maxProcessContexts);
    }
    return ctx;
  }

  /** The process's context with any lazily held records parsed and folded in, in order. */
  private context(key: string | undefined): ProcessContext | undefined {
    if (key === undefined) return undefined;
    const ctx = this.processes.get(key);
    if (!ctx?.lazy) return ctx;
    const lazy = ctx.lazy;
    delete ctx.lazy;
    for (const ref of lazy) {
      const p = ref.resolve();
      if (p === undefined) continue;
      if ('skip' in p) {
        this.onSkip(p.skip, p.message, ref.record, ref.offset);
        continue;
      }
      if (!this.couldMatch(p)) continue;
      const { key: _key, ...info } = p;
      Object.assign(ctx, info);
    }
    return ctx;
  }

  hostName(sensorId: string, hostname: string): void {
    boundedSet(this.hosts, sensorId, hostname, this.limits.maxHostNames);
  }

  dns(e: NormalizedEvent): void {
    const name = e.query?.hostname;
    if (name === undefined) return;
    const listed = this.rule.listedDomain(name) !== undefined;
    const key = e.actor.process.uid;
    if (!listed && (key === undefined || !this.urlKeys.has(key))) return;
    if (key !== undefined && e.answers) this.remember(key, normalizeHost(name), e.answers);
    if (listed) this.addCandidate(e);
  }

  private remember(key: string, host: string, ips: string[]): void {
    let byIp = this.answers.get(key);
    if (!byIp) {
      byIp = new Map();
      this.answers.set(key, byIp);
    }
    for (const ip of ips) {
      if (this.answerCount >= this.limits.maxDnsAnswers) return;
      let names = byIp.get(ip);
      if (!names) {
        names = new Set();
        byIp.set(ip, names);
      }
      if (!names.has(host)) {
        names.add(host);
        this.answerCount++;
      }
    }
  }

  connection(ref: ConnectionRef): void {
    const listedName =
      ref.hostname !== undefined && this.rule.listedDomain(ref.hostname) !== undefined;
    if (listedName || (ref.key !== undefined && this.interesting.has(ref.key))) {
      this.resolveConnection(ref);
      return;
    }
    this.pending.push(ref);
    if (this.pending.length - this.pendingHead > this.limits.maxPendingConnections) {
      const old = this.pending[this.pendingHead]!;
      this.pending[this.pendingHead++] = undefined as unknown as ConnectionRef;
      this.onSkip(
        'context-evicted',
        `connection held for a later DNS or process join was dropped: more than ${this.limits.maxPendingConnections} connections waited`,
        old.record,
        old.offset,
      );
      if (this.pendingHead > 4096 && this.pendingHead * 2 > this.pending.length) {
        this.pending = this.pending.slice(this.pendingHead);
        this.pendingHead = 0;
      }
    }
  }

  private resolveConnection(ref: ConnectionRef): void {
    const e = ref.resolve();
    if (e === undefined) return;
    if ('skip' in e) {
      const s = e as RecordSkip;
      this.onSkip(s.skip, s.message, ref.record, ref.offset);
      return;
    }
    this.addCandidate(e);
  }

  private addCandidate(e: NormalizedEvent): void {
    const key = e.actor.process.uid;
    if (key !== undefined) this.interesting.add(key);
    this.candidates.push(e);
    if (this.candidates.length >= this.limits.maxCandidates) this.flushCandidates();
  }

  /** Pools the image and user of candidate events per process (SPEC §2). */
  private pool(events: NormalizedEvent[]): void {
    for (const e of events) {
      const key = e.actor.process.uid;
      if (key === undefined) continue;
      let p = this.pooled.get(key);
      if (!p) {
        p = {};
        boundedSet(this.pooled, key, p, this.limits.maxProcessContexts);
      }
      const image = e.actor.process.file?.path ?? e.actor.process.file?.name;
      if (p.image === undefined && image !== undefined) p.image = image;
      if (p.user === undefined && e.actor.user.name !== undefined) p.user = e.actor.user.name;
    }
  }

  private flushCandidates(): void {
    const events = this.candidates;
    this.candidates = [];
    this.pool(events);
    for (const e of events) this.resolveAndMatch(e);
  }

  private resolveAndMatch(e: NormalizedEvent): void {
    const key = e.actor.process.uid;
    const proc = this.context(key);
    const pooled = key === undefined ? undefined : this.pooled.get(key);
    const proc_ = e.actor.process;
    const image = proc_.file?.path ?? proc_.file?.name ?? proc?.image ?? pooled?.image;
    const user = e.actor.user.name ?? proc?.user ?? pooled?.user;
    const host =
      e.device.hostname ?? (e.device.uid === undefined ? undefined : this.hosts.get(e.device.uid));
    const parentImage = proc_.parent_process?.file?.path ?? proc?.parentImage;
    const cmdLine = proc_.cmd_line ?? proc?.cmdLine;

    let hostname: string | undefined;
    if (e.kind === 'dns') hostname = e.query?.hostname;
    else hostname = this.connectionHostname(e, key, proc);

    const matched = this.rule.matches({
      kind: e.kind,
      hostname,
      image,
      originalFileName: proc?.originalFileName,
      parentImage,
    });
    if (!matched || hostname === undefined || image === undefined) return;
    this.matched++;
    this.grouper.add({
      event: e,
      key: {
        host: host ?? '',
        user: user ?? '',
        process: basename(image).toLowerCase(),
        domain: normalizeHost(hostname),
      },
      cmdLine,
      parent: parentImage === undefined ? undefined : basename(parentImage),
      processPath: image,
    });
  }

  /**
   * SPEC §2: a connection's own hostname when listed; else the name a DNS query of the same
   * process resolved its IP to (a listed one, alphabetically first); else the single listed
   * host in a URL of the process's command line.
   */
  private connectionHostname(
    e: NormalizedEvent,
    key: string | undefined,
    proc: ProcessContext | undefined,
  ): string | undefined {
    const own = e.dst_endpoint?.hostname;
    if (own !== undefined && this.rule.listedDomain(own) !== undefined) return own;
    const ip = e.dst_endpoint?.ip;
    if (key !== undefined && ip !== undefined) {
      const names = this.answers.get(key)?.get(ip);
      if (names && names.size > 0) {
        // A listed name wins (the alphabetically first); else the unlisted name the process
        // itself resolved: the connection went there, so its command line does not name it.
        const sorted = [...names].sort();
        return sorted.find((n) => this.rule.listedDomain(n) !== undefined) ?? sorted[0];
      }
    }
    const urlHosts = proc?.urlHosts;
    if (urlHosts && urlHosts.length === 1) return urlHosts[0];
    return own;
  }

  /**
   * Resolves everything held and returns the object's groups (an explicit end-of-object flush).
   * With a context store, first fetches the process and host context the candidates lack
   * (earlier objects), then saves what this object learned for later ones.
   */
  async finish(store?: ContextStore): Promise<AlertGroup[]> {
    for (let i = this.pendingHead; i < this.pending.length; i++) {
      const ref = this.pending[i]!;
      if (ref.key !== undefined && this.interesting.has(ref.key)) this.resolveConnection(ref);
    }
    this.pending = [];
    this.pendingHead = 0;
    const learned: StoredContext = { processes: new Map(), hosts: new Map(this.hosts) };
    if (store) {
      for (const key of [...this.processes.keys()]) {
        const { lazy: _lazy, ...known } = this.context(key)!;
        if (known.image !== undefined || known.parentImage !== undefined || known.urlHosts) {
          learned.processes.set(key, known);
        }
      }
    }
    if (store) await this.fetchMissingContext(store);
    this.flushCandidates();
    if (store && (learned.processes.size > 0 || learned.hosts.size > 0)) await store.save(learned);
    return this.grouper.flush();
  }

  private async fetchMissingContext(store: ContextStore): Promise<void> {
    const processes = new Set<string>();
    const hosts = new Set<string>();
    for (const e of this.candidates) {
      const key = e.actor.process.uid;
      if (key !== undefined && !this.processes.has(key)) processes.add(key);
      const sensor = e.device.uid;
      if (e.device.hostname === undefined && sensor !== undefined && !this.hosts.has(sensor))
        hosts.add(sensor);
    }
    if (processes.size === 0 && hosts.size === 0) return;
    const found = await store.lookup({ processes: [...processes], hosts: [...hosts] });
    for (const [key, p] of found.processes) {
      if (!this.processes.has(key))
        boundedSet(this.processes, key, p, this.limits.maxProcessContexts);
    }
    for (const [sensor, name] of found.hosts) {
      if (!this.hosts.has(sensor)) boundedSet(this.hosts, sensor, name, this.limits.maxHostNames);
    }
  }
}

/** Lower-case, one trailing dot removed (SPEC §1.2, §3). */
export function normalizeHost(h: string): string {
  const l = h.toLowerCase();
  return l.endsWith('.') ? l.slice(0, -1) : l;
}
