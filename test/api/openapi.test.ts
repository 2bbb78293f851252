import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createHarness, type Harness } from '../helpers/harness.js';

const SNAPSHOT = 'test/snapshots/openapi.json';

describe('GET /api/v1/openapi.json', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ worker: false });
  });
  after(async () => {
    await h.close();
  });

  it('is generated from the zod contract and matches the reviewed snapshot', async () => {
    const response = await h.request('GET', '/api/v1/openapi.json');
    assert.equal(response.status, 200);
    const document = (await response.json()) as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    assert.deepEqual(Object.keys(document.paths).sort(), ['/jobs', '/jobs/{id}', '/jobs/{id}/executions', '/jobs/{id}/log', '/stats']);
    const webhooks = (document as unknown as { webhooks: Record<string, { post: { requestBody: unknown } }> }).webhooks;
    assert.deepEqual(Object.keys(webhooks), ['statusHook']);
    assert.match(JSON.stringify(webhooks.statusHook?.post.requestBody), /#\/components\/schemas\/HookEvent/);
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
});
