/**
 * Deterministic generator of realistic telemetry batches for the benchmark and the differential
 * test. `generateBatch({ source, mb, seed })` streams a gzip (level 6) file of about `mb` MiB of
 * uncompressed Sysmon XML or Falcon FDR NDJSON, plus a manifest with the matches it planted, and
 * reuses both when they already exist. Mostly noise: many hosts, users and processes, suspicious
 * names doing benign work, browsers and sync clients resolving listed domains, per-user installs
 * reaching medium-tier ones, listed domains in registry values and file paths; about 0.1 % of the
 * records match rule version 2 (SPEC §1), through every branch (suspicious name, Office parent,
 * user-writable path with a high-tier domain), both tiers and every join of SPEC §2: the DNS
 * query itself, a connection joined to a DNS answer, a connection named by a URL in the command
 * line, and the process start whose command line names a listed host (BITS jobs leave nothing
 * else), with the process record sometimes after its events. Decoys that must not match are
 * planted beside them: excluded clients at home doing what looks like an attack, implants in
 * user-writable paths reaching only medium-tier domains.
 *
 * The oracle (`groups`) is the generator's own account of what it planted: each planted record
 * carries the matches the contract makes of it, decided from the scenario (which branch holds,
 * the tier of the C2 host, written out in world.ts), never by running the rule on the output.
 *
 * `shape` renders a Sysmon batch's events in another shape Sysmon reaches S3 in (NXLog, Winlogbeat,
 * CloudWatch Logs via Firehose; shapes.ts): the same events, so the same oracle.
 *
 * Run alone: `node --import tsx test/bench/generate.ts --source sysmon --mb 5 --seed 1 [--shape cwl]`.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openBatchWriter, WRITE_CHUNK_CHARS } from './batch-writer.ts';
import type { Formatter, SimEvent } from './events.ts';
import { FalconFormatter } from './falcon-format.ts';
import { Rng, Weighted } from './prng.ts';
import {
  ATTACK_IMPLANTS,
  ATTACK_IMPOSTORS,
  ATTACK_OFFICE_CHILD,
  ATTACK_RENAMED,
  ATTACKS_LIN,
  ATTACKS_WIN,
  type AttackSpec,
  c2Path,
  FETCH_ONLY,
  type FetchSpec,
  HOME_CLIENTS,
  PERSISTENT_LIN,
  PERSISTENT_OPTIONAL,
  PERSISTENT_WIN,
  type ProcSpec,
  type Reach,
  SPAWN_LIN,
  SPAWN_WIN,
  type SpawnSpec,
} from './processes.ts';
import { SHAPE_EXTENSIONS, SHAPES_VERSION, SYSMON_SHAPES, type SysmonShape } from './shapes.ts';
import { SysmonFormatter, UNKNOWN_GUID } from './sysmon-format.ts';
import {
  addressesOf,
  BINARIES,
  type BinaryId,
  C2_DOMAINS,
  type C2Domain,
  DLLS,
  domainFor,
  FILE_TARGETS,
  type Host,
  hashesOf,
  MAX_CHURN_PER_HOST,
  makeHosts,
  type ParentRef,
  type Proc,
  REGISTRY_DETAILS,
  REGISTRY_KEYS,
  reverseNameOf,
  SYSTEM_ACCOUNTS,
  type Tier,
} from './world.ts';

export type BenchSource = 'falcon' | 'sysmon';

/** Bump when the generator's output changes, so cached batches under .bench/ are not reused. */
export const GENERATOR_VERSION = 2;
/** 1 "MB" of `--mb` is a MiB of uncompressed text. */
export const BYTES_PER_MB = 1024 * 1024;
/**
 * Probability that a record starts a planted attack. Each attack plants ~2 matching records, so
 * this default makes ~0.1 % of the records match, as the issue asks.
 */
export const DEFAULT_ATTACK_RATE = 0.0005;
/** Share of planted attacks on the few compromised hosts (repeat offenders make counts > 1). */
const COMPROMISED_SHARE = 0.9;
const COMPROMISED_HOSTS = 8;
/** Hosts whose aidmaster record comes after their first events (Falcon). */
const LATE_AIDMASTER_SHARE = 0.15;
/** Attacks on a compromised host that use its usual C2 domain (so groups repeat). */
const FAVOURITE_DOMAIN_SHARE = 0.8;
/** BITS jobs and Start-BitsTransfer calls that fetch two files in one command line. */
const SECOND_URL_SHARE = 0.35;
/** Hosts a second download in a command line may name instead of a listed one. */
const UNLISTED_DOWNLOAD_HOSTS = [
  'download.windowsupdate.com',
  'dl.google.com',
  'evilpastebin.com',
  'github.com.evil.io',
];
/** Attacks whose command line names the C2 URL even though DNS also names it. */
const URL_IN_COMMAND_SHARE = 0.4;
/** Attacks whose DNS record is written after the connection it explains. */
const DNS_AFTER_CONNECTION_SHARE = 0.12;
/** Attacks whose process record comes after its events, per source. */
const LATE_PROCESS_SHARE: Record<BenchSource, number> = { falcon: 0.08, sysmon: 0.05 };
/** Attacks whose DNS query is written in mixed case (DNS 0x20, some malware). */
const MIXED_CASE_QUERY_SHARE = 0.03;
/** Batch start: a fixed instant, so a seed alone decides the output. */
const BATCH_START_MS = Date.UTC(2024, 2, 1, 10, 0, 0, 0);

export const DEFAULT_BENCH_DIR = fileURLToPath(new URL('../../.bench/', import.meta.url));

