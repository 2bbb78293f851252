import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { attemptDeadline } from '../../process/attempt-deadline.js';
import { proxyEnv, proxyFor, type ProxyEnv } from './proxy-from-env.js';
import { isSocks5, socks5Connect } from './socks5.js';

export interface PostResult {
  status: number;
  body: string;
}

/** Go's http.Client gives up after ten redirects. */
const MAX_REDIRECTS = 10;
/** A refusal's body is kept for the error message only. */
const MAX_ERROR_BODY = 1000;

/**
 * One POST, as Harbor's notification jobs send it (Go's http.Client with a `Timeout`): the body and
 * headers as given, certificate checks off only when asked (`skip_cert_verify`), redirects followed
 * as Go follows them (307/308 with the same POST, 301/302/303 with a GET and no body; the answer
 * at the end is the one judged; Authorization dropped when the host changes). One
 * deadline covers the whole exchange; a 2xx is done at its status line (Harbor reads no body of
 * it), so a receiver that answers at once and trickles its body is neither waited on nor re-sent.
 * Through `HTTP_PROXY`/`HTTPS_PROXY` unless `NO_PROXY` says otherwise, as Harbor's transport goes
 * (`http.ProxyFromEnvironment`): an https target through a CONNECT tunnel, TLS end to end.
 */
export async function postOnce(
  url: string,
  body: string,
  headers: Record<string, string | string[]>,
  options: { timeoutMs: number | undefined; insecure?: boolean; signal?: AbortSignal; proxies?: ProxyEnv },
): Promise<PostResult> {
  const deadline = attemptDeadline(options.timeoutMs, options.signal);
  const proxies = options.proxies ?? proxyEnv();
  let target = new URL(url);
  let sent = headers;
  // A body to send: a POST's, until a 301/302/303 turns it into a GET.
  let payload: string | undefined = body;
  try {
    for (let hop = 0; ; hop++) {
      const via = proxyFor(target, proxies);
      const answer = await exchange(target, payload, sent, options.insecure ?? false, deadline.signal, via).catch((err: unknown) => {
        if (deadline.timedOut()) throw new Error(`no answer within ${(options.timeoutMs ?? 0) / 1000} s`);
        throw err;
      });
      const again = answer.status === 307 || answer.status === 308;
      const asGet = answer.status === 301 || answer.status === 302 || answer.status === 303;
      if ((!again && !asGet) || answer.location === undefined) return answer;
      if (hop === MAX_REDIRECTS) throw new Error(`stopped after ${MAX_REDIRECTS} redirects`);
      const next = new URL(answer.location, target);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') return answer;
      if (!sameOrSubdomain(next.hostname, target.hostname)) sent = withoutAuthorization(sent);
      if (asGet) payload = undefined;
      target = next;
    }
  } finally {
    deadline.clear();
  }
}

/** Go's rule for carrying credentials over a redirect: the same host name or one under it, whatever the port. */
function sameOrSubdomain(next: string, previous: string): boolean {
  const a = next.toLowerCase();
  const b = previous.toLowerCase();
  return a === b || (a.endsWith(`.${b}`) && !/^[\d.]+$/.test(b) && !b.includes(':'));
}

/** What Go's client keeps from another host on a redirect: not the credentials (Authorization, cookies, WWW-Authenticate). */
const CREDENTIALS = new Set(['authorization', 'www-authenticate', 'cookie', 'cookie2']);

function withoutAuthorization(headers: Record<string, string | string[]>): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !CREDENTIALS.has(name.toLowerCase())));
}

/**
 * Headers that frame the message or the connection are the client's own, as Go's client has them
 * (it ignores Host, Content-Length, Transfer-Encoding and Trailer in a request's header map): a
 * caller's `Content-Length: 0` would end the POST early and send its payload as a second request
 * of the caller's making on the same connection.
 */
const FRAMING = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'trailer',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'proxy-connection',
]);

function withoutFraming(headers: Record<string, string | string[]>): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !FRAMING.has(name.toLowerCase())));
}

