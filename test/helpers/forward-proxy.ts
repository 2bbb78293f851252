import { once } from 'node:events';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface ForwardProxy {
  url: string;
  /** What reached the proxy: `POST http://host/path` or `CONNECT host:443`, with its headers. */
  seen: { line: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/**
 * A forward HTTP proxy, as squid is one: absolute-URL requests are made on the client's behalf,
 * CONNECT opens a tunnel. Host names are reached through `routes` (`name:port` → `127.0.0.1:port`),
 * so a name that resolves nowhere is reachable through the proxy only.
 */
export async function startForwardProxy(routes: Record<string, string>): Promise<ForwardProxy> {
  const seen: ForwardProxy['seen'] = [];
  const route = (authority: string) => {
    const to = routes[authority];
    if (!to) return undefined;
    const [host, port] = to.split(':');
    return { host: host!, port: Number(port) };
  };
  const server: Server = createServer((req, res) => {
    seen.push({ line: `${req.method} ${req.url}`, headers: req.headers });
    const target = new URL(req.url ?? '/');
    const to = route(`${target.hostname}:${target.port || '80'}`);
    if (!to) {
      res.writeHead(502).end('no route');
      return;
    }
    const upstream = request({ ...to, method: req.method, path: `${target.pathname}${target.search}`, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end('upstream failed'));
    req.pipe(upstream);
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    seen.push({ line: `CONNECT ${req.url}`, headers: req.headers });
    const to = route(req.url ?? '');
    if (!to) {
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      return;
    }
    const upstream = connect(to.port, to.host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const drop = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', drop);
    client.on('error', drop);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