export interface GenerateOptions {
  source: BenchSource;
  /** Uncompressed size in MiB (fractions allowed). */
  mb: number;
  seed: number;
  /** Output directory; defaults to `.bench/` at the repository root. */
  dir?: string;
  /** Attacks per record (default DEFAULT_ATTACK_RATE); tests raise it to get matches from a few MiB. */
  attackRate?: number;
  /**
   * Sysmon only: write the events in this shape instead of XML. The batch holds the events (and
   * the planted matches) of the XML batch of the same mb, seed and rate; `mb` still counts XML.
   */
  shape?: SysmonShape;
}

export interface PlantedGroup {
  key: { host: string; user: string; process: string; domain: string };
  count: number;
  firstSeen: number;
  lastSeen: number;
}

/** Planted actions per scenario (decoys that must not match included), and on Linux hosts. */
export type PlantedActions = Record<Scenario | 'linux', number>;

export interface BatchManifest {
  generatorVersion: number;
  source: BenchSource;
  /** The Sysmon shape the events are written in, when not the source's own format. */
  shape?: SysmonShape;
  shapesVersion?: number;
  /** Shape batches: the simulation's events (the records of the XML batch). */
  events?: number;
  mb: number;
  seed: number;
  attackRate: number;
  /** Uncompressed bytes written. */
  bytes: number;
  gzipBytes: number;
  /** Records in the file's own framing (CloudWatch Logs envelopes for the cwl shape). */
  records: number;
  /** Records planted to match the rule. */
  plantedMatches: number;
  /** The SPEC §3 groups those planted records must form, sorted by key. */
  groups: PlantedGroup[];
  actions: PlantedActions;
  generationMs: number;
}

export interface GeneratedBatch {
  path: string;
  manifestPath: string;
  manifest: BatchManifest;
  reused: boolean;
}

export function batchFileName(
  source: BenchSource,
  mb: number,
  seed: number,
  attackRate = DEFAULT_ATTACK_RATE,
  shape?: SysmonShape,
): string {
  const ext = shape
    ? `s${SHAPES_VERSION}.${SHAPE_EXTENSIONS[shape]}`
    : source === 'falcon'
      ? 'ndjson'
      : 'xml';
  const rate = attackRate === DEFAULT_ATTACK_RATE ? '' : `-rate${attackRate}`;
  return `${source}-${mb}mb-seed${seed}${rate}-g${GENERATOR_VERSION}.${ext}.gz`;
}

/**
 * The size the generator stops at: bytes of the source-format chunks a text file has handed to
 * gzip plus the characters of the one being filled, counted as GzipTextFile counts them, so every
 * rendering of a batch stops after the same event.
 */
class SizeMeter {
  private bytes = 0;
  private chunkChars = 0;
  private chunkBytes = 0;

  get size(): number {
    return this.bytes + this.chunkChars;
  }

  add(text: string): void {
    this.chunkChars += text.length;
    this.chunkBytes += Buffer.byteLength(text);
    if (this.chunkChars >= WRITE_CHUNK_CHARS) {
      this.bytes += this.chunkBytes;
      this.chunkChars = 0;
      this.chunkBytes = 0;
    }
  }
}

/** Generates (or reuses) a batch. Streams: memory stays flat whatever `mb` is. */
export async function generateBatch(options: GenerateOptions): Promise<GeneratedBatch> {
  const dir = resolve(options.dir ?? DEFAULT_BENCH_DIR);
  const attackRate = options.attackRate ?? DEFAULT_ATTACK_RATE;
  if (
    !(options.mb > 0) ||
    !Number.isInteger(options.seed) ||
    !(attackRate >= 0 && attackRate < 1)
  ) {
    throw new RangeError(
      `generateBatch needs mb > 0, an integer seed and 0 <= attackRate < 1 (got ${options.mb}, ${options.seed}, ${attackRate})`,
    );
  }
  if (options.shape !== undefined && options.source !== 'sysmon') {
    throw new RangeError(
      `the ${options.shape} shape is a shape of Sysmon, not of ${options.source}`,
    );
  }
  const path = join(
    dir,
    batchFileName(options.source, options.mb, options.seed, attackRate, options.shape),
  );
  const manifestPath = `${path}.json`;
  if (existsSync(path) && existsSync(manifestPath)) {
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as BatchManifest;
    return { path, manifestPath, manifest, reused: true };
  }
  await mkdir(dir, { recursive: true });
  const started = performance.now();
  const tmp = `${path}.${process.pid}.tmp`;
  const formatter = options.source === 'falcon' ? new FalconFormatter() : new SysmonFormatter();
  const sim = new Simulation(options.source, options.seed, attackRate, formatter);
  const writer = openBatchWriter(tmp, formatter, options.shape);
  const meter = new SizeMeter();
  const target = options.mb * BYTES_PER_MB;
  let totals: { bytes: number; records: number };
  try {
    // Past the target, finish the attacks in flight, so every planted match is in the file.
    while (meter.size < target || sim.pending()) {
      meter.add(writer.write(sim.next()));
      const full = writer.wait();
      if (full) await full;
    }
    totals = await writer.end();
  } catch (error) {
    writer.destroy();
    await rm(tmp, { force: true });
    throw error;
  }
  const manifest: BatchManifest = {
    generatorVersion: GENERATOR_VERSION,
    source: options.source,
    ...(options.shape === undefined
      ? {}
      : { shape: options.shape, shapesVersion: SHAPES_VERSION, events: sim.records }),
    mb: options.mb,
    seed: options.seed,
    attackRate,
    bytes: totals.bytes,
    gzipBytes: (await stat(tmp)).size,
    records: totals.records,
    plantedMatches: sim.plantedMatches,
    groups: sim.plantedGroups(),
    actions: sim.actions,
    generationMs: Math.round(performance.now() - started),
  };
  await writeFile(`${manifestPath}.${process.pid}.tmp`, `${JSON.stringify(manifest, null, 1)}\n`);
  await rename(tmp, path);
  await rename(`${manifestPath}.${process.pid}.tmp`, manifestPath);
  return { path, manifestPath, manifest, reused: false };
}

