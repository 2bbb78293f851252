import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HookEvent } from '../../src/shared/hook-event.js';

/** A loopback status-hook receiver whose test answers each event itself (`res` may be held). */
export interface EventReceiver {
  url: string;
  close(): Promise<void>;
}

export async function startEventReceiver(answer: (event: HookEvent, res: ServerResponse) => void): Promise<EventReceiver> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(JSON.parse(Buffer.concat(chunks).toString('utf8')) as HookEvent, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
