import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

describe('the log of a job Temporal no longer has', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ config: testConfig(), served: true });
  });
  after(async () => {
    await h.close();
  });
  /** As Temporal's retention, a history limit of 0 or an operator deletes it; GET answers 404 then. */
  const deleteWorkflow = async (id: string) => {
    await h.client.workflowService.deleteWorkflowExecution({
      namespace: h.client.options.namespace,
      workflowExecution: { workflowId: id },
    });
    await waitFor(
      () => h.request('GET', `/api/v1/jobs/${id}`),
      (r) => r.status === 404,
      { what: 'the workflow deleted', timeoutMs: 30_000 },
    );
  };

  it('a job whose workflow Temporal has deleted (retention, an operator) serves its log alike with and without follow=1', async () => {
    const { id } = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-gone', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(id, ['Success']);
    await deleteWorkflow(id);
    assert.ok(existsSync(join(h.logDir, `${id}.log`)), 'the log file is still on disk');
    const plain = await h.request('GET', `/api/v1/jobs/${id}/log`);
    assert.equal(plain.status, 200, 'without follow the log is served');
    const plainText = await plain.text();
    const followed = await h.request('GET', `/api/v1/jobs/${id}/log?follow=1`);
    const followedText = await followed.text();
    assert.equal(followed.status, 200, `follow=1 answered ${followed.status}: ${followedText}`);
    assert.equal(followedText, plainText);
  });

  // Served over HTTP: a follow the API cut off shows as a socket closed mid-answer.
  it('a follow of a job whose workflow is deleted meanwhile ends cleanly, as follow=1 of an already deleted job does (history limit 0, namespace retention, an operator)', async () => {
    const { id } = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-follow-gone', step_ms: 1500, hold_ms: 60_000 },
      metadata: { kind: 'Generic' },
    });
    const response = await h.request('GET', `/api/v1/jobs/${id}/log?follow=1`);
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    // Lines arrive while the job runs.
    while (!text.includes('check in 30%')) {
      const { done, value } = await reader.read();
      assert.ok(!done, 'the follow ended before the job did');
      text += decoder.decode(value, { stream: true });
    }
    // The job's workflow goes, as a periodic execution with successful_jobs_history_limit 0 goes
    // once it has closed, or as Temporal's retention or an operator deletes it.
    await deleteWorkflow(id);
    // The follow must now end: the job is gone, so it will write no more.
    let outcome: string;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      outcome = 'ended';
    } catch (err) {
      outcome = `failed: ${(err as Error).message} (${String((err as { cause?: unknown }).cause ?? '')})`;
    }
    assert.equal(outcome, 'ended', 'the chunked answer was cut off instead of ending');
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