type NoiseKind =
  | 'create'
  | 'end'
  | 'dns'
  | 'conn'
  | 'load'
  | 'access'
  | 'file'
  | 'regKey'
  | 'regValue';

/** Record mix per source: mostly noise, ~12 % process creates, ~10 % DNS, ~10 % connections. */
const SYSMON_MIX = new Weighted<NoiseKind>([
  ['create', 12],
  ['end', 6],
  ['dns', 10],
  ['conn', 10],
  ['load', 22],
  ['access', 16],
  ['file', 10],
  ['regKey', 6],
  ['regValue', 8],
]);
const FALCON_MIX = new Weighted<NoiseKind>([
  ['create', 13],
  ['end', 12],
  ['dns', 10],
  ['conn', 10],
  ['load', 20],
  ['file', 18],
  ['regKey', 5],
  ['regValue', 12],
]);
const LINUX_MIX = new Weighted<NoiseKind>([
  ['create', 20],
  ['end', 18],
  ['dns', 15],
  ['conn', 15],
  ['file', 32],
]);
type Shape = 'dnsConn' | 'dnsOnly' | 'cmdUrl' | 'beacon' | 'direct';
const SHAPES = new Weighted<Shape>([
  ['dnsConn', 45],
  ['dnsOnly', 10],
  ['cmdUrl', 25],
  ['beacon', 12],
  ['direct', 8],
]);
/**
 * What a planted action on a Windows host is (percent): a suspicious process (branch a), a
 * dropper under Office (branch b), PowerShell renamed chrome.exe, an implant in a user-writable
 * path (branch c: its medium-tier traffic is a decoy), an excluded client's name away from its
 * home, a download seen only in a command line (process-start events), or a decoy: an excluded
 * client at home doing what looks like an attack.
 */
export type Scenario =
  | 'standard'
  | 'officeChild'
  | 'renamed'
  | 'implant'
  | 'impostor'
  | 'fetchOnly'
  | 'homeClient';
const SCENARIOS_WIN = new Weighted<Scenario>([
  ['standard', 64],
  ['officeChild', 6],
  ['renamed', 4],
  ['implant', 10],
  ['impostor', 5],
  ['fetchOnly', 6],
  ['homeClient', 5],
]);
/** A planted action: its scenario, and optionally the tier of its C2 host and a second listed host. */
interface Plan {
  scenario: Scenario;
  tier?: Tier;
  /** A download of a second file from another listed host (fetchOnly). */
  twoHosts?: boolean;
}
/**
 * The first planted actions on Windows hosts of every batch, in this order, so that even a small
 * batch (the differential test's) has each clause of rule v2; later ones are drawn by weight.
 */
const FIRST_PLANS: readonly Plan[] = [
  { scenario: 'implant', tier: 'high' },
  { scenario: 'fetchOnly', twoHosts: true },
  { scenario: 'impostor', tier: 'high' },
  { scenario: 'homeClient' },
  { scenario: 'implant', tier: 'medium' },
  { scenario: 'standard', tier: 'medium' },
  { scenario: 'renamed' },
  { scenario: 'officeChild' },
];
const C2 = new Weighted(C2_DOMAINS.map((d) => [d, d.weight] as const));
const C2_BY_TIER: Record<Tier, Weighted<C2Domain>> = {
  high: new Weighted(
    C2_DOMAINS.filter((d) => d.tier === 'high').map((d) => [d, d.weight] as const),
  ),
  medium: new Weighted(
    C2_DOMAINS.filter((d) => d.tier === 'medium').map((d) => [d, d.weight] as const),
  ),
};
const ATTACK_WIN = new Weighted(ATTACKS_WIN.map((a) => [a, a.weight] as const));
const IMPLANT = new Weighted(ATTACK_IMPLANTS.map((a) => [a, a.weight] as const));
const IMPOSTOR = new Weighted(ATTACK_IMPOSTORS.map((a) => [a, a.weight] as const));
const HOME_CLIENT = new Weighted(HOME_CLIENTS.map((a) => [a, a.weight] as const));
const FETCH = new Weighted(FETCH_ONLY.map((a) => [a, a.weight] as const));
const ATTACK_LIN = new Weighted(ATTACKS_LIN.map((a) => [a, a.weight] as const));
const SPAWN_W = new Weighted(SPAWN_WIN.map((s) => [s, s.weight] as const));
const SPAWN_L = new Weighted(SPAWN_LIN.map((s) => [s, s.weight] as const));
const ACCESS_MASKS = ['0x1000', '0x1400', '0x1410', '0x101000', '0x1fffff', '0x40'];
const CALL_TRACES = [
  'C:\\Windows\\SYSTEM32\\ntdll.dll+9d234|C:\\Windows\\System32\\KERNELBASE.dll+2b8ee|C:\\Windows\\system32\\lsasrv.dll+1c2a1|C:\\Windows\\system32\\lsasrv.dll+1bf8c|C:\\Windows\\system32\\lsasrv.dll+2a4b9|C:\\Windows\\SYSTEM32\\SspiSrv.dll+11a5|C:\\Windows\\System32\\RPCRT4.dll+77953|C:\\Windows\\System32\\RPCRT4.dll+dbd5b|C:\\Windows\\System32\\RPCRT4.dll+585dc|C:\\Windows\\System32\\RPCRT4.dll+56a5b|C:\\Windows\\System32\\RPCRT4.dll+4c6d5|C:\\Windows\\System32\\RPCRT4.dll+4bcc2|C:\\Windows\\System32\\RPCRT4.dll+4bf4e|C:\\Windows\\SYSTEM32\\ntdll.dll+20330|C:\\Windows\\SYSTEM32\\ntdll.dll+52f26|C:\\Windows\\System32\\KERNEL32.DLL+17034|C:\\Windows\\SYSTEM32\\ntdll.dll+52651',
  'C:\\Windows\\SYSTEM32\\ntdll.dll+9c584|C:\\Windows\\SYSTEM32\\psmserviceexthost.dll+222a3|C:\\Windows\\SYSTEM32\\psmserviceexthost.dll+37ea0|C:\\Windows\\SYSTEM32\\psmserviceexthost.dll+37929|C:\\Windows\\SYSTEM32\\psmserviceexthost.dll+686f8|C:\\Windows\\SYSTEM32\\psmserviceexthost.dll+6e84a|C:\\Windows\\SYSTEM32\\psmserviceexthost.dll+6f700|C:\\Windows\\SYSTEM32\\psmserviceexthost.dll+34be4|C:\\Windows\\System32\\KERNEL32.DLL+17c24|C:\\Windows\\SYSTEM32\\ntdll.dll+6cea1',
  'C:\\Windows\\SYSTEM32\\ntdll.dll+9d4c4|C:\\Windows\\System32\\KERNELBASE.dll+32ea6|c:\\windows\\system32\\taskcomp.dll+2c7b1|c:\\windows\\system32\\taskcomp.dll+2c3c4|C:\\Windows\\System32\\RPCRT4.dll+77953|C:\\Windows\\System32\\RPCRT4.dll+4c6d5|C:\\Windows\\SYSTEM32\\ntdll.dll+52f26|C:\\Windows\\System32\\KERNEL32.DLL+17034|C:\\Windows\\SYSTEM32\\ntdll.dll+52651',
  'C:\\Windows\\SYSTEM32\\ntdll.dll+9d234|C:\\Windows\\System32\\KERNELBASE.dll+2b8ee|C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24010.12-0\\MpSvc.dll+3c1a5|C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24010.12-0\\MpSvc.dll+3b8f2|C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24010.12-0\\mpengine.dll+4a0c1d|C:\\Windows\\System32\\KERNEL32.DLL+17034|C:\\Windows\\SYSTEM32\\ntdll.dll+52651',
];
const INTERNAL_PORTS = [445, 389, 88, 135, 3268, 5985, 8080, 53];
const ATTACK_DLLS = DLLS.filter((dll) =>
  /winhttp|wininet|urlmon|dnsapi|mswsock|amsi/i.test(dll.path),
);

