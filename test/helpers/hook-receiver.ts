import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HookEvent } from '../../src/shared/hook-event.js';

export interface HookReceiver {
  /** The URL to give as `status_hook`; each job gets its own path. */
  url(path: string): string;
  /** Events accepted (answered 200) on a path, in arrival order. */
  accepted(path: string): HookEvent[];
  /** Requests refused on a path so far. */
  refused(path: string): number;
  /** While true, every request is answered 503. */
  setDown(down: boolean): void;
  /** While true, requests get no answer at all (until the receiver is closed). */
  setHanging(hanging: boolean): void;
  /** Requests that arrived while hanging. */
  hung(path: string): number;
  /** Answer each request only after this long (a slow receiver). */
  setDelayMs(ms: number): void;
  /** Every request that got an answer on a path: its headers, raw body and the status it got. */
  requests(path: string): ReceivedRequest[];
  close(): Promise<void>;
}

export interface ReceivedRequest {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  answered: number;
}

/** A real HTTP receiver of status hooks on loopback, standing in for Harbor core. */
export async function startHookReceiver(): Promise<HookReceiver> {
  const accepted = new Map<string, HookEvent[]>();
  const refused = new Map<string, number>();
  let down = false;
  let hanging = false;
  let delayMs = 0;
  const hung = new Map<string, number>();
  const requests = new Map<string, ReceivedRequest[]>();
  const note = (path: string, request: ReceivedRequest) => requests.set(path, [...(requests.get(path) ?? []), request]);
  const server: Server = createServer((req, res) => {
    if (hanging) {
      hung.set(req.url ?? '/', (hung.get(req.url ?? '/') ?? 0) + 1);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      if (down || req.method !== 'POST') {
        refused.set(path, (refused.get(path) ?? 0) + 1);
        note(path, { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered: 503 });
        res.writeHead(503).end('core is not ready');
        return;
      }
      setTimeout(() => {
        const list = accepted.get(path) ?? [];
        list.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as HookEvent);
        accepted.set(path, list);
        note(path, { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered: 200 });
        res.writeHead(200).end();
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}/${path}`,
    accepted: (path) => [...(accepted.get(`/${path}`) ?? [])],
    refused: (path) => refused.get(`/${path}`) ?? 0,
    setDown: (value) => {
      down = value;
    },
    setHanging: (value) => {
      hanging = value;
    },
    hung: (path) => hung.get(`/${path}`) ?? 0,
    setDelayMs: (ms) => {
      delayMs = ms;
    },
    requests: (path) => [...(requests.get(`/${path}`) ?? [])],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
