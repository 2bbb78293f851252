import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, TEST_SECRET, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

describe('Harbor-Secret authentication', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(async () => {
    await h.close();
  });

  const unauthorized = async (response: Response) => {
    assert.equal(response.status, 401);
    const body = (await response.json()) as { code: number; err: string };
    assert.equal(body.code, 10011);
    assert.equal(body.err, 'unauthorized');
  };

  for (const [label, header] of [
    ['no header', undefined],
    ['wrong secret', 'Harbor-Secret nope'],
    ['right secret, wrong scheme', `Bearer ${TEST_SECRET}`],
    ['prefix of the secret', `Harbor-Secret ${TEST_SECRET.slice(0, 5)}`],
    ['secret with a suffix', `Harbor-Secret ${TEST_SECRET}x`],
    ['same length, last character changed', `Harbor-Secret ${TEST_SECRET.slice(0, -1)}${TEST_SECRET.endsWith('x') ? 'y' : 'x'}`],
    ['same characters, one of them multi-byte', `Harbor-Secret ${TEST_SECRET.slice(0, -1)}é`],
    ['empty secret', 'Harbor-Secret '],
  ] as const) {
    it(`refuses ${label} with 401`, async () => {
      const headers: Record<string, string> = header === undefined ? {} : { authorization: header };
      const response = await h.app.request('/api/v1/jobs/0123456789abcdef01234567', { headers });
      await unauthorized(response);
    });
  }

  it('accepts the secret with surrounding whitespace trimmed', async () => {
    const response = await h.app.request('/api/v1/jobs/0123456789abcdef01234567', {
      headers: { authorization: `Harbor-Secret   ${TEST_SECRET}  ` },
    });
    assert.equal(response.status, 404);
  });

  it('answers 401 for unknown routes without the secret (auth before routing), 404 with it', async () => {
    await unauthorized(await h.app.request('/api/v1/no/such/route'));
    await unauthorized(await h.app.request('/etc/passwd'));
    assert.equal((await h.request('GET', '/api/v1/no/such/route')).status, 404);
  });

  it('leaves exactly GET /api/v1/stats open, and not with a query string', async () => {
    // Pollers show up once the worker's first long polls reach the server.
    const open = await waitFor(
      () => Promise.resolve(h.app.request('/api/v1/stats')),
      (r) => r.status === 200,
      {
        what: 'the worker pool to show',
      },
    );
    const body = (await open.json()) as { worker_pools: { status: string; job_names: string[]; concurrency: number }[] };
    assert.ok(body.worker_pools.length >= 1);
    const pool = body.worker_pools[0]!;
    assert.equal(pool.status, 'Healthy');
    assert.ok(pool.job_names.includes('DEMO'));
    assert.equal(pool.concurrency, h.config.worker_pool.workers);
    await unauthorized(await h.app.request('/api/v1/stats?x=1'));
    await unauthorized(await h.app.request('/api/v1/stats', { method: 'POST' }));
  });

  it('refuses to build an API with no secret configured', async () => {
    const { buildApp } = await import('../../src/api/serve-app.js');
    const { testRegistry } = await import('../helpers/test-jobs.js');
    assert.throws(() => buildApp({ ...h.config, core_secret: undefined }, h.client, testRegistry()), /CORE_SECRET/);
  });
});