interface Scheduled {
  due: number;
  seq: number;
  event: SimEvent;
}

/** A min-heap of events keyed by the record index they are due at (ties: insertion order). */
class Schedule {
  private readonly heap: Scheduled[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(due: number, event: SimEvent): void {
    const item = { due, seq: this.seq++, event };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(item, h[parent] as Scheduled)) break;
      h[i] = h[parent] as Scheduled;
      i = parent;
    }
    h[i] = item;
  }

  peekDue(): number {
    return this.heap[0]?.due ?? Number.POSITIVE_INFINITY;
  }

  pop(): SimEvent {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (!top || !last) throw new RangeError('pop from an empty schedule');
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && less(h[r] as Scheduled, h[l] as Scheduled) ? r : l;
        if (!less(h[c] as Scheduled, last)) break;
        h[i] = h[c] as Scheduled;
        i = c;
      }
      h[i] = last;
    }
    return top.event;
  }
}

function less(a: Scheduled, b: Scheduled): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

function h4(n: number): string {
  return (n & 0xffff).toString(16).padStart(4, '0');
}

/** Produces the batch one record at a time and keeps the oracle of planted matches. */
class Simulation {
  records = 0;
  plantedMatches = 0;
  /** Planted actions by scenario, decoys included. */
  readonly actions: PlantedActions = {
    standard: 0,
    officeChild: 0,
    renamed: 0,
    implant: 0,
    impostor: 0,
    fetchOnly: 0,
    homeClient: 0,
    linux: 0,
  };
  private readonly firstPlans = [...FIRST_PLANS];
  private readonly rng: Rng;
  private readonly hosts: Host[];
  private readonly winHosts: Host[];
  private readonly compromised: Host[];
  private readonly favourite = new Map<Host, C2Domain>();
  private readonly announced = new Set<Host>();
  private readonly schedule = new Schedule();
  private readonly groups = new Map<string, PlantedGroup>();
  private clock = BATCH_START_MS;

  constructor(
    private readonly source: BenchSource,
    seed: number,
    private readonly attackRate: number,
    /** The source's formatter: the time each record carries (the oracle's first/last seen). */
    private readonly formatter: Formatter,
  ) {
    this.rng = new Rng(seed);
    const all = makeHosts(this.rng);
    this.hosts = source === 'falcon' ? all : all.filter((h) => h.platform === 'Win');
    this.winHosts = this.hosts.filter((h) => h.platform === 'Win');
    for (const host of this.hosts) this.seedPersistent(host);
    const pool = [...this.winHosts];
    this.compromised = [];
    for (let i = 0; i < COMPROMISED_HOSTS; i++) {
      this.compromised.push(pool.splice(this.rng.int(0, pool.length - 1), 1)[0] as Host);
    }
    if (source === 'falcon') {
      const lin = this.hosts.filter((h) => h.platform === 'Lin');
      this.compromised.push(this.rng.pick(lin));
    }
    for (const host of this.compromised) this.favourite.set(host, C2.draw(this.rng));
  }

  pending(): boolean {
    return this.schedule.size > 0;
  }

  /** The next event of the batch (counted in the oracle when planted). */
  next(): SimEvent {
    while (this.schedule.peekDue() > this.records) this.produce();
    const event = this.schedule.pop();
    this.records++;
    if (event.matches !== undefined) this.count(event);
    return event;
  }

  plantedGroups(): PlantedGroup[] {
    return [...this.groups.values()].sort((a, b) => compareKeys(a.key, b.key));
  }

