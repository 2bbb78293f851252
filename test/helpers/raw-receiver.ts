import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RawRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  /** When the answer went out. */
  answeredAt?: number;
}

/** A loopback HTTP receiver that keeps every request as it came, and fails on demand. */
export interface RawReceiver {
  url(path: string): string;
  requests(path: string): RawRequest[];
  /** The next `count` requests are answered `status`. */
  failNext(count: number, status: number): void;
  /** Every request is answered `status` until called with undefined. */
  failAlways(status: number | undefined): void;
  /** Each answer waits this long. */
  setDelayMs(ms: number): void;
  close(): Promise<void>;
}

export async function startRawReceiver(): Promise<RawReceiver> {
  const seen: RawRequest[] = [];
  let failures = 0;
  let failStatus = 500;
  let always: number | undefined;
  let delayMs = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry: RawRequest = {
        method: req.method ?? '',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      seen.push(entry);
      let status = 200;
      if (always !== undefined) status = always;
      else if (failures > 0) {
        failures -= 1;
        status = failStatus;
      }
      setTimeout(() => {
        entry.answeredAt = Date.now();
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : `refused with ${status}`);
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}/${path}`,
    requests: (path) => seen.filter((r) => r.path === `/${path}`),
    failNext(count, status) {
      failures = count;
      failStatus = status;
    },
    failAlways(status) {
      always = status;
    },
    setDelayMs(ms) {
      delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
