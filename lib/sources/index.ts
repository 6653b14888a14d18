/**
 * The shapes of log the engine reads, one file each: adding a shape is a new file and one line
 * here. `scan --source` and the functions' SOURCE take a shape's name or a family.
 */
import type { SourcePlugin } from '../engine/input.ts';
import type { SourceName } from '../event/types.ts';
import { cwlFirehose } from './cwl-firehose.ts';
import { evtx } from './evtx.ts';
import { falconFdr, falconLogscale } from './falcon.ts';
import { nxlog } from './nxlog.ts';
import { sysmonXml } from './sysmon-xml.ts';
import { winlogbeat } from './winlogbeat.ts';

export const SOURCE_PLUGINS: readonly SourcePlugin[] = Object.freeze([
  sysmonXml,
  evtx,
  nxlog,
  winlogbeat,
  cwlFirehose,
  falconFdr,
  falconLogscale,
]);

export const SOURCE_FAMILIES: readonly SourceName[] = ['sysmon', 'falcon'];

/** Every name `--source` / SOURCE accepts: `auto`, the families, and each shape. */
export function sourceNames(): string[] {
  return ['auto', ...SOURCE_FAMILIES, ...SOURCE_PLUGINS.map((p) => p.name)];
}

export const isSourceName = (name: string): boolean => sourceNames().includes(name);

/** The family a shape or family name reads (undefined for `auto` and unknown names). */
export function familyOf(name: string): SourceName | undefined {
  if ((SOURCE_FAMILIES as readonly string[]).includes(name)) return name as SourceName;
  return SOURCE_PLUGINS.find((p) => p.name === name)?.family;
}

export { cwlFirehose, evtx, falconFdr, falconLogscale, nxlog, sysmonXml, winlogbeat };