  private count(event: SimEvent): void {
    if (event.t === 'aidmaster' || event.matches === undefined) return;
    const p = event.proc;
    const time = this.formatter.recordTime(event);
    for (const domain of event.matches) {
      const key = {
        host: this.source === 'falcon' ? p.host.name : p.host.fqdn,
        user: this.source === 'falcon' ? p.account.falcon : p.account.sysmon,
        process: p.nameLower,
        domain,
      };
      const id = `${key.host}\u0000${key.user}\u0000${key.process}\u0000${key.domain}`;
      const group = this.groups.get(id);
      this.plantedMatches++;
      if (group) {
        group.count++;
        group.firstSeen = Math.min(group.firstSeen, time);
        group.lastSeen = Math.max(group.lastSeen, time);
      } else {
        this.groups.set(id, { key, count: 1, firstSeen: time, lastSeen: time });
      }
    }
  }

  /** Schedules at least one event due now. */
  private produce(): void {
    this.clock += this.rng.int(0, 2);
    if (this.source === 'falcon' && this.rng.chance(0.0003)) {
      // FDR re-sends aidmaster records; duplicates must not disturb anything.
      this.push(this.records, {
        t: 'aidmaster',
        host: this.rng.pick(this.hosts),
        time: this.clock,
      });
    }
    if (this.rng.chance(this.attackRate)) this.plantAttack();
    else this.noise();
  }

  private push(due: number, event: SimEvent): void {
    if (this.source === 'falcon') {
      const host = event.t === 'aidmaster' ? event.host : event.proc.host;
      if (!this.announced.has(host)) {
        this.announced.add(host);
        const late = this.rng.chance(LATE_AIDMASTER_SHARE);
        const aidDue = late ? due + this.rng.int(50, 5_000) : due;
        this.schedule.push(aidDue, { t: 'aidmaster', host, time: this.clock });
      }
    }
    this.schedule.push(due, event);
  }

  private seedPersistent(host: Host): void {
    const specs: ProcSpec[] =
      host.platform === 'Lin'
        ? [...PERSISTENT_LIN]
        : [
            ...PERSISTENT_WIN,
            ...PERSISTENT_OPTIONAL.filter(([, p]) => this.rng.chance(p)).map(([s]) => s),
          ];
    for (const spec of specs) {
      const start = BATCH_START_MS - this.rng.int(60_000, 36_000_000);
      host.persistent.push(
        this.makeProc(host, spec, this.fill(host, this.rng.pick(spec.cmds)), start),
      );
    }
  }

  private fill(host: Host, template: string): string {
    let out = template;
    if (out.includes('{u}')) out = out.replaceAll('{u}', host.user.falcon);
    if (out.includes('{r}')) out = out.replaceAll('{r}', this.rng.hex(4));
    if (out.includes('{n}')) out = out.replaceAll('{n}', String(this.rng.int(2, 9_999)));
    return out;
  }

  private makeProc(host: Host, spec: Omit<ProcSpec, 'cmds'>, cmd: string, startMs: number): Proc {
    const bin = BINARIES[spec.bin];
    const image = bin.path.replace('{u}', host.user.falcon);
    const counter = ++host.procCounter;
    const startSec = Math.floor(startMs / 1000);
    const account = spec.account === 'user' ? host.user : SYSTEM_ACCOUNTS[spec.account];
    const pid = this.rng.int(50, 4_000) * 4;
    return {
      host,
      bin,
      image,
      nameLower: bin.name.toLowerCase(),
      cmd,
      cls: spec.cls,
      net: spec.net,
      account,
      integrity: spec.integrity,
      guid: `{${host.guidPrefix}-${h4(startSec)}-${h4(startSec >>> 16)}-${h4(counter)}-${h4(counter >>> 16)}00000700}`,
      pid,
      fpid: String(
        (host.index * 4_294_967_296 + (Math.imul(counter, 0x9e3779b1) >>> 0)) * 97 +
          10_000_000_000_000,
      ),
      parent: this.parentRef(host, spec.parent, startMs),
      startMs,
      hashes: hashesOf(image),
    };
  }

  /** The parent: a live process of that binary on the host when there is one, else a stub. */
  private parentRef(host: Host, parent: BinaryId, startMs: number): ParentRef {
    for (const list of [host.churn, host.persistent]) {
      for (let i = list.length - 1; i >= 0; i--) {
        const p = list[i] as Proc;
        if (p.bin === BINARIES[parent]) {
          return { image: p.image, cmd: p.cmd, guid: p.guid, pid: p.pid, fpid: p.fpid };
        }
      }
    }
    const bin = BINARIES[parent];
    const image = bin.path.replace('{u}', host.user.falcon);
    const counter = ++host.procCounter;
    const sec = Math.floor(startMs / 1000) - 30;
    return {
      image,
      cmd: image.includes(' ') ? `"${image}" ` : image,
      guid: `{${host.guidPrefix}-${h4(sec)}-${h4(sec >>> 16)}-${h4(counter)}-${h4(counter >>> 16)}00000700}`,
      pid: this.rng.int(50, 4_000) * 4,
      fpid: String(
        (host.index * 4_294_967_296 + (Math.imul(counter, 0x9e3779b1) >>> 0)) * 97 +
          10_000_000_000_000,
      ),
    };
  }

  private anyProc(host: Host): Proc {
    const n = host.persistent.length + host.churn.length;
    const i = this.rng.int(0, n - 1);
    return (
      i < host.persistent.length ? host.persistent[i] : host.churn[i - host.persistent.length]
    ) as Proc;
  }

  private netProc(host: Host): Proc {
    for (let tries = 0; tries < 6; tries++) {
      const p = this.anyProc(host);
      if (p.net) return p;
    }
    return host.persistent.find((p) => p.net) as Proc;
  }

