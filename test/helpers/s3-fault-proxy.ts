/**
 * A fault-injecting HTTP proxy on loopback, in front of the emulator: requests pass through
 * unchanged unless a fault matches, and then the proxy answers as the service would under
 * load (S3's 503 SlowDown, say). The SDK sees a real HTTP exchange and runs its real retries.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Fault {
  /** Which requests this fault answers (method and path of the proxied request). */
  match: (req: { method: string; path: string }) => boolean;
  /** How many matching requests it answers; then they pass again. */
  times: number;
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export interface FaultProxy {
  endpoint: string;
  /** Every request seen, `METHOD /path`, faulted or not. */
  seen: string[];
  /** The access key id each request was signed with, by position in `seen`. */
  signedBy: Array<string | undefined>;
  /** Requests a fault answered. */
  injected: string[];
  add(fault: Fault): void;
  clear(): void;
  stop(): Promise<void>;
}

/** S3's answer when it asks the caller to slow down (retryable, HTTP 503). */
export const S3_SLOW_DOWN: Pick<Fault, 'status' | 'body' | 'headers'> = {
  status: 503,
  headers: { 'content-type': 'application/xml' },
  body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
};

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const faults: Fault[] = [];
  const seen: string[] = [];
  const signedBy: Array<string | undefined> = [];
  const injected: string[] = [];
  const forward = (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    const out = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', (err) => res.destroy(err));
    req.pipe(out);
  };
  const server: Server = createServer((req, res) => {
    const call = {
      method: req.method ?? 'GET',
      path: decodeURIComponent((req.url ?? '').split('?')[0] ?? ''),
    };
    seen.push(`${call.method} ${call.path}`);
    signedBy.push(/Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1]);
    const fault = faults.find((f) => f.times > 0 && f.match(call));
    if (fault === undefined) {
      forward(req, res);
      return;
    }
    fault.times--;
    injected.push(`${call.method} ${call.path}`);
    // Drain the body first: the SDK is still sending it.
    req.resume();
    req.on('end', () => {
      res.writeHead(fault.status, fault.headers ?? {});
      res.end(fault.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    signedBy,
    injected,
    add: (fault) => faults.push(fault),
    clear: () => {
      faults.length = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
