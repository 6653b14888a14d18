import { createReadStream } from 'node:fs';
import { ObjectAnalyzer } from './lib/engine/analyzer.ts';
import { scanObject } from './lib/engine/index.ts';
import { defaultRule } from './lib/rule/index.ts';
const orig = ObjectAnalyzer.prototype.finish;
ObjectAnalyzer.prototype.finish = async function (this: any, s?: any) {
  let lazy = 0, lazyBytes = 0;
  for (const c of this.processes.values()) if (c.lazy) { lazy += c.lazy.length; }
  console.log('processes', this.processes.size, 'lazy', lazy, 'pending', this.pending.length - this.pendingHead, 'interesting', this.interesting.size, 'cands', this.candidates.length, 'heapMiB', (process.memoryUsage().heapUsed/1048576).toFixed(0), 'ext', (process.memoryUsage().external/1048576).toFixed(0), 'ab', (process.memoryUsage().arrayBuffers/1048576).toFixed(0));
  return orig.call(this, s);
};
const f = process.argv[2]!;
const r = await scanObject(createReadStream(f), { origin: f, rule: defaultRule() });
console.log(r.stats.skipped, 'rss', (process.resourceUsage().maxRSS/1024).toFixed(0));
