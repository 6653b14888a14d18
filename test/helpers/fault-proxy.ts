/**
 * A fault-injecting HTTP proxy on loopback, put between the real AWS SDK clients and an emulator
 * (fauxqs, dynalite): every request is forwarded as it came, unless a rule picks it for a fault.
 * Faults are what a network and a service do to a caller (resets, 5xx, throttling, lost
 * responses, latency, stalls, partial PublishBatch failures), provoked on the wire so the code
 * under test meets them exactly as it would on AWS. Used instead of mocking SDK clients.
 */
import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What a rule sees of a request. */
export interface ProxiedRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** DynamoDB's operation (`X-Amz-Target: DynamoDB_20120810.<op>`), when present. */
  target: string | undefined;
  /** The query protocol's `Action` (SNS), when present. */
  action: string | undefined;
}

export type Fault =
  /** Answers with this status and body; the emulator never sees the request. */
  | { kind: 'status'; status: number; body: string; contentType?: string }
  /** Closes the connection before anything is forwarded or answered. */
  | { kind: 'reset' }
  /** Forwards the request (the emulator acts on it), then closes the connection unanswered. */
  | { kind: 'lose-response' }
  /** Forwards, sends the status, headers and half the body, then closes the connection. */
  | { kind: 'reset-mid-body' }
  /** Forwards after `ms`. */
  | { kind: 'delay'; ms: number }
  /** Never answers (until the proxy stops). */
  | { kind: 'stall' }
  /** Forwards once `until()` holds (checked every 10 ms), or after `maxMs` regardless. */
  | { kind: 'hold'; until: () => boolean; maxMs: number }
  /** Forwards `request(body)` and answers with `response(answer)`; either may be left out. */
  | {
      kind: 'rewrite';
      request?: (body: Buffer) => Buffer | { answer: Buffer };
      response?: (body: Buffer) => Buffer;
    };

export interface FaultRule {
  match: (req: ProxiedRequest) => boolean;
  fault: Fault | ((req: ProxiedRequest) => Fault | undefined);
  /** How many matching requests get the fault (default 1; Infinity for all). */
  times?: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: give it to the SDK as the endpoint. */
  endpoint: string;
  /** Faults applied, in order, as `<operation>:<fault kind>`. */
  readonly injected: string[];
  /** Every request seen, as its operation (`PublishBatch`, `UpdateItem`, `GET /bucket/key`). */
  readonly seen: string[];
  add(rule: FaultRule): void;
  clear(): void;
  stop(): Promise<void>;
}

export const operationOf = (r: ProxiedRequest): string =>
  r.target ?? r.action ?? `${r.method} ${r.url.split('?')[0]}`;

/** DynamoDB requests of one operation (`UpdateItem`, `BatchGetItem`...). */
export const dynamo =
  (operation: string, also: (r: ProxiedRequest) => boolean = () => true) =>
  (r: ProxiedRequest): boolean =>
    r.target === operation && also(r);

/** SNS requests of one action (`PublishBatch`...). */
export const sns =
  (action: string) =>
  (r: ProxiedRequest): boolean =>
    r.action === action;

/** DynamoDB's throttling answer (the SDK retries it, then throws ThrottlingException). */
export const DYNAMO_THROTTLE: Fault = {
  kind: 'status',
  status: 400,
  contentType: 'application/x-amz-json-1.0',
  body: JSON.stringify({
    __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
    message: 'Rate of requests exceeds the allowed throughput.',
  }),
};

/** S3's 503 SlowDown (the SDK retries it, then throws). */
export const S3_SLOW_DOWN: Fault = {
  kind: 'status',
  status: 503,
  contentType: 'application/xml',
  body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>fault</RequestId></Error>',
};

/** A 500 in the query protocol's XML (SNS). */
export const SNS_INTERNAL_ERROR: Fault = {
  kind: 'status',
  status: 500,
  contentType: 'text/xml',
  body: '<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>injected</Message></Error><RequestId>fault</RequestId></ErrorResponse>',
};

/**
 * PublishBatch with the entries `reject` picks (by their position in the request, 1-based)
 * taken out before the emulator sees them, and reported back as failed with `code`. The other
 * entries are published.
 */
export function rejectPublishEntries(
  reject: (entries: Array<{ index: number; id: string; message: string }>) => number[],
  code = 'InternalError',
  senderFault = false,
): Fault {
  const failed: string[] = [];
  return {
    kind: 'rewrite',
    request(body) {
      failed.length = 0;
      const form = new URLSearchParams(body.toString('utf8'));
      const entries = new Map<number, Array<[string, string]>>();
      const rest: Array<[string, string]> = [];
      for (const [name, value] of form) {
        const m = /^PublishBatchRequestEntries\.member\.(\d+)\.(.+)$/.exec(name);
        if (!m) {
          rest.push([name, value]);
          continue;
        }
        const index = Number(m[1]);
        const list = entries.get(index) ?? [];
        list.push([m[2]!, value]);
        entries.set(index, list);
      }
      const described = [...entries].map(([index, fields]) => ({
        index,
        id: fields.find(([n]) => n === 'Id')?.[1] ?? '',
        message: fields.find(([n]) => n === 'Message')?.[1] ?? '',
      }));
      const chosen = new Set(reject(described));
      const kept = described.filter((e) => !chosen.has(e.index));
      for (const e of described) if (chosen.has(e.index)) failed.push(e.id);
      const out = new URLSearchParams(rest);
      kept.forEach((e, i) => {
        for (const [n, v] of entries.get(e.index)!) {
          out.append(`PublishBatchRequestEntries.member.${i + 1}.${n}`, v);
        }
      });
      if (kept.length === 0) {
        return {
          answer: Buffer.from(
            `<PublishBatchResponse><PublishBatchResult><Successful></Successful><Failed>${failedXml(failed, code, senderFault)}</Failed></PublishBatchResult><ResponseMetadata><RequestId>fault</RequestId></ResponseMetadata></PublishBatchResponse>`,
          ),
        };
      }
      return Buffer.from(out.toString());
    },
    response(body) {
      const xml = body.toString('utf8');
      const at = xml.indexOf('</Failed>');
      const members = failedXml(failed, code, senderFault);
      const patched =
        at >= 0
          ? `${xml.slice(0, at)}${members}${xml.slice(at)}`
          : xml.replace(
              '</PublishBatchResult>',
              `<Failed>${members}</Failed></PublishBatchResult>`,
            );
      return Buffer.from(patched);
    },
  };
}

