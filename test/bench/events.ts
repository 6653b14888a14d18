/** The source-independent events of the simulation; `sysmon-format.ts`/`falcon-format.ts` render them. */
import type { Binary, Host, Proc } from './world.ts';

interface Base {
  /** Event time, ms since epoch. */
  time: number;
  /**
   * When set, the matches this record must produce under rule v2, one per entry, each its SPEC §3
   * group domain (lower-case, no trailing dot): one for a DNS query or a connection, one per
   * distinct listed host in the command line for a process start. Only planted events carry it;
   * the oracle counts them as they are written.
   */
  matches?: readonly string[];
}

export type SimEvent =
  | (Base & { t: 'create'; proc: Proc })
  | (Base & { t: 'end'; proc: Proc })
  | (Base & {
      t: 'dns';
      proc: Proc;
      query: string;
      ips: readonly string[];
      cname: string | undefined;
      /** 0 = NOERROR; 9003 = NXDOMAIN (Sysmon's QueryStatus). */
      status: number;
    })
  | (Base & {
      t: 'conn';
      proc: Proc;
      ip: string;
      port: number;
      srcPort: number;
      /** Sysmon `DestinationHostname` ('-', '', a reverse-DNS name or the queried name). */
      hostname: string;
    })
  | (Base & { t: 'load'; proc: Proc; dll: Binary })
  | (Base & { t: 'access'; proc: Proc; target: Proc; access: string; callTrace: string })
  | (Base & { t: 'file'; proc: Proc; path: string })
  | (Base & { t: 'regKey'; proc: Proc; key: string })
  | (Base & { t: 'regValue'; proc: Proc; key: string; details: string })
  | (Base & { t: 'aidmaster'; host: Host });

/** Renders one event as one record (a Sysmon `<Event>` or one FDR NDJSON line). */
export interface Formatter {
  render(event: SimEvent): string;
  /** The time (ms) a reader takes from the record of `event` (SPEC §2, column "time"). */
  recordTime(event: SimEvent): number;
}

/** `YYYY-MM-DD HH:MM:SS.mmm` (Sysmon UtcTime). */
export function utcTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** Seconds with three decimals, built from integer ms (Falcon ContextTimeStamp): exact. */
export function secondsDotMs(ms: number): string {
  const s = Math.floor(ms / 1000);
  const frac = ms - s * 1000;
  return `${s}.${frac < 10 ? `00${frac}` : frac < 100 ? `0${frac}` : frac}`;
}