  private noise(): void {
    const host = this.rng.pick(this.hosts);
    const kind = (
      host.platform === 'Lin' ? LINUX_MIX : this.source === 'falcon' ? FALCON_MIX : SYSMON_MIX
    ).draw(this.rng);
    const time = this.clock;
    const now = this.records;
    const rng = this.rng;
    switch (kind) {
      case 'create': {
        const spec: SpawnSpec = (host.platform === 'Lin' ? SPAWN_L : SPAWN_W).draw(rng);
        const proc = this.makeProc(host, spec, this.fill(host, rng.pick(spec.cmds)), time);
        host.churn.push(proc);
        if (host.churn.length > MAX_CHURN_PER_HOST) host.churn.shift();
        this.push(now, { t: 'create', proc, time });
        return;
      }
      case 'end': {
        if (host.churn.length === 0) {
          this.noise();
          return;
        }
        const proc = host.churn.splice(rng.int(0, host.churn.length - 1), 1)[0] as Proc;
        this.push(now, { t: 'end', proc, time });
        return;
      }
      case 'dns': {
        if (this.source === 'sysmon' && rng.chance(0.004)) {
          // Sysmon attributes some queries to no process; such events are never suspicious.
          const query = 'raw.githubusercontent.com';
          this.push(now, {
            t: 'dns',
            proc: this.unknownProc(host),
            query,
            ips: addressesOf(query),
            cname: 'github.map.fastly.net',
            status: 0,
            time,
          });
          return;
        }
        const proc = this.netProc(host);
        const query = domainFor(proc.net ?? 'svchost', rng);
        const nx = proc.cls === 'suspicious' && rng.chance(0.03);
        this.push(now, {
          t: 'dns',
          proc,
          query: nx ? `wpad.${query}` : query,
          ips: nx ? [] : addressesOf(query),
          cname: rng.chance(0.2) ? `${query.split('.')[0]}.edgekey.net` : undefined,
          status: nx ? 9003 : 0,
          time,
        });
        return;
      }
      case 'conn': {
        const proc = this.netProc(host);
        const x = rng.next();
        let ip: string;
        let port = 443;
        let hostname = '-';
        if (x < 0.6) {
          const domain = domainFor(proc.net ?? 'svchost', rng);
          ip = rng.pick(addressesOf(domain));
          // Browsers and apps may carry the name (even a listed one); suspicious noise never a listed one.
          const y = rng.next();
          if (y < 0.25) hostname = domain;
          else if (y < 0.4) hostname = reverseNameOf(ip);
          else if (y < 0.5) hostname = '';
        } else if (x < 0.9) {
          ip = `10.10.${rng.int(0, 3)}.${rng.int(2, 40)}`;
          port = rng.pick(INTERNAL_PORTS);
          if (rng.chance(0.5)) hostname = `dc0${rng.int(1, 2)}.corp.example.com`;
        } else {
          ip = `${rng.pick([23, 34, 52, 104, 172])}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(2, 254)}`;
          port = rng.pick([443, 80, 8443]);
        }
        if (
          proc.cls === 'suspicious' &&
          hostname !== '-' &&
          hostname !== '' &&
          !hostname.includes('.corp.')
        ) {
          hostname = '-';
        }
        if (this.source === 'sysmon' && rng.chance(0.003)) {
          this.push(now, {
            t: 'conn',
            proc: this.unknownProc(host),
            ip: addressesOf('raw.githubusercontent.com')[0] as string,
            port: 443,
            srcPort: rng.int(49_152, 65_535),
            hostname: '-',
            time,
          });
          return;
        }
        this.push(now, {
          t: 'conn',
          proc,
          ip,
          port,
          srcPort: rng.int(49_152, 65_535),
          hostname,
          time,
        });
        return;
      }
      case 'load':
        this.push(now, { t: 'load', proc: this.anyProc(host), dll: rng.pick(DLLS), time });
        return;
      case 'access': {
        const src = rng.chance(0.6)
          ? (rng.pick(host.persistent.slice(0, 6)) as Proc)
          : this.anyProc(host);
        this.push(now, {
          t: 'access',
          proc: src,
          target: this.anyProc(host),
          access: rng.pick(ACCESS_MASKS),
          callTrace: rng.pick(CALL_TRACES),
          time,
        });
        return;
      }
      case 'file': {
        const proc = this.anyProc(host);
        const path =
          host.platform === 'Lin'
            ? `/tmp/${rng.pick(['ci', 'build', 'cache', '.X11-unix'])}/${rng.hex(6)}.tmp`
            : this.fill(host, rng.pick(FILE_TARGETS)).replace('{R}', rng.hex(4).toUpperCase());
        this.push(now, { t: 'file', proc, path, time });
        return;
      }
      case 'regKey':
      case 'regValue': {
        const key = rng.pick(REGISTRY_KEYS).replace('{sid}', host.user.sid);
        const proc = this.anyProc(host);
        if (kind === 'regKey') this.push(now, { t: 'regKey', proc, key, time });
        else
          this.push(now, { t: 'regValue', proc, key, details: rng.pick(REGISTRY_DETAILS), time });
        return;
      }
    }
  }

  private unknownProc(host: Host): Proc {
    const base = this.netProc(host);
    return {
      ...base,
      image: '<unknown process>',
      nameLower: '<unknown process>',
      guid: UNKNOWN_GUID,
      cls: 'quiet',
    };
  }

  /**
   * One planted action on a host: an attack (a process and its DNS, connection and process
   * records, each carrying the matches rule v2 makes of it), or a decoy that must not match.
   */
  private plantAttack(): void {
    const rng = this.rng;
    const host = rng.chance(COMPROMISED_SHARE)
      ? rng.pick(this.compromised)
      : rng.pick(this.winHosts);
    if (host.platform === 'Lin') {
      this.actions.linux++;
      this.plantNetworkAttack(host, ATTACK_LIN.draw(rng), undefined);
      return;
    }
    const plan = this.firstPlans.shift() ?? { scenario: SCENARIOS_WIN.draw(rng) };
    this.actions[plan.scenario]++;
    if (plan.scenario === 'fetchOnly') this.plantFetch(host, this.fetchSpec(plan), plan.twoHosts);
    else this.plantNetworkAttack(host, this.attackSpec(plan.scenario), plan.tier);
  }

