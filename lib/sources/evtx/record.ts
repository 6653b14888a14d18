import type { BinXmlSink } from './binxml.ts';

/** The fields a record gives, as text, before they become an EvtxRecord. */
export interface RecordFields {
  eventId: string | undefined;
  eventRecordId: string | undefined;
  computer: string | undefined;
  systemTime: string | undefined;
  channel: string | undefined;
  data: Record<string, string>;
}

enum Field {
  None,
  EventId,
  EventRecordId,
  Computer,
  Channel,
  Data,
  TimeCreated,
}

const SYSTEM_FIELDS: Readonly<Record<string, Field>> = {
  EventID: Field.EventId,
  EventRecordID: Field.EventRecordId,
  Computer: Field.Computer,
  Channel: Field.Channel,
  TimeCreated: Field.TimeCreated,
};

enum Section {
  None,
  System,
  EventData,
}

/**
 * Collects `Event/System/{EventID, EventRecordID, Computer, Channel, TimeCreated/@SystemTime}`
 * and `Event/EventData/Data[@Name]` text, the way fast-xml-parser reads python-evtx's dump;
 * values elsewhere are never rendered. In `eventIdOnly` mode it stops at the end of EventID.
 */
export class RecordCollector implements BinXmlSink {
  stop = false;
  fields: RecordFields = emptyFields();
  private depth = 0;
  private rootIsEvent = false;
  private section = Section.None;
  private field = Field.None;
  private text_ = '';
  private dataName: string | undefined;

  constructor(private readonly eventIdOnly: boolean) {}

  reset(): void {
    this.stop = false;
    this.fields = emptyFields();
    this.depth = 0;
    this.rootIsEvent = false;
    this.section = Section.None;
    this.field = Field.None;
  }

  start(name: string): void {
    const depth = ++this.depth;
    if (depth === 1) this.rootIsEvent = name === 'Event';
    else if (depth === 2 && this.rootIsEvent) {
      this.section =
        name === 'System'
          ? Section.System
          : name === 'EventData'
            ? Section.EventData
            : Section.None;
    } else if (depth === 3) {
      this.field =
        this.section === Section.System
          ? (SYSTEM_FIELDS[name] ?? Field.None)
          : this.section === Section.EventData && name === 'Data'
            ? Field.Data
            : Field.None;
      if (this.eventIdOnly && this.field !== Field.EventId) this.field = Field.None;
      this.text_ = '';
      this.dataName = undefined;
    }
  }

  end(): void {
    const depth = this.depth--;
    if (depth === 3) this.commit();
    else if (depth === 2) {
      if (this.eventIdOnly && this.section === Section.System) this.stop = true;
      this.section = Section.None;
    }
  }

  wantsAttr(name: string): boolean {
    if (this.depth !== 3) return false;
    return (
      (this.field === Field.Data && name === 'Name') ||
      (this.field === Field.TimeCreated && name === 'SystemTime')
    );
  }

  attr(_name: string, value: string): void {
    if (this.field === Field.Data) this.dataName = value;
    else this.fields.systemTime = value;
  }

  wantsText(): boolean {
    return this.depth === 3 && this.field !== Field.None && this.field !== Field.TimeCreated;
  }

  text(value: string): void {
    this.text_ += value;
  }

  private commit(): void {
    const f = this.fields;
    switch (this.field) {
      case Field.EventId:
        f.eventId = this.text_;
        if (this.eventIdOnly) this.stop = true;
        break;
      case Field.EventRecordId:
        f.eventRecordId = this.text_;
        break;
      case Field.Computer:
        f.computer = this.text_;
        break;
      case Field.Channel:
        f.channel = this.text_;
        break;
      case Field.Data:
        if (this.dataName !== undefined) f.data[this.dataName] = this.text_;
        break;
    }
    this.field = Field.None;
  }
}

function emptyFields(): RecordFields {
  return {
    eventId: undefined,
    eventRecordId: undefined,
    computer: undefined,
    systemTime: undefined,
    channel: undefined,
    data: {},
  };
}

/** A decimal event id as the XML path reads it (trimmed); undefined when not plain digits. */
export function numericId(text: string | undefined): number | undefined {
  const t = text?.trim();
  return t !== undefined && /^\d{1,15}$/.test(t) ? Number(t) : undefined;
}
