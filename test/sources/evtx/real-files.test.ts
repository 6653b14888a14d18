import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED_DATASETS } from '../../helpers/datasets.ts';
import { readDump } from './dump.ts';
import { parseEvtx } from './run.ts';

// GPL samples (EVTX-ATTACK-SAMPLES): read from ../shared, never copied into the project.
const NAMES = [
  'evtxattack-mshta-sharpshooter',
  'evtxattack-panache-edr-testing',
  'evtxattack-regsvr32-sct-pastebin',
];
const cases = NAMES.map((name) => ({
  name,
  evtx: join(SHARED_DATASETS, 'evtx', `${name}.evtx`),
  dump: join(SHARED_DATASETS, 'sysmon', `${name}.evtx.xml`),
})).filter((c) => existsSync(c.evtx));

describe('EVTX parser: real Sysmon logs give what their python-evtx dumps say', () => {
  // Where ../shared is (CI puts it beside the clone), all three must be: none may go missing
  // unnoticed. A clone without it reads the MIT fixtures only.
  it.runIf(existsSync(SHARED_DATASETS))('has the three shared EVTX files', () => {
    expect(cases.map((c) => c.name)).toEqual(NAMES);
  });

  it.each(cases)('$name: every record equals its dump, by EventRecordID', ({ evtx, dump }) => {
    // Prepare
    const expected = readDump(dump);
    // Act
    const { records, skips, summary } = parseEvtx(readFileSync(evtx), Number.MAX_SAFE_INTEGER);
    // Assess
    expect(skips).toEqual([]);
    expect(expected.length).toBeGreaterThan(0);
    expect(records.map((r) => r.recordId)).toEqual(expected.map((e) => e.recordId));
    const byId = new Map(records.map((r) => [r.recordId, r]));
    for (const e of expected) {
      const r = byId.get(e.recordId);
      expect({ ...r, offset: 0 }).toEqual({
        recordId: e.recordId,
        offset: 0,
        eventId: e.eventId,
        computer: e.computer,
        systemTime: e.systemTime,
        channel: e.channel,
        data: e.data,
      });
    }
    expect(summary).toMatchObject({
      records: expected.length,
      rendered: expected.length,
      skipped: 0,
    });
  });

  it.each(cases)(
    '$name: slices of 1, 7 and 4096 bytes give what the whole file gives',
    ({ evtx }) => {
      // Prepare
      const bytes = readFileSync(evtx);
      const whole = parseEvtx(bytes, bytes.length);
      // Act
      const sliced = [1, 7, 4096].map((n) => parseEvtx(bytes, n));
      // Assess
      for (const s of sliced) expect(s).toEqual(whole);
    },
  );

  it.each(cases)('$name: the prefilter renders only the wanted event ids', ({ evtx, dump }) => {
    // Prepare
    const expected = readDump(dump);
    const wanted = new Set([1, 3]);
    let asked = 0;
    // Act
    const { records, summary } = parseEvtx(readFileSync(evtx), 65536, (id) => {
      asked++;
      return wanted.has(id);
    });
    // Assess
    const expectedWanted = expected.filter((e) => wanted.has(e.eventId));
    expect(asked).toBe(expected.length);
    expect(records.map((r) => r.recordId)).toEqual(expectedWanted.map((e) => e.recordId));
    expect(summary.rendered).toBe(expectedWanted.length);
    expect(summary.filtered).toBe(expected.length - expectedWanted.length);
    expect(summary.records).toBe(expected.length);
  });
});