  private attackSpec(scenario: Exclude<Scenario, 'fetchOnly'>): AttackSpec {
    const rng = this.rng;
    switch (scenario) {
      case 'standard':
        return ATTACK_WIN.draw(rng);
      case 'officeChild':
        return ATTACK_OFFICE_CHILD;
      case 'renamed':
        return ATTACK_RENAMED;
      case 'implant':
        return IMPLANT.draw(rng);
      case 'impostor':
        return IMPOSTOR.draw(rng);
      case 'homeClient':
        return HOME_CLIENT.draw(rng);
    }
  }

  private fetchSpec(plan: Plan): FetchSpec {
    for (;;) {
      const spec = FETCH.draw(this.rng);
      if (!plan.twoHosts || spec.maxUrls > 1) return spec;
    }
  }

  /** Which tiers the spec's process matches in this source (Falcon has no OriginalFileName). */
  private reachOf(spec: Pick<AttackSpec, 'reach' | 'reachWithoutIdentity'>): Reach {
    const reach = spec.reach ?? 'any';
    return this.source === 'falcon' ? (spec.reachWithoutIdentity ?? reach) : reach;
  }

  /** The host's usual C2 service most of the time (so groups repeat), else any (of `tier`). */
  private pickC2(host: Host, tier: Tier | undefined): C2Domain {
    const fav = this.favourite.get(host);
    if (fav !== undefined && (tier === undefined || fav.tier === tier)) {
      if (this.rng.chance(FAVOURITE_DOMAIN_SHARE)) return fav;
    }
    return (tier === undefined ? C2 : C2_BY_TIER[tier]).draw(this.rng);
  }

  /** A planted process (never one that noise picks: it is not among the host's processes). */
  private attackProc(
    host: Host,
    spec: Pick<AttackSpec, 'bin' | 'parent' | 'account' | 'reach' | 'reachWithoutIdentity'>,
    cmd: string,
  ): Proc {
    return this.makeProc(
      host,
      {
        bin: spec.bin,
        cls: this.reachOf(spec) === 'none' ? 'excluded' : 'suspicious',
        account: spec.account,
        parent: spec.parent,
        integrity: 'Medium',
      },
      cmd,
      this.clock,
    );
  }

  /** A process that resolves and/or connects to its C2 host, in one of the SHAPES. */
  private plantNetworkAttack(host: Host, spec: AttackSpec, tier: Tier | undefined): void {
    const rng = this.rng;
    const reach = this.reachOf(spec);
    const c2 = this.pickC2(host, tier);
    let shape = SHAPES.draw(rng);
    if (shape === 'direct' && this.source === 'falcon') shape = 'dnsConn';
    const url = `https://${c2.host}${c2Path(c2.host, rng.hex(4))}`;
    const withUrl = shape === 'cmdUrl' || rng.chance(URL_IN_COMMAND_SHARE);
    const cmd = this.fill(
      host,
      withUrl ? (rng.pick(spec.withUrl) as (u: string) => string)(url) : rng.pick(spec.withoutUrl),
    );
    const proc = this.attackProc(host, spec, cmd);
    const matches = matchesOf(reach, [c2]);
    const events = this.networkEvents(proc, c2.host, shape, matches);
    this.scheduleProcess(proc, events, withUrl ? matches : undefined);
  }

  /** The DNS, module load and connection records of an attack, each with the record it is due at. */
  private networkEvents(
    proc: Proc,
    domain: string,
    shape: Shape,
    matches: readonly string[] | undefined,
  ): [number, SimEvent][] {
    const rng = this.rng;
    const ips = addressesOf(domain);
    const events: [number, SimEvent][] = [];
    let due = this.records + rng.int(1, 40);
    let time = proc.startMs + rng.int(50, 900);
    let dnsAt = -1;
    const planted = matches === undefined ? {} : { matches };
    if (shape !== 'cmdUrl') {
      // Some resolvers and malware randomise case (DNS 0x20); the group key is lower-case.
      const query = rng.chance(MIXED_CASE_QUERY_SHARE)
        ? domain.replace(/^./, (c) => c.toUpperCase())
        : domain;
      dnsAt = events.length;
      events.push([
        due,
        { t: 'dns', proc, query, ips, cname: undefined, status: 0, time, ...planted },
      ]);
    }
    if (rng.chance(0.5)) {
      events.push([
        due + rng.int(0, 5),
        { t: 'load', proc, dll: rng.pick(ATTACK_DLLS), time: time - 10 },
      ]);
    }
    if (shape !== 'dnsOnly') {
      const n = shape === 'beacon' ? rng.int(2, 5) : 1;
      for (let i = 0; i < n; i++) {
        due += rng.int(1, 30);
        time += rng.int(2, shape === 'beacon' ? 60_000 : 60);
        const y = rng.next();
        const hostname =
          shape === 'direct'
            ? domain
            : y < 0.7
              ? '-'
              : y < 0.85
                ? ''
                : reverseNameOf(ips[0] as string);
        events.push([
          due,
          {
            t: 'conn',
            proc,
            ip: rng.pick(ips),
            port: 443,
            srcPort: rng.int(49_152, 65_535),
            hostname,
            time,
            ...planted,
          },
        ]);
      }
    }
    // Occasionally the DNS record is written after the connection it explains.
    const last = events[events.length - 1] as [number, SimEvent];
    if (dnsAt >= 0 && events.length > 1 && rng.chance(DNS_AFTER_CONNECTION_SHARE)) {
      (events[dnsAt] as [number, SimEvent])[0] = last[0] + rng.int(1, 20);
    }
    return events;
  }

