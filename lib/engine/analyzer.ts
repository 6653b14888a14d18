import { Grouper } from '../alert/group.ts';
import type { AlertGroup, GroupOverflow } from '../alert/types.ts';
import type { NormalizedEvent } from '../event/types.ts';
import { normalizeHostname } from '../rule/compile.ts';
import { type CompiledExceptions, NO_EXCEPTIONS } from '../rule/exceptions.ts';
import type { CompiledRule } from '../rule/types.ts';
import { basename, detach } from '../text/fields.ts';
import { type ProcessContext, ProcessContexts } from './contexts.ts';
import type {
  AnalyzerInput,
  ConnectionRef,
  HeldProcess,
  ProcessInfo,
  ProcessStart,
  RecordSkip,
} from './input.ts';
import { MAX_SUMMARY_GROUPS, MAX_WAITING_CANDIDATES, type ScanLimits } from './limits.ts';
import { EXCEPTED, resolveMatch } from './resolve.ts';
import type { ContextStore, SkipReason, StoredContext } from './types.ts';
import { type WaitingCandidate, waitingCandidate } from './waiting.ts';

/**
 * Process records of one process held unparsed at once; the next one folds them in first. Sensors
 * re-send records (FDR does), and each held one is a closure over its values.
 */
const MAX_LAZY_RECORDS = 8;

/**
 * A first-in first-out queue over an array with a moving head: push and shift in O(1), the array
 * compacted once the head has passed half of it. (A Set's insertion order is no substitute:
 * taking its first key walks the holes that earlier deletes left at its front.)
 */
class Fifo<T> {
  private items: Array<T | undefined> = [];
  private head = 0;

