import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

describe('the log of a job Temporal no longer has', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ config: testConfig() });
  });
  after(async () => {
    await h.close();
  });

  it('a job whose workflow Temporal has deleted (retention, an operator) serves its log alike with and without follow=1', async () => {
    const { id } = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-gone', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(id, ['Success']);
    await h.client.workflowService.deleteWorkflowExecution({
      namespace: h.client.options.namespace,
      workflowExecution: { workflowId: id },
    });
    await waitFor(
      () => h.request('GET', `/api/v1/jobs/${id}`),
      (r) => r.status === 404,
      { what: 'the workflow deleted', timeoutMs: 30_000 },
    );
    assert.ok(existsSync(join(h.logDir, `${id}.log`)), 'the log file is still on disk');
    const plain = await h.request('GET', `/api/v1/jobs/${id}/log`);
    assert.equal(plain.status, 200, 'without follow the log is served');
    const plainText = await plain.text();
    const followed = await h.request('GET', `/api/v1/jobs/${id}/log?follow=1`);
    const followedText = await followed.text();
    assert.equal(followed.status, 200, `follow=1 answered ${followed.status}: ${followedText}`);
    assert.equal(followedText, plainText);
  });
});

describe('a FILE job logger above INFO (Harbor: log.level warning)', () => {
  let h: Harness;
  before(async () => {
    const config = testConfig();
    config.job_loggers[0]!.level = 'WARNING';
    h = await createHarness({ config });
  });
  after(async () => {
    await h.close();
  });

  it('a job that ran and logged nothing at that level has an empty log (200), as Harbor opens the file as the run starts', async () => {
    const { id } = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-quiet', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(id, ['Success']);
    const response = await h.request('GET', `/api/v1/jobs/${id}/log`);
    const body = await response.text();
    assert.equal(response.status, 200, `GET /log of a job that ran answered ${response.status}: ${body}`);
    assert.equal(body, '');
  });
});
