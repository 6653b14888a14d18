import type { BinaryReader, BinaryReaderOptions, BinarySourcePlugin } from '../engine/input.ts';
import type { SkipReason } from '../engine/types.ts';
import { createEvtxParser, type EvtxRecord, type EvtxSkipReason } from './evtx/index.ts';
import { createSysmonDispatch, type ParsedSysmon, SYSMON_EVENTS } from './sysmon-events.ts';
import { SYSMON_CHANNEL } from './sysmon-json.ts';

/** How the engine counts each kind of EVTX damage (the message keeps the parser's detail). */
const SKIP_REASONS: Record<EvtxSkipReason, SkipReason> = {
  'file-header': 'damaged-header',
  'chunk-magic': 'damaged-chunk',
  'chunk-header-checksum': 'damaged-chunk',
  'chunk-data-checksum': 'damaged-chunk',
  'trailing-bytes': 'damaged-chunk',
  'record-magic': 'damaged-record',
  'record-size': 'damaged-record',
  binxml: 'damaged-record',
  'no-event-id': 'damaged-record',
  'record-truncated': 'truncated-record',
};

const toSysmon = (rec: EvtxRecord): ParsedSysmon => ({
  eventId: String(rec.eventId),
  computer: rec.computer,
  systemTime: rec.systemTime,
  data: rec.data,
});

/**
 * The event log file itself (`Microsoft-Windows-Sysmon%4Operational.evtx`, as `wevtutil epl`,
 * KAPE or Velociraptor collect it): read chunk by chunk, only the records whose event id the rule
 * reads rendered, each handed on as the XML reader hands its events.
 */
function createEvtxReader(o: BinaryReaderOptions): BinaryReader {
  const dispatch = createSysmonDispatch(o);
  const parser = createEvtxParser({
    wantEvent: (id) => Object.hasOwn(SYSMON_EVENTS, id),
    onRecord: (rec) => {
      o.read(1, rec.offset);
      o.parsed();
      if (rec.channel !== undefined && rec.channel !== SYSMON_CHANNEL) return;
      dispatch(toSysmon(rec), rec.recordId, rec.offset, () => '');
    },
    onSkip: (skip) => {
      const where = `chunk ${skip.chunk}`;
      o.skip(
        SKIP_REASONS[skip.reason],
        `${where}: ${skip.message}`,
        skip.record ?? 0,
        skip.offset,
        '',
      );
    },
  });
  return {
    feed: (chunk) => parser.feed(chunk),
    end: () => {
      const summary = parser.end();
      o.read(summary.filtered);
    },
  };
}

export const evtx: BinarySourcePlugin = {
  name: 'evtx',
  family: 'sysmon',
  summary:
    'Windows event log files (.evtx: wevtutil epl, KAPE, Velociraptor), read chunk by chunk; damaged chunks and records are skipped and counted',
  format: 'binary',
  sniff: (head) => (head.startsWith('ElfFile\0') ? 1 : head.startsWith('ElfChnk\0') ? 0.9 : 0),
  createReader: createEvtxReader,
};