  push(v: T): void {
    this.items.push(v);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const v = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
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

/** What one process's DNS queries answered. */
interface ProcessAnswers {
  /** ip -> the names it was the answer for. */
  byIp: Map<string, Set<string>>;
  /** The IPs among them that answered a listed name: what every connection of the process checks. */
  listedIps: Set<string>;
}

/** A matching candidate, and where the input was when it became one. */
interface HeldCandidate {
  event: NormalizedEvent;
  at: number;
}

/** A process whose end record was read at `offset`. */
interface EndedProcess {
  key: string;
  offset: number;
}

/** A connection waiting for the DNS answer or the process record that could name its host. */
interface PendingConnection {
  /** Flat copies: the reader's strings may be slices of a whole chunk of text. */
  key: string;
  ip: string | undefined;
  offset: number;
  /** The reader's ref, less the strings that could pin its chunk. */
  ref: Pick<ConnectionRef, 'record' | 'offset' | 'resolve'>;
  /** Resolved or dropped since it was queued (the FIFO still holds it). */
  done: boolean;
}

export interface AnalyzerOptions {
  /** Split groups by tumbling event-time windows of this many ms (cross-object state). */
  windowMs?: number | undefined;
  /**
   * Context that outlives the object: an early flush first fetches the context its candidates
   * lack, as `finish` does.
   */
  store?: ContextStore | undefined;
  /** A deployment's known-good activity: matches it covers are counted, not grouped. */
  exceptions?: CompiledExceptions | undefined;
}

/** The process-start event of `p` for one listed `host` its command line names in a URL. */
function processStartEvent(p: ProcessInfo, start: ProcessStart, host: string): NormalizedEvent {
  return {
    kind: 'process',
    time: start.time,
    device: start.device,
    actor: {
      user: p.user === undefined ? {} : { name: p.user },
      process: {
        ...(p.image === undefined ? {} : { file: { name: basename(p.image), path: p.image } }),
        ...(p.cmdLine === undefined ? {} : { cmd_line: p.cmdLine }),
        uid: p.key,
      },
    },
    url: { hostname: host },
    provenance: start.provenance,
  };
}

/**
 * The per-object join and match engine. Readers feed it process records, host names, DNS
 * events and connections in any order; `finish()` resolves every candidate against everything
 * the object said and groups the matches.
 *
 * A connection becomes a candidate only when a join could name a listed host for it: a listed
 * DNS answer of its own process for its IP, or a listed URL host in its process's command line.
 * Until then it waits, indexed by process; the join that arrives later resolves it at once.
 *
 * Memory is bounded and does not grow with the object: connections wait only while they are
 * within `maxPendingBytes` of the newest record (and at most `maxPendingConnections` of them);
 * only processes that could make an event match are kept, and a process's state is dropped
 * once the input is `maxEndedBytes` past its end (or `maxEndedProcesses` ends later); candidates
 * are resolved in batches once they have waited `maxCandidateWaitBytes` for late context, or
 * all at once past `maxCandidates` (see limits.ts for each bound and why).
 */
export class ObjectAnalyzer implements AnalyzerInput {
  private readonly processes: ProcessContexts;
  /** Image/user seen on events of a process (used when it has no process record). */
  private readonly pooled = new Map<string, { image?: string; user?: string }>();
  private readonly hosts = new Map<string, string>();
  /**
   * process key -> ip -> names its DNS queries resolved it to: every listed name, and unlisted
   * names for processes with a listed URL host (they block the command-line fallback).
   */
  private readonly answers = new Map<string, ProcessAnswers>();
  private answerCount = 0;
  /** Process keys with a listed URL host in their command line. */
  private readonly urlKeys = new Set<string>();
  /** Processes whose own record shows that nothing they do can match. */
  private readonly harmlessKeys = new Set<string>();
  /** Connections in arrival order (the window), and the same ones by process key. */
  private readonly pending = new Fifo<PendingConnection>();
  private pendingCount = 0;
  private readonly pendingByKey = new Map<string, PendingConnection[]>();
  /** Processes that ended, oldest first, with the offset of their end record. */
  private readonly endedQueue = new Fifo<EndedProcess>();
  private readonly ended = new Set<string>();
  /** Process keys of the candidates not yet resolved (their context must stay). */
  private readonly candidateKeys = new Set<string>();
  /** Candidates in arrival order, each with the input offset it arrived at. */
  private candidates: HeldCandidate[] = [];
  /** Offset of the record being read (see advance). */
  private position = 0;
  /**
   * Context an early flush read back from the store that no record of this object has added to
   * since: `finish` does not save it back as if this object had learned it. Process contexts are
   * marked by identity; host names, plain strings, by sensor (pruned with each fetch).
   */
  private readonly fetchedContexts = new WeakSet<ProcessContext>();
  private readonly fetchedHosts = new Set<string>();
  private readonly grouper: Grouper;
  private readonly store: ContextStore | undefined;
  private readonly exceptions: CompiledExceptions;
  matched = 0;
  excepted = 0;
  /** Candidates whose process context no object read so far had (kept up to MAX_WAITING_CANDIDATES). */
  readonly waiting: WaitingCandidate[] = [];
  contextless = 0;
  /** Matches past the group cap, as of the last `finish`. */
  lastOverflow: GroupOverflow = { summarized: 0, dropped: 0 };

  constructor(
    private readonly rule: CompiledRule,
    private readonly limits: ScanLimits,
    private readonly onSkip: (
      reason: SkipReason,
      message: string,
      record: number,
      offset: number,
    ) => void,
    options: AnalyzerOptions = {},
  ) {
    this.grouper = new Grouper(options.windowMs, {
      maxGroups: limits.maxAlertGroups,
      maxSummaries: MAX_SUMMARY_GROUPS,
      listedDomain: (domain) => rule.listedDomain(domain)?.domain,
    });
    this.store = options.store;
    this.exceptions = options.exceptions ?? NO_EXCEPTIONS;
    this.processes = new ProcessContexts(limits.maxProcessContexts, limits.maxContextBytes, (why) =>
      this.onSkip('context-evicted', `the oldest process context was dropped: ${why}`, 0, 0),
    );
  }

  process(p: ProcessInfo): void {
    if (!this.couldMatch(p)) {
      // Nothing it does can match, URL in its command line or not: its own events carry the
      // same image (the rule decides on the image, its path, its identity and its parent).
      this.harmless(p.key);
      return;
    }
    const urlHosts = p.cmdLine ? this.rule.listedUrlHosts(p.cmdLine) : [];
    const { key, start, ...info } = p;
    this.harmlessKeys.delete(key);
    const ctx = this.processes.open(key);
    this.fetchedContexts.delete(ctx);
    Object.assign(ctx, info);
    if (urlHosts.length > 0) ctx.urlHosts = urlHosts;
    this.processes.resized(key, ctx);
    if (urlHosts.length === 0) return;
    this.urlKeys.add(key);
    this.releasePending(key, undefined);
    if (start) for (const host of urlHosts) this.addCandidate(processStartEvent(p, start, host));
  }

  heldProcess(ref: HeldProcess): void {
    this.harmlessKeys.delete(ref.key);
    const ctx =
      (this.processes.get(ref.key)?.lazy?.length ?? 0) >= MAX_LAZY_RECORDS
        ? this.context(ref.key)!
        : this.processes.open(ref.key);
    this.fetchedContexts.delete(ctx);
    ctx.lazy ??= [];
    ctx.lazy.push(ref);
    this.processes.resized(ref.key, ctx);
  }

  /**
   * The process's own record shows it cannot match (a browser, a service host...): none of its
   * DNS queries or connections can, so they are dropped on arrival instead of held or parsed.
   * A process that also has a record that could match keeps its context.
   */
  harmless(key: string): void {
    if (this.processes.has(key)) return;
    if (this.harmlessKeys.size >= this.limits.maxProcessContexts) this.harmlessKeys.clear(); // only pruning is lost
    this.harmlessKeys.add(detach(key)); // kept: must not pin the text it was read from
  }

  isHarmless(key: string): boolean {
    return this.harmlessKeys.has(key);
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
      const { key: _key, start: _start, ...info } = p;
      Object.assign(ctx, info);
    }
    this.processes.resized(key, ctx);
    return ctx;
  }

  hostName(sensorId: string, hostname: string): void {
    this.fetchedHosts.delete(sensorId);
    boundedSet(this.hosts, sensorId, hostname, this.limits.maxHostNames);
  }

  dns(e: NormalizedEvent): void {
    const name = e.query?.hostname;
    if (name === undefined) return;
    const listed = this.rule.listedDomain(name) !== undefined;
    const key = e.actor.process.uid;
    if (key !== undefined && this.harmlessKeys.has(key)) return;
    if (!listed && (key === undefined || !this.urlKeys.has(key))) return;
    if (key !== undefined && e.answers)
      this.remember(key, normalizeHostname(name), listed, e.answers);
    if (!listed) return;
    this.addCandidate(e);
    if (key !== undefined && e.answers) this.releasePending(key, e.answers);
  }

  /** Keeps what `host` (a `listed` name or not) resolved to for the process's connections. */
  private remember(key: string, host: string, listed: boolean, ips: string[]): void {
    let answers = this.answers.get(key);
    if (!answers) {
      answers = { byIp: new Map(), listedIps: new Set() };
      this.answers.set(key, answers);
    }
    for (const ip of ips) {
      let names = answers.byIp.get(ip);
      if (!names) {
        names = new Set();
        answers.byIp.set(ip, names);
      }
      if (!names.has(host)) {
        names.add(host);
        this.answerCount++;
      }
      if (listed) answers.listedIps.add(ip);
    }
    while (this.answerCount > this.limits.maxDnsAnswers && this.answers.size > 1) {
      const oldest = this.answers.keys().next().value as string;
      this.forgetAnswers(oldest);
      this.onSkip(
        'context-evicted',
        `DNS answers of process ${oldest} were dropped: more than ${this.limits.maxDnsAnswers} answers were held`,
        0,
        0,
      );
    }
  }

  private forgetAnswers(key: string): void {
    const answers = this.answers.get(key);
    if (!answers) return;
    for (const names of answers.byIp.values()) this.answerCount -= names.size;
    this.answers.delete(key);
  }

  /** True when a DNS answer of the process names a listed host for `ip` (any IP when unknown). */
  private listedAnswer(key: string, ip: string | undefined): boolean {
    const listedIps = this.answers.get(key)?.listedIps;
    if (!listedIps) return false;
    return ip === undefined ? listedIps.size > 0 : listedIps.has(ip);
  }

  connection(ref: ConnectionRef): void {
    const key = ref.key;
    if (ref.hostname !== undefined && this.rule.listedDomain(ref.hostname) !== undefined) {
      this.resolveConnection(ref);
      return;
    }
    // Without a process, no join can name a host, and its own hostname is not listed.
    if (key === undefined || this.harmlessKeys.has(key)) return;
    if (this.urlKeys.has(key) || this.listedAnswer(key, ref.ip)) {
      this.resolveConnection(ref);
      return;
    }
    this.expirePending(ref.offset);
    const p: PendingConnection = {
      key: detach(key),
      ip: detach(ref.ip),
      offset: ref.offset,
      ref: { record: ref.record, offset: ref.offset, resolve: ref.resolve },
      done: false,
    };
    this.pending.push(p);
    this.pendingCount++;
    const list = this.pendingByKey.get(p.key);
    if (list) list.push(p);
    else this.pendingByKey.set(p.key, [p]);
    if (this.pendingCount > this.limits.maxPendingConnections) this.dropOldestPending();
  }

  /**
   * Drops connections that arrived more than `maxPendingBytes` before `offset`: no join came for
   * them in that window. They are not counted as skips: almost every connection ends this way,
   * because almost none is to a listed host.
   */
  private expirePending(offset: number): void {
    const oldest = offset - this.limits.maxPendingBytes;
    for (let p = this.pending.peek(); p && (p.done || p.offset < oldest); p = this.pending.peek()) {
      this.stopWaiting(this.pending.shift()!);
    }
  }

  private dropOldestPending(): void {
    for (let p = this.pending.shift(); p; p = this.pending.shift()) {
      if (!p.done) {
        this.stopWaiting(p);
        return;
      }
    }
  }

  /** A connection leaves the window unjoined: off its process's list too. */
  private stopWaiting(p: PendingConnection): void {
    if (p.done) return;
    p.done = true;
    this.pendingCount--;
    const list = this.pendingByKey.get(p.key);
    if (!list) return;
    if (list[0] === p) list.shift();
    else list.splice(list.indexOf(p), 1);
    if (list.length === 0) this.pendingByKey.delete(p.key);
  }

  /**
   * A join arrived for `key`: its waiting connections to one of `ips` (all of them when
   * `ips` is undefined, a command-line URL) become candidates, in arrival order.
   */
  private releasePending(key: string, ips: readonly string[] | undefined): void {
    const list = this.pendingByKey.get(key);
    if (!list) return;
    const keep: PendingConnection[] = [];
    for (const p of list) {
      const ip = p.ip;
      if (ips === undefined || ip === undefined || ips.includes(ip)) {
        p.done = true;
        this.pendingCount--;
        this.resolveConnection(p.ref);
      } else {
        keep.push(p);
      }
    }
    if (keep.length === 0) this.pendingByKey.delete(key);
    else this.pendingByKey.set(key, keep);
  }

  /**
   * The process ended (its end record is at `offset`). Its state (context, answers, waiting
   * connections) stays for records written after the end, until the input is `maxEndedBytes`
   * further on or `maxEndedProcesses` later processes have ended; then it goes.
   */
  processEnd(key: string, offset: number): void {
    if (this.harmlessKeys.delete(key)) return; // nothing else is kept for a harmless process
    if (
      !this.processes.has(key) &&
      !this.answers.has(key) &&
      !this.pendingByKey.has(key) &&
      !this.pooled.has(key)
    ) {
      return;
    }
    if (this.ended.has(key)) return;
    const k = detach(key); // kept: must not pin the text it was read from
    this.ended.add(k);
    this.endedQueue.push({ key: k, offset });
    // Ends come in order of offset, so the queue's head is the oldest. An ended process whose
    // candidates are not resolved yet goes back in line as if it had ended now (it is forgotten
    // after the next flush); a few steps per end keep this loop short.
    const before = offset - this.limits.maxEndedBytes;
    for (let step = 0; step < 4; step++) {
      const oldest = this.endedQueue.peek();
      if (!oldest || (oldest.offset >= before && this.ended.size <= this.limits.maxEndedProcesses))
        break;
      this.endedQueue.shift();
      if (this.candidateKeys.has(oldest.key)) {
        this.endedQueue.push({ key: oldest.key, offset });
        continue;
      }
      this.ended.delete(oldest.key);
      this.forget(oldest.key);
    }
  }

  private forget(key: string): void {
    this.processes.delete(key);
    this.pooled.delete(key);
    this.urlKeys.delete(key);
    this.forgetAnswers(key);
    const list = this.pendingByKey.get(key);
    if (list) {
      for (const p of list) {
        p.done = true;
        this.pendingCount--;
      }
      this.pendingByKey.delete(key);
    }
  }

  private resolveConnection(ref: Pick<ConnectionRef, 'record' | 'offset' | 'resolve'>): void {
    const e = ref.resolve();
    if (e === undefined) return;
    if ('skip' in e) {
      const s = e as RecordSkip;
      this.onSkip(s.skip, s.message, ref.record, ref.offset);
      return;
    }
    this.addCandidate(e);
  }

  /** The input has reached the record at `offset` (scanObject calls this for every record). */
  advance(offset: number): void {
    this.position = offset;
  }

  private addCandidate(e: NormalizedEvent): void {
    const key = e.actor.process.uid;
    if (key !== undefined) this.candidateKeys.add(key);
    this.candidates.push({ event: e, at: this.position });
  }

  /** Candidates resolved together in an early flush: a tenth of `maxCandidates`. */
  private get flushBatch(): number {
    return Math.ceil(this.limits.maxCandidates / 10);
  }

  /** The candidate arrived `maxCandidateWaitBytes` ago or more: late context had its chance. */
  private ripe(c: HeldCandidate): boolean {
    return c.at <= this.position - this.limits.maxCandidateWaitBytes;
  }

  /**
   * An early flush is due: a batch of candidates has waited out `maxCandidateWaitBytes`, or
   * `maxCandidates` are held.
   */
  get flushDue(): boolean {
    if (this.candidates.length >= this.limits.maxCandidates) return true;
    const last = this.candidates[this.flushBatch - 1];
    return last !== undefined && this.ripe(last);
  }

  /**
   * How many of the oldest candidates an early flush resolves: those that waited out the window,
   * a batch at least; or every one, when `maxCandidates` are held and fewer have (memory first).
   */
  private dueCount(): number {
    const n = this.candidates.length;
    let ripe = 0;
    while (ripe < n && this.ripe(this.candidates[ripe]!)) ripe++;
    if (ripe >= this.flushBatch) return ripe;
    return n >= this.limits.maxCandidates ? n : 0;
  }

  /**
   * An early flush (`flushDue`): with a context store, fetches the process and host context the
   * candidates it resolves lack (earlier objects) first, as `finish` does; then resolves and
   * groups them.
   */
  async flush(): Promise<void> {
    const n = this.dueCount();
    if (this.store) await this.fetchMissingContext(this.store, n);
    this.flushCandidates(n);
  }

  /** Pools the image and user of candidate events per process (docs/detection.md, "Process context"). */
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

  /** Resolves and groups the `n` oldest candidates. */
  private flushCandidates(n: number): void {
    if (n === 0) return;
    const events = this.candidates.slice(0, n).map((c) => c.event);
    this.candidates = this.candidates.slice(n);
    this.candidateKeys.clear();
    for (const c of this.candidates) {
      const key = c.event.actor.process.uid;
      if (key !== undefined) this.candidateKeys.add(key);
    }
    this.pool(events);
    for (const e of events) this.resolveAndMatch(e);
  }

  private resolveAndMatch(e: NormalizedEvent): void {
    const key = e.actor.process.uid;
    const proc = this.context(key);
    const pooled = key === undefined ? undefined : this.pooled.get(key);
    const own = e.actor.process;
    // The path the rule reads: the event's own, else the process record's (Falcon events name
    // only ContextBaseFileName), else the bare name (the path is then unknown).
    const image = own.file?.path ?? proc?.image ?? pooled?.image ?? own.file?.name;
    const user = e.actor.user.name ?? proc?.user ?? pooled?.user;
    const host =
      e.device.hostname ?? (e.device.uid === undefined ? undefined : this.hosts.get(e.device.uid));
    const parentImage = own.parent_process?.file?.path ?? proc?.parentImage;
    const cmdLine = own.cmd_line ?? proc?.cmdLine;
    const hostname =
      e.kind === 'dns'
        ? e.query?.hostname
        : e.kind === 'process'
          ? e.url?.hostname
          : this.connectionHostname(e, key, proc);

    if (image === undefined && key !== undefined && hostname !== undefined) {
      // Its process may be in another object: kept for the caller, never dropped unseen.
      if (this.rule.listedDomain(hostname) === undefined) return;
      this.contextless++;
      if (this.waiting.length < MAX_WAITING_CANDIDATES) {
        this.waiting.push(waitingCandidate(e, key, hostname, host));
      }
      return;
    }

    if (hostname === undefined || image === undefined) return;
    const facts = { hostname, image, parentImage, cmdLine, host, user };
    const originalFileName = proc?.originalFileName;
    const m = resolveMatch(this.rule, this.exceptions, e, { ...facts, originalFileName });
    if (m === undefined) return;
    this.matched++;
    if (m === EXCEPTED) this.excepted++;
    else this.grouper.add(m);
  }

  /**
   * docs/detection.md, "Joins": a connection's own hostname when listed; else the name a DNS query of the same
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
      const names = this.answers.get(key)?.byIp.get(ip);
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
  async finish(): Promise<AlertGroup[]> {
    const store = this.store;
    // Connections still waiting had no join in the object.
    this.pending.clear();
    this.pendingCount = 0;
    this.pendingByKey.clear();
    const learned: StoredContext = {
      processes: new Map(),
      hosts: new Map([...this.hosts].filter(([sensor]) => !this.fetchedHosts.has(sensor))),
    };
    if (store) {
      for (const [key, ctx] of [...this.processes.entries()]) {
        if (this.fetchedContexts.has(ctx)) continue;
        // Folding recounts the context, which lets an older one go if the table is over a bound.
        const folded = this.context(key);
        if (folded === undefined) continue;
        const { lazy: _lazy, ...known } = folded;
        if (known.image !== undefined || known.parentImage !== undefined || known.urlHosts) {
          learned.processes.set(key, known);
        }
      }
    }
    if (store) await this.fetchMissingContext(store, this.candidates.length);
    this.flushCandidates(this.candidates.length);
    if (store && (learned.processes.size > 0 || learned.hosts.size > 0)) await store.save(learned);
    this.lastOverflow = this.grouper.overflow;
    return this.grouper.flush();
  }

  /** Looks up the context the `n` oldest candidates lack. */
  private async fetchMissingContext(store: ContextStore, n: number): Promise<void> {
    const processes = new Set<string>();
    const hosts = new Set<string>();
    for (const { event: e } of this.candidates.slice(0, n)) {
      const key = e.actor.process.uid;
      if (key !== undefined && !this.processes.has(key)) processes.add(key);
      const sensor = e.device.uid;
      if (e.device.hostname === undefined && sensor !== undefined && !this.hosts.has(sensor))
        hosts.add(sensor);
    }
    if (processes.size === 0 && hosts.size === 0) return;
    const found = await store.lookup({ processes: [...processes], hosts: [...hosts] });
    // Marks of host names evicted since go first (this set stays bounded).
    for (const sensor of this.fetchedHosts)
      if (!this.hosts.has(sensor)) this.fetchedHosts.delete(sensor);
    for (const [key, p] of found.processes) {
      if (this.processes.has(key)) continue;
      this.processes.adopt(key, p);
      this.fetchedContexts.add(p);
    }
    for (const [sensor, name] of found.hosts) {
      if (this.hosts.has(sensor)) continue;
      boundedSet(this.hosts, sensor, name, this.limits.maxHostNames);
      this.fetchedHosts.add(sensor);
    }
  }
}
