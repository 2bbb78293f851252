import { createServer, connect, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'blackhole' | 'down';

export interface TcpProxy {
  address: string;
  /**
   * `pass` forwards; `blackhole` keeps every connection open and forwards nothing (a server that
   * hangs: SIGSTOP, a stuck visibility store, a dropped network); `down` resets every connection
   * (a server that is gone).
   */
  mode: ProxyMode;
  /** Switch to `blackhole` as soon as a client sends bytes containing this string. */
  blackholeOn: string | undefined;
  close(): Promise<void>;
}

/** A TCP proxy in front of Temporal whose behaviour a test switches. */
export async function startProxy(upstream: string): Promise<TcpProxy> {
  const at = upstream.lastIndexOf(':');
  const host = upstream.slice(0, at);
  const port = Number(upstream.slice(at + 1));
  const sockets = new Set<Socket>();
  let mode: ProxyMode = 'pass';
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (mode === 'down') {
      client.resetAndDestroy();
      return;
    }
    const up = connect(port, host);
    sockets.add(up);
    up.on('error', () => undefined);
    up.on('close', () => {
      sockets.delete(up);
      if (mode === 'pass') client.destroy();
    });
    client.on('close', () => {
      if (mode === 'pass') up.destroy();
    });
    client.on('data', (chunk: Buffer) => {
      if (mode === 'pass' && proxy.blackholeOn && chunk.includes(proxy.blackholeOn)) mode = 'blackhole';
      if (mode === 'pass') up.write(chunk);
    });
    up.on('data', (chunk: Buffer) => {
      if (mode === 'pass') client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: TcpProxy = {
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    get mode() {
      return mode;
    },
    set mode(next: ProxyMode) {
      mode = next;
      if (next === 'down') for (const s of sockets) s.resetAndDestroy();
    },
    blackholeOn: undefined,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
