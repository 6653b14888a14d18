import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';

/** One `<Event>` of a python-evtx XML dump, read the way the Sysmon XML reader reads it. */
export interface DumpedEvent {
  recordId: number;
  eventId: number;
  computer: string | undefined;
  systemTime: string | undefined;
  channel: string | undefined;
  data: Record<string, string>;
}

type Node = Record<string, unknown>;

// The options of lib/sources/sysmon.ts, so values compare as the XML path would see them.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  isArray: (name) => name === 'Data' || name === 'Event',
});

const text = (v: unknown): string | undefined =>
  typeof v === 'string'
    ? v
    : typeof v === 'object' && v !== null
      ? typeof (v as Node)['#text'] === 'string'
        ? ((v as Node)['#text'] as string)
        : ''
      : undefined;

/** Every event of a python-evtx `evtx_dump.py` output file. */
export function readDump(file: string): DumpedEvent[] {
  const doc = parser.parse(readFileSync(file, 'utf8')) as Node;
  const events = ((doc.Events as Node | undefined)?.Event ?? []) as Node[];
  return events.map((event) => {
    const system = event.System as Node;
    const data: Record<string, string> = {};
    for (const d of ((event.EventData as Node | undefined)?.Data ?? []) as Node[]) {
      if (typeof d.Name === 'string') data[d.Name] = text(d) ?? '';
    }
    const created = system.TimeCreated as Node | undefined;
    return {
      recordId: Number(text(system.EventRecordID)),
      eventId: Number(text(system.EventID)?.trim()),
      computer: text(system.Computer),
      systemTime: typeof created?.SystemTime === 'string' ? created.SystemTime : undefined,
      channel: text(system.Channel),
      data,
    };
  });
}
