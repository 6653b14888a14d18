/**
 * A small AWS service on loopback for the services no emulator here covers (Secrets Manager,
 * EventBridge, Security Hub). It speaks their wire protocols for real: the SDK clients sign,
 * serialize, send over HTTP and parse the answers (errors included) exactly as against AWS.
 *
 * - JSON 1.1 (Secrets Manager, EventBridge): `POST /`, the operation in `X-Amz-Target`
 *   (`secretsmanager.GetSecretValue`, `AWSEvents.PutEvents`), errors as `{"__type": code}`.
 * - REST-JSON (Security Hub): the operation is the method and path (`POST /findings/import`).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProtocolRequest {
  /** `X-Amz-Target` for JSON 1.1, `METHOD /path` for REST-JSON. */
  operation: string;
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

/** An answer: a JSON body (200), or an AWS error with its HTTP status. */
export type ProtocolAnswer =
  | { body: Record<string, unknown> }
  | { error: { code: string; message: string; status: number } };

export type OperationHandler = (request: ProtocolRequest) => ProtocolAnswer;

export interface ProtocolServer {
  endpoint: string;
  requests: ProtocolRequest[];
  /** Replaces or adds the handler of one operation. */
  on(operation: string, handler: OperationHandler): void;
  stop(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

export async function startProtocolServer(
  handlers: Record<string, OperationHandler> = {},
): Promise<ProtocolServer> {
  const routes = new Map(Object.entries(handlers));
  const requests: ProtocolRequest[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const target = req.headers['x-amz-target'];
      const operation =
        typeof target === 'string' ? target : `${req.method} ${(req.url ?? '').split('?')[0]}`;
      const request = { operation, body: await readJson(req), headers: req.headers };
      requests.push(request);
      const handler = routes.get(operation);
      const answer: ProtocolAnswer = handler
        ? handler(request)
        : { error: { code: 'UnknownOperationException', message: operation, status: 400 } };
      const json = typeof target === 'string' ? 'application/x-amz-json-1.1' : 'application/json';
      if ('error' in answer) {
        res.writeHead(answer.error.status, {
          'content-type': json,
          'x-amzn-errortype': answer.error.code,
        });
        res.end(JSON.stringify({ __type: answer.error.code, message: answer.error.message }));
        return;
      }
      res.writeHead(200, { 'content-type': json });
      res.end(JSON.stringify(answer.body));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    on: (operation, handler) => routes.set(operation, handler),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