/** A POST of `body`, or a GET when there is none (after a 301/302/303). */
function exchange(
  target: URL,
  body: string | undefined,
  headers: Record<string, string | string[]>,
  insecure: boolean,
  signal: AbortSignal,
  proxy: URL | undefined,
): Promise<PostResult & { location?: string }> {
  const given = (name: string) => Object.keys(headers).some((k) => k.toLowerCase() === name);
  const head = {
    // Go's client names itself; a receiver behind a rule that refuses requests without a
    // User-Agent (WAF rules do) takes Harbor's posts, so it must take these.
    ...(given('user-agent') ? {} : { 'user-agent': GO_USER_AGENT }),
    ...asWireText(withoutFraming(headers)),
    ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
  };
  const method = body === undefined ? 'GET' : 'POST';
  return new Promise((resolve, reject) => {
    const answered = (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 200 && status <= 299) {
        // Done: the rest of the body is not read (Go's client closes it too).
        res.on('error', () => undefined);
        res.destroy();
        resolve({ status, body: '' });
        return;
      }
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (c: Buffer) => {
        if (kept < MAX_ERROR_BODY) chunks.push(c);
        kept += c.length;
      });
      res.on('end', () =>
        resolve({ status, body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BODY), ...(location ? { location } : {}) }),
      );
      res.on('error', reject);
    };
    let req: ClientRequest;
    if (proxy && target.protocol === 'http:' && !isSocks5(proxy)) {
      // A plain http target: the whole URL goes to the proxy, which makes the request. Its
      // credentials, as Go sends them, go as Authorization, never in the request line (the proxy logs it).
      const bare = new URL(target.href);
      bare.username = '';
      bare.password = '';
      req = requestTo(proxy)(
        {
          ...proxyEndpoint(proxy),
          method,
          path: bare.href,
          headers: { host: bare.host, ...proxyAuthorization(proxy), ...(given('authorization') ? {} : userAuthorization(target)), ...head },
          signal,
        },
        answered,
      );
    } else {
      const https = target.protocol === 'https:';
      req = (https ? httpsRequest : httpRequest)(
        target,
        {
          method,
          headers: head,
          ...(https ? { rejectUnauthorized: !insecure } : {}),
          ...(proxy ? { agent: isSocks5(proxy) ? socksAgent(proxy, signal, https) : tunnelAgent(proxy, signal) } : {}),
          signal,
        },
        answered,
      );
    }
    req.on('error', reject);
    // A Buffer, so the head goes out on its own as Latin-1 (asWireText): a string body would be
    // joined to it and the whole written as UTF-8.
    if (body === undefined) req.end();
    else req.end(Buffer.from(body, 'utf8'));
  });
}

const requestTo = (proxy: URL) => (proxy.protocol === 'https:' ? httpsRequest : httpRequest);

function proxyEndpoint(proxy: URL): Pick<RequestOptions, 'host' | 'port'> {
  return { host: proxy.hostname.replace(/^\[(.*)\]$/, '$1'), port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80) };
}

/** Credentials in the proxy's URL (`http://user:pass@proxy:3128`), as Go sends them. */
/** What Go's client sends as its name. */
const GO_USER_AGENT = 'Go-http-client/1.1';

/** A target URL's own credentials as Basic authorization, as Go's client sends them. */
function userAuthorization(target: URL): Record<string, string> {
  if (!target.username && !target.password) return {};
  const credentials = `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`;
  return { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` };
}

function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username && !proxy.password) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

/**
 * An https target through the proxy: a CONNECT tunnel to the target, and TLS with the target over
 * it, so the proxy sees neither the request nor the certificate check's outcome.
 */
function tunnelAgent(proxy: URL, signal: AbortSignal): HttpsAgent {
  const agent = new HttpsAgent({ keepAlive: false });
  const createConnection = (options: ConnectionOptions, callback: (err: Error | null, socket?: Duplex) => void): undefined => {
    const host = options.host ?? 'localhost';
    const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${options.port ?? 443}`;
    const connect = requestTo(proxy)({
      ...proxyEndpoint(proxy),
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...proxyAuthorization(proxy) },
      signal,
      agent: false,
    });
    connect.once('connect', (res: IncomingMessage, socket: Duplex) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        callback(new Error(`the proxy ${proxy.host} answered ${res.statusCode} to CONNECT ${authority}`));
        return;
      }
      const servername = options.servername ?? (isIP(host) ? undefined : host);
      callback(null, tlsConnect({ socket, rejectUnauthorized: options.rejectUnauthorized ?? true, ...(servername ? { servername } : {}) }));
    });
    connect.once('error', (err) => callback(err));
    connect.end();
    return undefined;
  };
  Object.assign(agent, { createConnection });
  return agent;
}

/** A target through a SOCKS5 proxy: a TCP connection made by the proxy, and TLS with the target over it for https. */
function socksAgent(proxy: URL, signal: AbortSignal, secure: boolean): HttpAgent {
  const agent = secure ? new HttpsAgent({ keepAlive: false }) : new HttpAgent({ keepAlive: false });
  const createConnection = (options: ConnectionOptions, callback: (err: Error | null, socket?: Duplex) => void): undefined => {
    const host = options.host ?? 'localhost';
    socks5Connect(proxy, host, Number(options.port ?? (secure ? 443 : 80)), signal).then((socket) => {
      if (!secure) return callback(null, socket);
      const servername = options.servername ?? (isIP(host) ? undefined : host);
      callback(null, tlsConnect({ socket, rejectUnauthorized: options.rejectUnauthorized ?? true, ...(servername ? { servername } : {}) }));
    }, callback);
    return undefined;
  };
  Object.assign(agent, { createConnection });
  return agent;
}

/**
 * Header values as Go writes them: their UTF-8 bytes. Node writes a header's characters as Latin-1
 * bytes (and refuses any above U+00FF), so each value goes as the Latin-1 reading of its UTF-8.
 */
function asWireText(headers: Record<string, string | string[]>): Record<string, string | string[]> {
  const wire = (value: string) => Buffer.from(value, 'utf8').toString('latin1');
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.map(wire) : wire(value)]));
}

/** A URL with its userinfo and query values hidden, for logs. */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.username || parsed.password) {
    parsed.username = parsed.username ? '***' : '';
    parsed.password = parsed.password ? '***' : '';
  }
  for (const key of [...parsed.searchParams.keys()]) parsed.searchParams.set(key, '***');
  return parsed.toString();
}
