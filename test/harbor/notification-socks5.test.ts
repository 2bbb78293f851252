import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { postOnce } from '../../src/jobs/harbor/http-post.js';
import { startRawReceiver, type RawReceiver } from '../helpers/raw-receiver.js';

/**
 * Harbor's notification client takes its proxy from the environment with Go's
 * http.ProxyFromEnvironment, whose transport speaks "http", "https" and "socks5" proxies
 * (net/http Transport.Proxy: "the proxy type is determined by the URL scheme"). An installer's
 * HTTPS_PROXY=socks5://… therefore carries Harbor's webhooks. A minimal SOCKS5 server (no auth,
 * CONNECT) that routes the receiver's unresolvable name to a loopback receiver stands in for it.
 */
async function startSocks5(routes: Record<string, string>): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    let stage = 0;
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (stage === 0 && buf.length >= 2 && buf.length >= 2 + buf[1]!) {
        buf = buf.subarray(2 + buf[1]!);
        client.write(Buffer.from([5, 0]));
        stage = 1;
      }
      if (stage === 1 && buf.length >= 5) {
        const atyp = buf[3]!;
        let host: string;
        let end: number;
        if (atyp === 3) {
          const len = buf[4]!;
          if (buf.length < 5 + len + 2) return;
          host = buf.subarray(5, 5 + len).toString();
          end = 5 + len;
        } else if (atyp === 1) {
          if (buf.length < 10) return;
          host = [...buf.subarray(4, 8)].join('.');
          end = 8;
        } else return client.destroy();
        const port = buf.readUInt16BE(end);
        seen.push(`${host}:${port}`);
        const target = routes[`${host}:${port}`];
        client.off('data', onData);
        if (!target) return client.end(Buffer.from([5, 4, 0, 1, 0, 0, 0, 0, 0, 0]));
        const [th, tp] = target.split(':');
        const upstream = connect(Number(tp), th!, () => {
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
          const rest = buf.subarray(end + 2);
          if (rest.length) upstream.write(rest);
          client.pipe(upstream);
          upstream.pipe(client);
        });
        sockets.add(upstream);
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        stage = 2;
      }
    };
    client.on('data', onData);
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `socks5://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('WEBHOOK / SLACK posts through a SOCKS5 proxy from the environment, as Go’s transport sends them', () => {
  let raw: RawReceiver;
  let socks: Awaited<ReturnType<typeof startSocks5>>;
  before(async () => {
    raw = await startRawReceiver();
    socks = await startSocks5({ 'hooks.example.invalid:80': `127.0.0.1:${new URL(raw.url('x')).port}` });
  });
  after(async () => {
    await socks.close();
    await raw.close();
  });

  it('HTTP_PROXY=socks5://… delivers the POST through the proxy, which resolves the name (it was refused as unsupported)', async () => {
    const result = await postOnce(
      'http://hooks.example.invalid/socks',
      '{"type":"PUSH_ARTIFACT"}',
      { 'Content-Type': ['application/json'] },
      {
        timeoutMs: 5_000,
        proxies: { httpProxy: socks.url },
      },
    );
    assert.equal(result.status, 200);
    assert.deepEqual(socks.seen, ['hooks.example.invalid:80']);
    assert.equal(raw.requests('socks')[0]?.body, '{"type":"PUSH_ARTIFACT"}');
  });

  it('a CONNECT the proxy refuses fails the post with its reason', async () => {
    await assert.rejects(
      postOnce('http://nowhere.example.invalid/x', '{}', {}, { timeoutMs: 5_000, proxies: { httpProxy: socks.url } }),
      /SOCKS5 proxy 127\.0\.0\.1:\d+ answered "host unreachable" to CONNECT nowhere\.example\.invalid:80/,
    );
  });
});