  /**
   * A download with no network record of its own (SPEC §1: BITS, renamed binaries): the process
   * start is the event, one per distinct listed host its command line names. For BITS jobs the
   * service host resolves and connects, and it matches no branch.
   */
  private plantFetch(host: Host, spec: FetchSpec, twoHosts = false): void {
    const rng = this.rng;
    const first = this.pickC2(host, undefined);
    const named: C2Domain[] = [first];
    const urls = [`https://${first.host}${c2Path(first.host, rng.hex(4))}`];
    if (spec.maxUrls > 1 && (twoHosts || rng.chance(SECOND_URL_SHARE))) {
      const x = twoHosts ? 0.5 : rng.next();
      // The same host again (still one event), another listed host, or an unlisted one.
      const second = x < 0.4 ? first : x < 0.7 ? this.otherC2(first) : undefined;
      if (second) named.push(second);
      const name = second?.host ?? rng.pick(UNLISTED_DOWNLOAD_HOSTS);
      urls.push(`https://${name}${c2Path(name, rng.hex(4))}`);
    }
    const proc = this.attackProc(host, spec, this.fill(host, spec.cmd(urls)));
    const events =
      spec.bin === 'renamedBitsadmin' ? [] : this.bitsService(host, first, proc.startMs);
    this.scheduleProcess(proc, events, matchesOf(this.reachOf(spec), named));
  }

  /**
   * What the BITS service does for a job: its svchost resolves and connects to the host. A
   * service host in System32 matches no branch (SPEC §1 clause 4): these records are not matches.
   */
  private bitsService(host: Host, c2: C2Domain, startMs: number): [number, SimEvent][] {
    const rng = this.rng;
    const proc = host.persistent.find(
      (p) => p.bin === BINARIES.svchost && p.cmd.includes('netsvcs'),
    );
    if (!proc) return [];
    const ips = addressesOf(c2.host);
    const due = this.records + rng.int(1, 40);
    const time = startMs + rng.int(200, 3_000);
    return [
      [due, { t: 'dns', proc, query: c2.host, ips, cname: undefined, status: 0, time }],
      [
        due + rng.int(1, 30),
        {
          t: 'conn',
          proc,
          ip: ips[0] as string,
          port: 443,
          srcPort: rng.int(49_152, 65_535),
          hostname: '-',
          time: time + rng.int(2, 60),
        },
      ],
    ];
  }

  /** A listed C2 host other than `than`. */
  private otherC2(than: C2Domain): C2Domain {
    for (;;) {
      const c2 = C2.draw(this.rng);
      if (c2.host !== than.host) return c2;
    }
  }

  /**
   * Schedules a planted process: its record (usually first, but sometimes after its events, SPEC
   * §2 pooling), its events and its end. `startMatches` are the matches its process start makes.
   */
  private scheduleProcess(
    proc: Proc,
    events: readonly [number, SimEvent][],
    startMatches: readonly string[] | undefined,
  ): void {
    const rng = this.rng;
    const now = this.records;
    const lastDue = Math.max(now, ...events.map(([d]) => d));
    const lateCreate = events.length > 0 && rng.chance(LATE_PROCESS_SHARE[this.source]);
    const createDue = lateCreate ? lastDue + rng.int(1, 300) : now;
    const create: SimEvent = { t: 'create', proc, time: proc.startMs };
    this.push(
      createDue,
      startMatches === undefined ? create : { ...create, matches: startMatches },
    );
    for (const [d, ev] of events) this.push(d, ev);
    const lastTime = Math.max(proc.startMs, ...events.map(([, ev]) => ev.time));
    const endDue = Math.max(lastDue, createDue) + rng.int(5, 200);
    this.push(endDue, { t: 'end', proc, time: lastTime + rng.int(100, 5_000) });
  }
}

/**
 * The matches rule v2 makes of records naming `named` for a process of this reach: one per
 * distinct host whose tier the reach covers (SPEC §1 clause 4), none when none does.
 */
function matchesOf(reach: Reach, named: readonly C2Domain[]): readonly string[] | undefined {
  const hosts = new Set<string>();
  for (const c2 of named) {
    if (reach === 'any' || (reach === 'high' && c2.tier === 'high')) hosts.add(c2.host);
  }
  return hosts.size === 0 ? undefined : [...hosts];
}

export function compareKeys(a: PlantedGroup['key'], b: PlantedGroup['key']): number {
  return (
    cmp(a.host, b.host) ||
    cmp(a.user, b.user) ||
    cmp(a.process, b.process) ||
    cmp(a.domain, b.domain)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      source: { type: 'string', default: 'falcon' },
      mb: { type: 'string', default: '5' },
      seed: { type: 'string', default: '1' },
      dir: { type: 'string' },
      'attack-rate': { type: 'string' },
      shape: { type: 'string' },
    },
  });
  const source = values.source;
  if (source !== 'falcon' && source !== 'sysmon')
    throw new Error(`--source must be falcon or sysmon, not ${source}`);
  const shape = values.shape;
  if (shape !== undefined && !(SYSMON_SHAPES as readonly string[]).includes(shape))
    throw new Error(`--shape must be one of ${SYSMON_SHAPES.join(', ')}, not ${shape}`);
  const batch = await generateBatch({
    source,
    ...(shape !== undefined ? { shape: shape as SysmonShape } : {}),
    mb: Number(values.mb),
    seed: Number(values.seed),
    ...(values.dir !== undefined ? { dir: values.dir } : {}),
    ...(values['attack-rate'] !== undefined ? { attackRate: Number(values['attack-rate']) } : {}),
  });
  const m = batch.manifest;
  console.log(
    `${batch.reused ? 'reused' : 'wrote'} ${batch.path}: ${(m.bytes / BYTES_PER_MB).toFixed(1)} MiB text, ${(m.gzipBytes / BYTES_PER_MB).toFixed(1)} MiB gzip, ${m.records} records, ${m.plantedMatches} planted matches in ${m.groups.length} groups, ${m.generationMs} ms`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
