import { createServer } from 'node:net';

/** A port nothing listens on right now, from the OS. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A base port such that base + each offset is free right now: for a server whose services take
 * ports at fixed offsets from one another. Bases come from below the OS's ephemeral range, so
 * ports it hands out meanwhile do not collide.
 */
export async function freePortBlock(offsets: readonly number[], low = 20_000, high = 32_000): Promise<number> {
  const span = Math.max(...offsets);
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = low + Math.floor(Math.random() * (high - low - span));
    const free = await Promise.all(offsets.map((o) => canListen(base + o)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no block of free ports for offsets ${offsets.join(',')} between ${low} and ${high}`);
}