const failedXml = (ids: string[], code: string, senderFault: boolean): string =>
  ids
    .map(
      (id) =>
        `<member><Id>${id}</Id><Code>${code}</Code><Message>injected</Message><SenderFault>${senderFault}</SenderFault></member>`,
    )
    .join('');

function describeRequest(req: IncomingMessage, body: Buffer): ProxiedRequest {
  const target = req.headers['x-amz-target'];
  let action: string | undefined;
  const type = String(req.headers['content-type'] ?? '');
  if (type.startsWith('application/x-www-form-urlencoded')) {
    action = new URLSearchParams(body.toString('utf8')).get('Action') ?? undefined;
  }
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers: req.headers,
    body,
    target: typeof target === 'string' ? target.split('.').pop() : undefined,
    action,
  };
}

/** Starts a proxy on a random loopback port in front of `upstream` (`http://127.0.0.1:port`). */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const rules: Array<FaultRule & { left: number }> = [];
  const injected: string[] = [];
  const seen: string[] = [];
  const sockets = new Set<Socket>();

  const pick = (r: ProxiedRequest): Fault | undefined => {
    for (const rule of rules) {
      if (rule.left <= 0 || !rule.match(r)) continue;
      const fault = typeof rule.fault === 'function' ? rule.fault(r) : rule.fault;
      if (fault === undefined) continue;
      rule.left--;
      injected.push(`${operationOf(r)}:${fault.kind}`);
      return fault;
    }
    return undefined;
  };

  const forward = (
    r: ProxiedRequest,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { ...r.headers, 'content-length': String(body.length) };
      const up = request(
        {
          host: target.hostname,
          port: target.port,
          method: r.method,
          path: r.url,
          headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 502,
              headers: res.headers,
              body: Buffer.concat(chunks),
            }),
          );
          res.on('error', reject);
        },
      );
      up.on('error', reject);
      up.end(body);
    });

  const answer = (
    res: ServerResponse,
    out: { status: number; headers: IncomingHttpHeaders; body: Buffer },
  ) => {
    const headers = { ...out.headers, 'content-length': String(out.body.length) };
    delete headers['transfer-encoding'];
    res.writeHead(out.status, headers);
    res.end(out.body);
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const r = describeRequest(req, Buffer.concat(chunks));
    seen.push(operationOf(r));
    const fault = pick(r);
    try {
      if (fault === undefined) return answer(res, await forward(r, r.body));
      switch (fault.kind) {
        case 'status':
          res.writeHead(fault.status, {
            'content-type': fault.contentType ?? 'text/plain',
            'x-amzn-requestid': 'fault',
          });
          res.end(fault.body);
          return;
        case 'reset':
          req.socket.destroy();
          return;
        case 'lose-response':
          await forward(r, r.body);
          req.socket.destroy();
          return;
        case 'reset-mid-body': {
          const out = await forward(r, r.body);
          const headers = { ...out.headers, 'content-length': String(out.body.length) };
          delete headers['transfer-encoding'];
          res.writeHead(out.status, headers);
          res.write(out.body.subarray(0, Math.floor(out.body.length / 2)));
          setTimeout(() => req.socket.destroy(), 10);
          return;
        }
        case 'delay':
          await new Promise((resolve) => setTimeout(resolve, fault.ms));
          return answer(res, await forward(r, r.body));
        case 'stall':
          return;
        case 'hold': {
          const give = Date.now() + fault.maxMs;
          while (!fault.until() && Date.now() < give) {
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          return answer(res, await forward(r, r.body));
        }
        case 'rewrite': {
          const rewritten = fault.request ? fault.request(r.body) : r.body;
          if (!Buffer.isBuffer(rewritten)) {
            return answer(res, {
              status: 200,
              headers: { 'content-type': 'text/xml' },
              body: rewritten.answer,
            });
          }
          const out = await forward(r, rewritten);
          return answer(res, {
            ...out,
            body: fault.response ? fault.response(out.body) : out.body,
          });
        }
      }
    } catch (err) {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(err));
    }
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    injected,
    seen,
    add: (rule) => rules.push({ ...rule, left: rule.times ?? 1 }),
    clear: () => {
      rules.length = 0;
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
