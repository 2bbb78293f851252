import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createHarness, type Harness } from '../helpers/harness.js';

/**
 * Harbor's WEBHOOK job (src/jobservice/job/impl/notification/webhook_job.go, v2.15) posts with a
 * plain Go http.Client (http_helper.go: no CheckRedirect), which follows a 301/302/303 answer to a
 * POST with a GET of its Location (net/http redirectBehavior) and judges the job by that final
 * answer. A receiver that took the event and answers "303 See Other" therefore gets it once and
 * Harbor marks the job Success.
 */
describe('WEBHOOK to a receiver that answers 303 See Other after taking the POST', () => {
  let h: Harness;
  let server: Server;
  const hits: { method: string; path: string; length: string | undefined }[] = [];
  before(async () => {
    h = await createHarness();
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        hits.push({ method: req.method ?? '', path: req.url ?? '', length: req.headers['content-length'] });
        if (req.method === 'POST' && req.url === '/events') res.writeHead(303, { location: '/events/1' }).end();
        else if (req.method === 'GET' && req.url === '/events/1') res.writeHead(200).end('accepted');
        else res.writeHead(405).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await h.close();
    server.closeAllConnections();
    server.close();
  });

  it('is delivered once and ends Success, as Go’s client follows the 303 with a GET', async () => {
    const { port } = server.address() as AddressInfo;
    const job = await h.submit({
      name: 'WEBHOOK',
      parameters: { address: `http://127.0.0.1:${port}/events`, payload: '{"type":"PUSH_ARTIFACT"}' },
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', `last_error: ${done.last_error}; requests: ${JSON.stringify(hits)}`);
    assert.deepEqual(hits, [
      { method: 'POST', path: '/events', length: String('{"type":"PUSH_ARTIFACT"}'.length) },
      { method: 'GET', path: '/events/1', length: undefined },
    ]);
  });
});
