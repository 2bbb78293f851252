import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDeliverHook } from '../../src/activities/deliver-hook.js';
import type { DeliverHookResult } from '../../src/activities/types.js';
import { createHookAllowList, type ResolveAll } from '../../src/hooks/hook-allow-list.js';
import { JobStatus } from '../../src/shared/job-model.js';

/**
 * A CIDR entry of `job.hook_allowed_hosts` admits a host name by the addresses it resolves to.
 * The POST must go to those addresses: a DNS answer that changes between the check and the
 * connection (rebinding) must not steer it to a host the list does not allow. The check's answers
 * come from a resolver the test controls; the connection, without the pin, would take the
 * system's answer for `localhost` (127.0.0.1), where a real receiver listens.
 */
describe('a hook host admitted by a CIDR entry', () => {
  let server: Server;
  let port: number;
  let received: { host?: string; body: string }[];
  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ host: req.headers.host, body });
        res.writeHead(200).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());
  beforeEach(() => {
    received = [];
  });

  const deliver = (entries: string[], answer: LookupAddress[]): Promise<DeliverHookResult> => {
    const resolveAll: ResolveAll = async (host) => {
      assert.equal(host, 'localhost');
      return answer;
    };
    const deliverHook = createDeliverHook({ allowList: createHookAllowList(entries, resolveAll) });
    return new MockActivityEnvironment().run(deliverHook, {
      url: `http://localhost:${port}/hook`,
      event: { job_id: 'pinned', status: JobStatus.Running, metadata: {} as never },
      timeoutMs: 5_000,
    });
  };

  it('goes to the address the check saw, not to a fresh lookup of the name', async () => {
    // Checked: 127.0.0.3, inside the list. A fresh lookup would give 127.0.0.1, outside it.
    const result = await deliver(['127.0.0.3/32'], [{ address: '127.0.0.3', family: 4 }]);
    assert.equal(result.ok, false, JSON.stringify(result));
    assert.match(result.ok ? '' : result.error, /ECONNREFUSED 127\.0\.0\.3/);
    assert.deepEqual(received, [], 'the POST reached an address the allow-list never admitted');
  });

  it('reaches the receiver at the checked address, under its own host name', async () => {
    const result = await deliver(['127.0.0.1/32'], [{ address: '127.0.0.1', family: 4 }]);
    assert.deepEqual(result, { ok: true, httpStatus: 200 });
    assert.equal(received.length, 1);
    assert.equal(received[0]!.host, `localhost:${port}`);
    assert.equal((JSON.parse(received[0]!.body) as { job_id: string }).job_id, 'pinned');
  });

  it('is refused when any address it resolves to is outside the list', async () => {
    const result = await deliver(
      ['127.0.0.1/32'],
      [
        { address: '127.0.0.1', family: 4 },
        { address: '10.9.9.9', family: 4 },
      ],
    );
    assert.deepEqual(result, { ok: false, error: 'hook host localhost is not in job.hook_allowed_hosts' });
    assert.deepEqual(received, []);
  });
});
