import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { z } from 'zod';
import { ROUTES } from '../../src/api/routes/route-defs.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const SNAPSHOT = 'test/snapshots/openapi.json';
type Route = (typeof ROUTES)[number];
type Declared = { headers?: Record<string, unknown>; content?: Record<string, { schema: z.ZodType }> };

/** The answer is one the route declares: its status, its headers, and a body its schema accepts. */
async function assertMatches(route: Route, response: Response): Promise<void> {
  const declared = (route.responses as Record<string, Declared>)[String(response.status)];
  const where = `${route.method.toUpperCase()} ${route.path} → ${response.status}`;
  assert.ok(declared, `${where} is not declared`);
  for (const header of Object.keys(declared.headers ?? {})) assert.ok(response.headers.has(header), `${where}: no ${header} header`);
  const schema = declared.content?.['application/json']?.schema;
  if (!schema) return;
  const parsed = schema.safeParse(await response.json());
  assert.ok(parsed.success, `${where}: ${parsed.success ? '' : parsed.error.message}`);
}

describe('the routes are the contract', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(async () => {
    await h.close();
  });

  it('documents every route the app serves, and nothing else', () => {
    const served = h.app.routes
      .filter((r) => r.method !== 'ALL' && r.path.startsWith('/api/v1/') && r.path !== '/api/v1/openapi.json')
      .map((r) => `${r.method} ${r.path.slice('/api/v1'.length).replace(/:(\w+)/g, '{$1}')}`);
    const documented = ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`);
    assert.deepEqual([...new Set(served)].sort(), documented.sort());
  });

  it('serves the document without the secret, and it matches the reviewed snapshot', async () => {
    const response = await h.app.request('/api/v1/openapi.json');
    assert.equal(response.status, 200);
    const document = (await response.json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { headers?: object }> }>>;
      components: { schemas: Record<string, unknown> };
      webhooks: Record<string, { post: { requestBody: unknown } }>;
    };
    assert.deepEqual(Object.keys(document.paths).sort(), [
      '/jobs',
      '/jobs/{id}',
      '/jobs/{id}/executions',
      '/jobs/{id}/files/{name}',
      '/jobs/{id}/hooks',
      '/jobs/{id}/log',
      '/jobs/{id}/report',
      '/queues',
      '/queues/{job_type}',
      '/stats',
    ]);
    assert.deepEqual(Object.keys(document.webhooks), ['statusHook']);
    assert.match(JSON.stringify(document.webhooks.statusHook?.post.requestBody), /#\/components\/schemas\/HookEvent/);
    assert.equal(document.paths['/jobs']?.post?.responses['501'], undefined, 'POST /jobs never answers 501');
    assert.ok(document.paths['/jobs']?.get?.responses['200']?.headers, 'the list declares its Total-Count header');
    const request = document.components.schemas.JobRequest as { additionalProperties: boolean; required: string[] };
    assert.equal(request.additionalProperties, false);
    assert.deepEqual(request.required, ['job']);

    const text = `${JSON.stringify(document, null, 2)}\n`;
    if (process.env.UPDATE_SNAPSHOTS === '1' || !existsSync(SNAPSHOT)) {
      mkdirSync('test/snapshots', { recursive: true });
      writeFileSync(SNAPSHOT, text);
    }
    assert.equal(text, readFileSync(SNAPSHOT, 'utf8'), 'the API contract changed: review it, then run with UPDATE_SNAPSHOTS=1');
  });

  it('answers as each route declares, for successes and errors alike', async () => {
    const route = (method: string, path: string) => ROUTES.find((r) => r.method === method && r.path === path)!;
    const [submit, list, get, act, executions, log, report, file, pools] = [
      route('post', '/jobs'),
      route('get', '/jobs'),
      route('get', '/jobs/{id}'),
      route('post', '/jobs/{id}'),
      route('get', '/jobs/{id}/executions'),
      route('get', '/jobs/{id}/log'),
      route('get', '/jobs/{id}/report'),
      route('get', '/jobs/{id}/files/{name}'),
      route('get', '/stats'),
    ];
    const demo = { name: 'DEMO', parameters: { image: 'demo-contract', step_ms: 0, hold_ms: 0 }, metadata: { kind: 'Generic' } };
    const accepted = await h.request('POST', '/api/v1/jobs', { job: demo });
    const { job } = (await accepted.clone().json()) as { job: { id: string } };
    await assertMatches(submit!, accepted);
    // The time the submit took inside the API, in ms.
    assert.match(accepted.headers.get('server-timing') ?? '', /^submit;dur=\d+\.\d$/);
    await h.waitForStatus(job.id, ['Success']);
    await assertMatches(submit!, await h.request('POST', '/api/v1/jobs', { job: { ...demo, name: 'NOPE' } }));
    await assertMatches(submit!, await h.request('POST', '/api/v1/jobs', '{', {}));
    await assertMatches(submit!, await h.request('POST', '/api/v1/jobs', JSON.stringify({ job: demo }), { 'content-type': 'text/plain' }));
    await assertMatches(list!, await h.request('GET', '/api/v1/jobs?page_size=5'));
    await assertMatches(list!, await h.request('GET', '/api/v1/jobs?page_size=0'));
    await assertMatches(get!, await h.request('GET', `/api/v1/jobs/${job.id}`));
    await assertMatches(get!, await h.request('GET', '/api/v1/jobs/0123456789abcdef01234567'));
    await assertMatches(get!, await h.request('GET', '/api/v1/jobs/not-an-id'));
    await assertMatches(act!, await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' }));
    await assertMatches(act!, await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'explode' }));
    await assertMatches(act!, await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'retry' }));
    await assertMatches(executions!, await h.request('GET', `/api/v1/jobs/${job.id}/executions`));
    await assertMatches(log!, await h.request('GET', `/api/v1/jobs/${job.id}/log`));
    await assertMatches(log!, await h.request('GET', '/api/v1/jobs/0123456789abcdef01234567/log'));
    await assertMatches(report!, await h.request('GET', `/api/v1/jobs/${job.id}/report`));
    await assertMatches(file!, await h.request('GET', `/api/v1/jobs/${job.id}/files/none.txt`));
    await assertMatches(file!, await h.request('GET', `/api/v1/jobs/${job.id}/files/a%20b`));
    const batch = await h.request('POST', '/api/v1/jobs', {
      job: { name: 'TEST_BATCH', parameters: { count: 2 }, metadata: { kind: 'Generic' } },
    });
    const batchId = ((await batch.clone().json()) as { job: { id: string } }).job.id;
    await h.waitForStatus(batchId, ['Success']);
    await assertMatches(report!, await h.request('GET', `/api/v1/jobs/${batchId}/report`));
    await assertMatches(pools!, await h.app.request('/api/v1/stats'));
    const hooks = route('get', '/jobs/{id}/hooks');
    await assertMatches(hooks!, await h.request('GET', `/api/v1/jobs/${job.id}/hooks`));
    await assertMatches(hooks!, await h.request('GET', '/api/v1/jobs/0123456789abcdef01234567/hooks'));
    const [queues, queueAction] = [route('get', '/queues'), route('put', '/queues/{job_type}')];
    await assertMatches(queues!, await h.request('GET', '/api/v1/queues'));
    await assertMatches(queueAction!, await h.request('PUT', '/api/v1/queues/NOOP', { action: 'pause' }));
    await assertMatches(queueAction!, await h.request('PUT', '/api/v1/queues/all', { action: 'resume' }));
    await assertMatches(queueAction!, await h.request('PUT', '/api/v1/queues/NOPE', { action: 'pause' }));
    await assertMatches(queueAction!, await h.request('PUT', '/api/v1/queues/NOOP', { action: 'explode' }));

    const periodic = await h.request('POST', '/api/v1/jobs', { job: { ...demo, metadata: { kind: 'Periodic', cron_spec: '@daily' } } });
    const periodicId = ((await periodic.clone().json()) as { job: { id: string } }).job.id;
    await assertMatches(submit!, periodic);
    await assertMatches(get!, await h.request('GET', `/api/v1/jobs/${periodicId}`));
    await assertMatches(executions!, await h.request('GET', `/api/v1/jobs/${periodicId}/executions`));
    await assertMatches(list!, await h.request('GET', '/api/v1/jobs?kind=Periodic'));
    await assertMatches(act!, await h.request('POST', `/api/v1/jobs/${periodicId}`, { action: 'stop' }));
  });
});
