import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { postOnce } from '../../src/jobs/harbor/http-post.js';
import { proxyEnv, proxyFor } from '../../src/jobs/harbor/proxy-from-env.js';
import { startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy.js';
import { startRawReceiver, type RawReceiver } from '../helpers/raw-receiver.js';

/**
 * Harbor's installer sets HTTP_PROXY/HTTPS_PROXY/NO_PROXY on jobservice, and its notification
 * client goes through them (Go's `http.ProxyFromEnvironment`). Here the receivers' host name
 * resolves nowhere: only a real forward proxy, routing it to loopback receivers, reaches them.
 */
describe('WEBHOOK and SLACK posts through a proxy', () => {
  let proxy: ForwardProxy;
  let raw: RawReceiver;
  let tls: HttpsServer;
  let dir: string;
  const tlsHits: { path: string; body: string }[] = [];
  before(async () => {
    raw = await startRawReceiver();
    dir = mkdtempSync(join(tmpdir(), 'proxy-test-'));
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'],
        ...['-subj', '/CN=hooks.example.invalid', '-addext', 'subjectAltName=DNS:hooks.example.invalid'],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      ],
      { stdio: 'ignore' },
    );
    tls = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        tlsHits.push({ path: req.url ?? '', body });
        res.writeHead(200).end();
      });
    });
    tls.listen(0, '127.0.0.1');
    await once(tls, 'listening');
    const rawPort = new URL(raw.url('x')).port;
    proxy = await startForwardProxy({
      'hooks.example.invalid:80': `127.0.0.1:${rawPort}`,
      'hooks.example.invalid:443': `127.0.0.1:${(tls.address() as AddressInfo).port}`,
    });
  });
  after(async () => {
    await proxy.close();
    await raw.close();
    tls.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an http address: the whole request goes to HTTP_PROXY, with the proxy’s credentials', async () => {
    const withUser = proxy.url.replace('http://', 'http://harbor:pr%40xy@');
    const result = await postOnce(
      'http://hooks.example.invalid/notify?x=1',
      '{"event":"push"}',
      { 'Content-Type': ['application/json'], Authorization: ['Bearer abc'] },
      { timeoutMs: 5_000, proxies: { httpProxy: withUser } },
    );
    assert.equal(result.status, 200);
    const seen = proxy.seen.at(-1)!;
    assert.equal(seen.line, 'POST http://hooks.example.invalid/notify?x=1');
    assert.equal(seen.headers['proxy-authorization'], `Basic ${Buffer.from('harbor:pr@xy').toString('base64')}`);
    const [request] = raw.requests('notify?x=1');
    assert.equal(request?.body, '{"event":"push"}');
    assert.equal(request?.headers.authorization, 'Bearer abc');
  });

  it('an https address: a CONNECT tunnel through HTTPS_PROXY, TLS with the receiver itself', async () => {
    const send = (insecure: boolean) =>
      postOnce(
        'https://hooks.example.invalid/slack',
        '{"text":"hi"}',
        {},
        { timeoutMs: 5_000, insecure, proxies: { httpsProxy: proxy.url } },
      );
    const result = await send(true);
    assert.equal(result.status, 200);
    assert.equal(proxy.seen.at(-1)!.line, 'CONNECT hooks.example.invalid:443');
    assert.deepEqual(tlsHits.at(-1), { path: '/slack', body: '{"text":"hi"}' });
    // The receiver's self-signed certificate is checked through the tunnel unless skip_cert_verify.
    await assert.rejects(send(false), /self[- ]signed/);
  });

  it('NO_PROXY, or a host the proxy may not serve, goes direct', async () => {
    const hits = proxy.seen.length;
    const result = await postOnce(raw.url('direct'), '{}', {}, { timeoutMs: 5_000, proxies: { httpProxy: proxy.url } });
    assert.equal(result.status, 200, 'a loopback address never goes through the proxy');
    assert.equal(proxy.seen.length, hits);
    await assert.rejects(
      postOnce(
        'http://hooks.example.invalid/notify',
        '{}',
        {},
        {
          timeoutMs: 5_000,
          proxies: { httpProxy: proxy.url, noProxy: 'example.invalid' },
        },
      ),
      /ENOTFOUND|EAI_AGAIN/,
    );
    assert.equal(proxy.seen.length, hits);
  });

  it('reads the settings as Go does, and matches NO_PROXY entries by Go’s rules', () => {
    assert.deepEqual(proxyEnv({ HTTP_PROXY: 'proxy:3128', http_proxy: 'other:1', https_proxy: 'tls-proxy:3129', no_proxy: '.internal' }), {
      httpProxy: 'proxy:3128',
      httpsProxy: 'tls-proxy:3129',
      noProxy: '.internal',
    });
    const via = (url: string, noProxy = '') =>
      proxyFor(new URL(url), { httpProxy: 'proxy:3128', httpsProxy: 'https://tls-proxy:3129', noProxy })?.href ?? 'direct';
    assert.equal(via('http://core.example/x'), 'http://proxy:3128/', 'a proxy without a scheme is http');
    assert.equal(via('https://core.example/x'), 'https://tls-proxy:3129/');
    assert.equal(via('http://localhost:8080/x'), 'direct');
    assert.equal(via('http://127.0.0.2/x'), 'direct');
    assert.equal(via('http://[::1]/x'), 'direct');
    assert.equal(via('http://a.example/x', '*'), 'direct');
    assert.equal(via('http://example.com/x', 'example.com'), 'direct', 'the name itself');
    assert.equal(via('http://a.b.example.com/x', 'example.com'), 'direct', 'and its subdomains');
    assert.equal(via('http://notexample.com/x', 'example.com'), 'http://proxy:3128/', 'but not a name ending the same');
    assert.equal(via('http://example.com/x', '.example.com'), 'http://proxy:3128/', 'a leading dot: subdomains only');
    assert.equal(via('http://a.example.com/x', '*.example.com'), 'direct');
    assert.equal(via('http://core:8080/x', 'core:8080'), 'direct');
    assert.equal(via('http://core:9090/x', 'core:8080'), 'http://proxy:3128/', 'another port');
    assert.equal(via('http://10.1.2.3/x', '10.0.0.0/8'), 'direct');
    assert.equal(via('http://192.168.0.1/x', '10.0.0.0/8, 192.168.0.1'), 'direct');
    assert.equal(via('http://192.168.0.2/x', '10.0.0.0/8, 192.168.0.1'), 'http://proxy:3128/');
    // The schemes Go's transport takes: http, https and socks5 (notification-socks5.test.ts posts through one).
    assert.equal(proxyFor(new URL('http://a.example/'), { httpProxy: 'socks5://s:1080' })?.href, 'socks5://s:1080');
    assert.throws(
      () => proxyFor(new URL('http://a.example/'), { httpProxy: 'ftp://s:21' }),
      /not supported \(only http, https and socks5 proxies\)/,
    );
  });
});
