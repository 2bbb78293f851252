import { BlockList, isIP } from 'node:net';

/** The proxy settings Harbor's installer gives jobservice (`proxy.components` in harbor.yml). */
export interface ProxyEnv {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
}

/** `HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`, upper case first, as Go's `http.ProxyFromEnvironment` reads them. */
export function proxyEnv(env: NodeJS.ProcessEnv = process.env): ProxyEnv {
  const pick = (upper: string) => env[upper] || env[upper.toLowerCase()] || undefined;
  const found: ProxyEnv = {};
  const httpProxy = pick('HTTP_PROXY');
  const httpsProxy = pick('HTTPS_PROXY');
  const noProxy = pick('NO_PROXY');
  if (httpProxy) found.httpProxy = httpProxy;
  if (httpsProxy) found.httpsProxy = httpsProxy;
  if (noProxy) found.noProxy = noProxy;
  return found;
}

/**
 * The proxy a request to `target` goes through, or undefined to go direct: Go's rules
 * (`golang.org/x/net/http/httpproxy`). `HTTPS_PROXY` for https targets, `HTTP_PROXY` for http; a
 * proxy without a scheme is http. Never for localhost or a loopback address. `NO_PROXY` is a comma
 * list: `*` (no proxy at all), IP addresses, CIDRs, and host names, each matching the name and its
 * subdomains (`.example.com` only the subdomains), optionally with a port.
 */
export function proxyFor(target: URL, env: ProxyEnv): URL | undefined {
  const raw = target.protocol === 'https:' ? env.httpsProxy : env.httpProxy;
  if (!raw) return undefined;
  const host = target.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost' || isLoopback(host)) return undefined;
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  if (excluded(host, port, env.noProxy ?? '')) return undefined;
  const proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  // The schemes Go's transport takes: a SOCKS5 proxy too (an installer's `socks5://…`).
  if (!['http:', 'https:', 'socks5:', 'socks5h:'].includes(proxy.protocol)) {
    throw new Error(`proxy ${proxy.protocol}//${proxy.host} is not supported (only http, https and socks5 proxies)`);
  }
  return proxy;
}

function isLoopback(host: string): boolean {
  const family = isIP(host);
  if (family === 4) return host.startsWith('127.');
  return family === 6 && (host === '::1' || host === '0:0:0:0:0:0:0:1');
}

function excluded(host: string, port: string, noProxy: string): boolean {
  const hostIsIp = isIP(host) !== 0;
  for (const rawEntry of noProxy.split(',')) {
    const entry = rawEntry.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr && isIP(cidr[1]!)) {
      if (hostIsIp && isIP(host) === isIP(cidr[1]!)) {
        const family = isIP(host) === 6 ? 'ipv6' : 'ipv4';
        const block = new BlockList();
        block.addSubnet(cidr[1]!, Number(cidr[2]), family);
        if (block.check(host, family)) return true;
      }
      continue;
    }
    // `host:port`, `[v6]:port`, or a bare name or address.
    const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    const name = (withPort ? withPort[1]! : entry).replace(/^\[(.*)\]$/, '$1');
    const wantPort = withPort?.[2];
    if (wantPort !== undefined && wantPort !== port) continue;
    if (isIP(name)) {
      if (hostIsIp && name === host) return true;
      continue;
    }
    const bare = name.startsWith('*.') ? name.slice(1) : name;
    if (bare.startsWith('.')) {
      if (host.endsWith(bare)) return true;
    } else if (host === bare || host.endsWith(`.${bare}`)) {
      return true;
    }
  }
  return false;
}
