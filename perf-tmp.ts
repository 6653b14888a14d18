import { createReadStream } from 'node:fs';
import { scanObject, splitRecords } from './lib/engine/index.ts';
import { defaultRule } from './lib/rule/index.ts';

const [f, which] = [process.argv[2]!, process.argv[3] ?? 'all'];
const rule = defaultRule();
for (const p of which === 'all' ? ['bound', 'fast', 'full'] : [which]) {
  const t = performance.now();
  if (p === 'bound') {
    const r = await splitRecords(createReadStream(f, { highWaterMark: 1 << 20 }));
    console.log(p, r.records, ((performance.now() - t) / 1000).toFixed(2));
  } else {
    const r = await scanObject(createReadStream(f, { highWaterMark: 1 << 20 }), {
      origin: f,
      rule,
      mode: p as 'fast',
    });
    console.log(
      p,
      r.stats.recordsRead,
      r.stats.recordsParsed,
      r.groups.length,
      r.stats.matched,
      ((performance.now() - t) / 1000).toFixed(2),
      JSON.stringify(r.stats.skipped),
    );
  }
}
console.log('rss MiB', (process.resourceUsage().maxRSS / 1024).toFixed(0));
