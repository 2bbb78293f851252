import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawExchange } from '../helpers/raw-http.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';

describe('API edge cases: an empty Content-Type, a number out of range, a non-ASCII secret', () => {
  describe('Content-Type present but empty', () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ worker: false, served: true });
    });
    after(async () => {
      await h.close();
    });

    // Without the header the API answers 415; with `text/plain`, 415. An empty header makes it
    // validate an empty object instead of the body sent, and blame a field the body has.
    for (const [route, method, body] of [
      ['/api/v1/jobs', 'POST', { job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } } }],
      ['/api/v1/jobs/0123456789abcdef01234567', 'POST', { action: 'stop' }],
      ['/api/v1/queues/DEMO', 'PUT', { action: 'resume' }],
    ] as const) {
      it(`${method} ${route} with 'Content-Type:' (empty) and a valid JSON body → 415, as without the header, not a 400 blaming a field the body has`, async () => {
        const response = await h.request(method, route, body, { 'content-type': '' });
        const text = await response.text();
        assert.equal(response.status, 415, text);
        assert.equal((JSON.parse(text) as { code: number }).code, 10013);
      });
    }
  });

  describe('a number out of float64 range in parameters', () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ worker: false, served: true });
    });
    after(async () => {
      await h.close();
    });

    // Harbor's json.Unmarshal refuses 1e400 (400, 10001). Here JSON.parse makes it Infinity, which a
    // job taking any parameters (SCHEDULER) lets through, and which Temporal's JSON then stores as null.
    it('POST /jobs with parameters {"x":1e400} → 400, not a job whose parameter silently became null', async () => {
      const body = '{"job":{"name":"SCHEDULER","parameters":{"x":1e400},"metadata":{"kind":"Scheduled","schedule_delay":3600}}}';
      const response = await h.request('POST', '/api/v1/jobs', body);
      const text = await response.text();
      if (response.status === 202) {
        const { job } = JSON.parse(text) as { job: { id: string } };
        const stored = (await h.stats(job.id)).parameters;
        assert.fail(`202: job ${job.id} accepted, its parameters now read ${JSON.stringify(stored)}`);
      }
      assert.equal(response.status, 400, text);
    });

    it('POST /jobs with a long array of numbers among its parameters (1e400 at its end) → 400, not a 500', async () => {
      const many = new Array(300_000).fill(0).join(',');
      const body = `{"job":{"name":"SCHEDULER","parameters":{"x":[${many},1e400]},"metadata":{"kind":"Scheduled","schedule_delay":3600}}}`;
      const response = await h.request('POST', '/api/v1/jobs', body);
      const text = await response.text();
      assert.equal(response.status, 400, text);
      assert.match(text, /out of range/);
    });
  });

  describe('a core secret with a non-ASCII character', () => {
    const secret = 'clé-secrète-0123456789';
    let h: Harness;
    before(async () => {
      h = await createHarness({ worker: false, served: true, config: testConfig({ core_secret: secret }) });
    });
    after(async () => {
      await h.close();
    });

    it('is accepted when the client sends it as UTF-8 (as Harbor core, in Go, sends and compares it)', async () => {
      const { host } = new URL(h.url!);
      const request = Buffer.concat([
        Buffer.from(`GET /api/v1/jobs/0123456789abcdef01234567 HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Harbor-Secret `, 'latin1'),
        Buffer.from(secret, 'utf8'),
        Buffer.from('\r\nConnection: close\r\n\r\n', 'latin1'),
      ]);
      const { status, body } = await rawExchange(h.url!, request);
      // 404: authenticated, and no such job.
      assert.equal(status, 404, `the configured secret, sent as UTF-8 bytes: ${status} ${body}`);
    });
  });
});
