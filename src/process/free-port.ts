import { createServer } from 'node:net';

/** Ports this process has handed out (a few per test file or bench run). */
const handedOut = new Set<number>();

/**
 * A port nothing listens on right now, for a process that binds it later. Taken from below the
 * OS's ephemeral range (as freePortBlock's are): a port the OS handed out for a listen on port 0
 * can meanwhile become the local port of some outgoing connection, and the later bind then fails
 * with EADDRINUSE (seen in the test suite, where several processes connect at once).
 */
export function freePort(): Promise<number> {
  return freePortBlock([0]);
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
    // Nothing listens on a port this process handed out until its user binds it: never hand it out twice.
    if (offsets.some((o) => handedOut.has(base + o))) continue;
    const free = await Promise.all(offsets.map((o) => canListen(base + o)));
    if (free.every(Boolean) && !offsets.some((o) => handedOut.has(base + o))) {
      for (const o of offsets) handedOut.add(base + o);
      return base;
    }
  }
  throw new Error(`no block of free ports for offsets ${offsets.join(',')} between ${low} and ${high}`);
}
