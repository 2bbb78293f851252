import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A proxy in front of a registry that counts deletes in flight, fails chosen digests, slows
 * deletes or demands credentials: what the tests and the benchmark measure retention with.
 */
export interface RegistryProxy {
  url: string;
  /** The most deletes seen in flight at once, and every delete answered (digest, status). */
  readonly peakDeletesInFlight: number;
  readonly deletes: { digest: string; status: number; at: number }[];
  /** Requests other than deletes forwarded since the last reset. */
  readonly reads: number;
  /** Digests whose deletes answer `failStatus` (500) until removed. */
  failing: Set<string>;
  failStatus: number;
  /** Tokens handed out by the token endpoint (bearer mode). */
  readonly tokensIssued: number;
  /** Requests whose path starts with one of these answer 500 (a repository the registry cannot read). */
  failingPaths: Set<string>;
  /** Every delete waits this long before it is forwarded. */
  deleteDelayMs: number;
  /** Every delete the registry carried out waits this long before its answer goes back. */
  deleteAnswerDelayMs: number;
  /** Every other request waits this long before it is forwarded. */
  readDelayMs: number;
  /** Awaited before a delete is forwarded: something that happens to the registry meanwhile (a push). */
  beforeDelete: ((digest: string) => Promise<void>) | undefined;
  /**
   * The next `remaining` requests (of `method`, or any) answer `status` with `retryAfter` as their
   * Retry-After header: a registry pushing back.
   */
  throttle: { remaining: number; status: number; retryAfter?: string; method?: string };
  /** When each throttled answer went out, and when each request was forwarded, since the last reset. */
  readonly throttled: { method: string; at: number }[];
  readonly forwarded: { method: string; at: number }[];
  /** Every request it saw carried these credentials (when it demands them). */
  readonly sawCredentials: boolean;
  /** Forget the deletes seen so far and the peak. */
  resetCounts(): void;
  close(): Promise<void>;
}

/**
 * A proxy in front of a registry; with `basicAuth` it answers 401 to requests without those
 * credentials, and with `bearer` as well it plays the distribution spec's token service: a 401
 * names its `/token` realm, which hands a token for those credentials, which requests then carry.
 */
export async function startRegistryProxy(
  target: string,
  options: { basicAuth?: { username: string; password: string }; bearer?: boolean } = {},
): Promise<RegistryProxy> {
  const token = `token-${Math.random().toString(36).slice(2)}`;
  let tokensIssued = 0;
  let inFlight = 0;
  let reads = 0;
  let sawCredentials = options.basicAuth !== undefined;
  const expected = options.basicAuth
    ? `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}`
    : undefined;
  const proxy: RegistryProxy = {
    url: '',
    peakDeletesInFlight: 0,
    deletes: [],
    failing: new Set(),
    failStatus: 500,
    failingPaths: new Set(),
    get reads() {
      return reads;
    },
    get tokensIssued() {
      return tokensIssued;
    },
    deleteDelayMs: 0,
    deleteAnswerDelayMs: 0,
    readDelayMs: 0,
    beforeDelete: undefined,
    throttle: { remaining: 0, status: 429 },
    throttled: [],
    forwarded: [],
    get sawCredentials() {
      return sawCredentials;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
    resetCounts() {
      proxy.deletes.length = 0;
      proxy.throttled.length = 0;
      proxy.forwarded.length = 0;
      reads = 0;
      state.peakDeletesInFlight = inFlight;
    },
  };
  const state = proxy as { peakDeletesInFlight: number };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      if (expected && options.bearer && req.url?.startsWith('/token')) {
        if (req.headers.authorization !== expected) {
          if (req.headers.authorization) sawCredentials = false;
          res.writeHead(401).end();
          return;
        }
        tokensIssued += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
        return;
      }
      const wanted = options.bearer ? `Bearer ${token}` : expected;
      if (wanted && req.headers.authorization !== wanted) {
        if (req.headers.authorization && !options.bearer) sawCredentials = false;
        const challenge = options.bearer ? `Bearer realm="${proxy.url}/token",service="test-registry"` : 'Basic realm="test"';
        res
          .writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' })
          .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      if ([...proxy.failingPaths].some((p) => req.url?.startsWith(p))) {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNKNOWN","message":"injected read failure"}]}');
        return;
      }
      const { throttle } = proxy;
      if (throttle.remaining > 0 && (throttle.method === undefined || throttle.method === req.method)) {
        throttle.remaining -= 1;
        proxy.throttled.push({ method: req.method!, at: Date.now() });
        res
          .writeHead(throttle.status, {
            'content-type': 'application/json',
            ...(throttle.retryAfter ? { 'retry-after': throttle.retryAfter } : {}),
          })
          .end('{"errors":[{"code":"TOOMANYREQUESTS","message":"injected push-back"}]}');
        return;
      }
      proxy.forwarded.push({ method: req.method!, at: Date.now() });
      const isDelete = req.method === 'DELETE';
      const digest = isDelete ? decodeURIComponent(req.url!.split('/').pop()!) : '';
      if (isDelete) {
        inFlight += 1;
        state.peakDeletesInFlight = Math.max(state.peakDeletesInFlight, inFlight);
      }
      try {
        if (isDelete && proxy.deleteDelayMs > 0) await new Promise((r) => setTimeout(r, proxy.deleteDelayMs));
        if (isDelete && proxy.beforeDelete) await proxy.beforeDelete(digest);
        if (isDelete && proxy.failing.has(digest)) {
          proxy.deletes.push({ digest, status: proxy.failStatus, at: Date.now() });
          res
            .writeHead(proxy.failStatus, { 'content-type': 'application/json' })
            .end('{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}');
          return;
        }
        if (!isDelete) reads += 1;
        if (!isDelete && proxy.readDelayMs > 0) await new Promise((r) => setTimeout(r, proxy.readDelayMs));
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(([k]) => !['host', 'authorization', 'connection'].includes(k)),
        ) as Record<string, string>;
        const upstream = await fetch(`${target}${req.url}`, {
          method: req.method,
          headers,
          body: chunks.length ? Buffer.concat(chunks) : undefined,
        });
        if (isDelete) proxy.deletes.push({ digest, status: upstream.status, at: Date.now() });
        const out = Buffer.from(await upstream.arrayBuffer());
        if (isDelete && proxy.deleteAnswerDelayMs > 0) await new Promise((r) => setTimeout(r, proxy.deleteAnswerDelayMs));
        const outHeaders: Record<string, string> = {};
        upstream.headers.forEach((v, k) => {
          if (!['content-encoding', 'transfer-encoding', 'connection'].includes(k)) outHeaders[k] = v;
        });
        res.writeHead(upstream.status, outHeaders).end(out);
      } finally {
        if (isDelete) inFlight -= 1;
      }
    })().catch((err: unknown) => res.writeHead(502).end(String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return proxy;
}
