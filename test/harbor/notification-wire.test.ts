import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { postOnce } from '../../src/jobs/harbor/http-post.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy.js';
import { startRawReceiver, type RawReceiver } from '../helpers/raw-receiver.js';

/**
 * What Harbor's notification jobs put on the wire with Go's http.Client, beyond the body: a
 * User-Agent (`Go-http-client/1.1` unless the header map names one; receivers behind WAF rules
 * refuse a request without one), and an address's own credentials as `Authorization: Basic`,
 * never in the request line, direct or through HTTP_PROXY.
 */
describe('WEBHOOK and SLACK on the wire: User-Agent, and credentials in the address', () => {
  let h: Harness;
  let server: Server;
  let raw: RawReceiver;
  let proxy: ForwardProxy;
  const seen: IncomingHttpHeaders[] = [];
  before(async () => {
    h = await createHarness();
    // A receiver behind a WAF that refuses requests without a User-Agent.
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push(req.headers);
        const ua = req.headers['user-agent'];
        res.writeHead(ua ? 200 : 403).end(ua ? 'ok' : 'Forbidden: no User-Agent');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    raw = await startRawReceiver();
    proxy = await startForwardProxy({ 'hooks.example.invalid:80': `127.0.0.1:${new URL(raw.url('x')).port}` });
  });
  after(async () => {
    await h.close();
    server.closeAllConnections();
    server.close();
    await proxy.close();
    await raw.close();
  });

  for (const name of ['WEBHOOK', 'SLACK']) {
    it(`${name} is delivered to a receiver that requires a User-Agent, named as Go's client names itself`, async () => {
      const { port } = server.address() as AddressInfo;
      const parameters: Record<string, unknown> = { address: `http://127.0.0.1:${port}/${name}`, payload: '{"text":"pushed"}' };
      const job = await h.submit({ name, parameters, metadata: { kind: 'Generic' } });
      const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
      assert.equal(done.status, 'Success', `${done.last_error}; headers sent: ${JSON.stringify(seen.at(-1))}`);
      assert.equal(seen.at(-1)?.['user-agent'], 'Go-http-client/1.1');
    });
  }

  it("a User-Agent in core's header map is sent as given", async () => {
    const result = await postOnce(raw.url('ua'), '{}', { 'User-Agent': ['harbor-core/2.12'] }, { timeoutMs: 5_000, proxies: {} });
    assert.equal(result.status, 200);
    assert.equal(raw.requests('ua')[0]?.headers['user-agent'], 'harbor-core/2.12');
  });

  const basic = `Basic ${Buffer.from('ci:s3cr3t-pw').toString('base64')}`;

  it("an address's credentials go as Authorization: Basic, directly", async () => {
    const result = await postOnce(`http://ci:s3cr3t-pw@${new URL(raw.url('x')).host}/direct`, '{}', {}, { timeoutMs: 5_000, proxies: {} });
    assert.equal(result.status, 200);
    assert.equal(raw.requests('direct')[0]?.headers.authorization, basic);
  });

  it('through HTTP_PROXY too, and the proxy never sees the password in the request line (it sent them there, and the receiver got none)', async () => {
    const result = await postOnce(
      'http://ci:s3cr3t-pw@hooks.example.invalid/proxied',
      '{}',
      {},
      {
        timeoutMs: 5_000,
        proxies: { httpProxy: proxy.url },
      },
    );
    assert.equal(result.status, 200);
    const line = proxy.seen.at(-1)!.line;
    assert.equal(line.includes('s3cr3t-pw'), false, `request line to the proxy: ${line}`);
    assert.equal(raw.requests('proxied')[0]?.headers.authorization, basic);
  });
});
