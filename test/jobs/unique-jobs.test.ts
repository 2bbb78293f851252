import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { uniqueJobId } from '../../src/api/unique-job-id.js';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { resetWorkflow } from '../helpers/temporal-cli.js';

describe('unique jobs', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ config: testConfig({ max_retrieve_size_mb: 0.0001 }) });
  });
  after(async () => {
    await h.close();
  });

  it('refuses a second unique job with the same name and parameters with 409 naming the first', async () => {
    const parameters = { image: 'demo-unique', step_ms: 1500, hold_ms: 0 };
    const first = await h.submit({ name: 'DEMO', parameters, metadata: { kind: 'Generic', unique: true } });
    assert.equal(first.unique, true);
    assert.equal(first.id, uniqueJobId('DEMO', parameters));
    // The same parameters in another key order are the same job.
    const reordered = { hold_ms: 0, step_ms: 1500, image: 'demo-unique' };
    const second = await h.request('POST', '/api/v1/jobs', {
      job: { name: 'DEMO', parameters: reordered, metadata: { kind: 'Generic', unique: true } },
    });
    assert.equal(second.status, 409);
    const body = (await second.json()) as { code: number; description: string; job_id?: string };
    assert.equal(body.code, 10012);
    assert.match(body.description, new RegExp(first.id));
    assert.equal(body.job_id, first.id, 'the active job is named in a field, not only in the text');
    // Other parameters, or a non-unique submit, are separate jobs.
    const other = await h.submit({
      name: 'DEMO',
      parameters: { ...parameters, image: 'demo-other' },
      metadata: { kind: 'Generic', unique: true },
    });
    assert.notEqual(other.id, first.id);
    const plain = await h.submit({ name: 'DEMO', parameters, metadata: { kind: 'Generic' } });
    assert.notEqual(plain.id, first.id);

    // Once the first has finished, the same unique job may run again under the same id.
    const done = await h.waitForStatus(first.id, ['Success']);
    const again = await waitFor(
      () => h.request('POST', '/api/v1/jobs', { job: { name: 'DEMO', parameters, metadata: { kind: 'Generic', unique: true } } }),
      (r) => r.status === 202,
      { what: 'the unique job to be accepted again' },
    );
    const rerun = ((await again.json()) as { job: JobStats }).job;
    assert.equal(rerun.id, first.id);
    assert.ok(rerun.revision > done.revision, `the rerun's revision ${rerun.revision} follows ${done.revision}`);
    await h.waitForStatus(first.id, ['Success']);
    await h.waitForStatus(other.id, ['Success']);
    await h.waitForStatus(plain.id, ['Success']);
  });

  it('a unique job that ended while its sub jobs still run is not run again beside them (409), and is once they have ended', async () => {
    const job = {
      name: 'TEST_PARENT',
      parameters: { count: 1, child_step_ms: 1500, hold_ms: 0 },
      metadata: { kind: 'Generic', unique: true },
    };
    const first = await h.submit(job);
    const done = await h.waitForStatus(first.id, ['Success']);
    const child = done.sub_jobs![0]!;
    assert.notEqual((await h.stats(child)).status, 'Success', 'the sub job still runs');
    const again = await h.request('POST', '/api/v1/jobs', { job });
    assert.equal(again.status, 409, await again.text());
    await h.waitForStatus(child, ['Success']);
    const later = await waitFor(
      () => h.request('POST', '/api/v1/jobs', { job }),
      (r) => r.status !== 409,
      { what: 'the resubmit accepted once the sub job has ended' },
    );
    assert.equal(later.status, 202);
  });

  it('a unique job terminated by an operator is not run again while its run may still work on its worker (409), as a retry is not', async () => {
    const job = {
      name: 'DEMO',
      parameters: { image: 'demo-unique-terminated', step_ms: 3_000, hold_ms: 0, ignore_stop: true },
      metadata: { kind: 'Generic', unique: true },
    };
    const first = await h.submit(job);
    await h.waitForStatus(first.id, ['Running']);
    await h.client.workflow.getHandle(first.id).terminate('operator');
    await h.waitForStatus(first.id, ['Stopped']);
    const again = await h.request('POST', '/api/v1/jobs', { job });
    assert.equal(again.status, 409, await again.clone().text());
    // Once a heartbeat timeout and the stop grace have passed, the job id takes a new run.
    const later = await waitFor(
      () => h.request('POST', '/api/v1/jobs', { job }),
      (response) => response.status === 202,
      { what: 'the resubmit accepted once the terminated run can no longer work', timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.equal(later.status, 202);
    await h.waitForStatus(first.id, ['Success'], 30_000);
  });

  it('a rerun within the same second gets a later revision, and the job stays one row in lists', async () => {
    const parameters = { duration_ms: 0 };
    const submit = () =>
      h.request('POST', '/api/v1/jobs', { job: { name: 'NOOP', parameters, metadata: { kind: 'Generic', unique: true } } });
    const first = ((await (await submit()).json()) as { job: JobStats }).job;
    const done = await h.waitForStatus(first.id, ['Success']);
    const again = await waitFor(submit, (r) => r.status === 202, { what: 'the unique NOOP to be accepted again' });
    const rerun = ((await again.json()) as { job: JobStats }).job;
    assert.equal(rerun.id, first.id);
    assert.ok(rerun.revision > done.revision, `the rerun's revision ${rerun.revision} follows ${done.revision}`);
    const second = await h.waitForStatus(first.id, ['Success']);
    assert.equal(second.revision, rerun.revision);
    const rows = await waitFor(
      async () =>
        ((await (await h.request('GET', '/api/v1/jobs?name=NOOP&page_size=100')).json()) as { job: JobStats }[])
          .map((r) => r.job)
          .filter((j) => j.id === first.id),
      (r) => r.length === 1 && r[0]!.revision === rerun.revision,
      { what: 'one row for the unique job once its first run is deleted' },
    );
    assert.equal(rows[0]!.revision, rerun.revision);
  });

  /** The HookDelivery workflow a finished job handed its undelivered hooks to. */
  const handedOver = (id: string, revision: number) =>
    waitFor(
      () => h.client.workflow.count(`WorkflowId = '${id}-hooks-${revision}'`),
      (r) => r.count === 1,
      { what: `the hooks of ${id} handed over` },
    );

  it('a unique job that finished but still delivers its hooks is accepted again at once; its hooks are handed over', async () => {
    const parameters = { image: 'demo-unique-draining', step_ms: 0, hold_ms: 0 };
    const job = { name: 'DEMO', parameters, status_hook: 'http://127.0.0.1:1/never', metadata: { kind: 'Generic', unique: true } };
    const first = await h.submit(job);
    const done = await h.waitForStatus(first.id, ['Success']);
    const { runId } = await h.client.workflow.getHandle(first.id).describe();
    assert.equal((await h.client.workflow.getHandle(first.id).describe()).status.name, 'RUNNING', 'open while its hooks retry');
    // No waiting for the receiver: the first answer is the one that counts.
    const again = await h.request('POST', '/api/v1/jobs', { job });
    assert.equal(again.status, 202, await again.clone().text());
    const rerun = ((await again.json()) as { job: JobStats }).job;
    assert.equal(rerun.id, first.id);
    assert.ok(rerun.revision > done.revision);
    const delivery = await handedOver(first.id, done.revision);
    assert.equal(delivery.count, 1);
    assert.notEqual((await h.client.workflow.getHandle(first.id).describe()).runId, runId, 'a new run');
    await h.waitForStatus(first.id, ['Success']);
    await h.client.workflow.getHandle(`${first.id}-hooks-${done.revision}`).terminate('test over');
  });

  it('a retry of a failed job that still delivers its hooks starts at once; one whose ignored run still works answers 409', async () => {
    const failed = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-retry-draining', step_ms: 0, hold_ms: 0, fail: true },
      status_hook: 'http://127.0.0.1:1/never',
      metadata: { kind: 'Generic' },
    });
    const error = await h.waitForStatus(failed.id, ['Error'], 60_000);
    assert.equal((await h.client.workflow.getHandle(failed.id).describe()).status.name, 'RUNNING', 'open while its hooks retry');
    const retried = await h.request('POST', `/api/v1/jobs/${failed.id}`, { action: 'retry' });
    assert.equal(retried.status, 204, await retried.text());
    await handedOver(failed.id, error.revision);
    const rerun = await waitFor(
      () => h.stats(failed.id),
      (s) => s.status === 'Error' && s.revision > error.revision,
      { what: 'the retried run to fail in turn', timeoutMs: 60_000 },
    );
    assert.ok(rerun.revision > error.revision);

    const stubborn = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-retry-abandoned', step_ms: 3000, hold_ms: 0, ignore_stop: true },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(stubborn.id, ['Running']);
    assert.equal((await h.request('POST', `/api/v1/jobs/${stubborn.id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(stubborn.id, ['Stopped']);
    const refused = await h.request('POST', `/api/v1/jobs/${stubborn.id}`, { action: 'retry' });
    assert.equal(refused.status, 409);
    const body = (await refused.json()) as { code: number; description: string };
    assert.equal(body.code, 10012);
    assert.match(body.description, /work it started still runs/);
    assert.equal((await h.client.workflow.getHandle(stubborn.id).describe()).status.name, 'RUNNING', 'left to finish its run');
  });

  it('a unique resubmit of a reset job that still delivers its hooks leaves one run: neither the reset one nor the replaced one stays', async () => {
    const job = {
      name: 'DEMO',
      parameters: { image: 'demo-unique-reset', step_ms: 1500, hold_ms: 0 },
      status_hook: 'http://127.0.0.1:1/never',
      metadata: { kind: 'Generic', unique: true },
    };
    const first = await h.submit(job);
    await h.waitForStatus(first.id, ['Running']);
    const { runId: replaced } = await h.client.workflow.getHandle(first.id).describe();
    // A reset to a point after the run started: the re-run asks for the deletion only at its end.
    resetWorkflow(h.config.temporal.address!, first.id, 'LastWorkflowTask', 're-run');
    const reset = await waitFor(
      async () => (await h.client.workflow.getHandle(first.id).describe()).runId,
      (runId) => runId !== replaced,
      { what: 'the reset run' },
    );
    const done = await h.waitForStatus(first.id, ['Success'], 60_000);
    const again = await h.request('POST', '/api/v1/jobs', { job });
    assert.equal(again.status, 202, await again.clone().text());
    const runs = async () => {
      const listed: string[] = [];
      for await (const run of h.client.workflow.list({ query: `WorkflowId = '${first.id}'` })) listed.push(run.runId);
      return listed;
    };
    await waitFor(runs, (r) => r.length === 1 && r[0] !== replaced && r[0] !== reset, {
      what: 'the resubmitted run alone',
      timeoutMs: 30_000,
    });
    await h.waitForStatus(first.id, ['Success']);
    await h.client.workflow
      .getHandle(`${first.id}-hooks-${done.revision}`)
      .terminate('test over')
      .catch(() => undefined);
  });

  it('a retry of a stopped fan-out job whose targets ignored the stop and still run answers 409', async () => {
    const job = await h.submit({
      name: 'TEST_BATCH',
      parameters: { count: 2, hold_ms: 8000, ignore_stop: true },
      metadata: { kind: 'Generic' },
    });
    await waitFor(
      async () => (await h.client.workflow.count(`UpstreamJobId = '${job.id}' AND ExecutionStatus = 'Running'`)).count,
      (n) => n >= 2,
      { what: 'its targets running' },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(job.id, ['Stopped']);
    const refused = await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'retry' });
    assert.equal(refused.status, 409, await refused.clone().text());
    assert.match(((await refused.json()) as { description: string }).description, /work it started still runs/);
    assert.equal((await h.client.workflow.getHandle(job.id).describe()).status.name, 'RUNNING', 'left to outlive its targets');
    // Once its targets have returned it closes, and a retry goes through.
    await waitFor(
      async () => (await h.client.workflow.getHandle(job.id).describe()).status.name,
      (s) => s !== 'RUNNING',
      { what: 'the stopped job to outlive its targets', timeoutMs: 30_000 },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'retry' })).status, 204);
    await h.waitForStatus(job.id, ['Success'], 60_000);
  });

  // A resubmit whose read found the first run open and not final left the 409 to the start; the
  // run closing in between let the start through as a first run: the same revision, two rows.
  it('a resubmit racing the first run’s end gets a later revision and leaves one row', async () => {
    const anomalies: string[] = [];
    for (let i = 1; i <= 5 && anomalies.length === 0; i++) {
      const job = { name: 'NOOP', parameters: { duration_ms: 0, checkin_every_ms: 1000 + i }, metadata: { kind: 'Generic', unique: true } };
      const first = await h.submit(job);
      // Resubmit at once, again and again, until it is accepted: the first run ends meanwhile.
      let rerun: JobStats | undefined;
      for (let n = 0; n < 2000 && !rerun; n++) {
        const response = await h.request('POST', '/api/v1/jobs', { job });
        if (response.status === 202) rerun = ((await response.json()) as { job: JobStats }).job;
        else assert.equal(response.status, 409, await response.text());
      }
      assert.ok(rerun, 'the resubmit was accepted once the first run ended');
      await h.waitForStatus(first.id, ['Success']);
      if (!(rerun.revision > first.revision))
        anomalies.push(`${first.id}: rerun revision ${rerun.revision} is not after ${first.revision}`);
      // Give the deletion of the first run 20 s to reach visibility, then count the job's rows.
      const listed = async () =>
        ((await (await h.request('GET', '/api/v1/jobs?name=NOOP&page_size=100')).json()) as { job: JobStats }[]).filter(
          (r) => r.job.id === first.id,
        );
      const rows = await waitFor(listed, (r) => r.length === 1, { timeoutMs: 20_000, what: 'one row' }).catch(() => listed());
      if (rows.length !== 1)
        anomalies.push(`${first.id}: listed ${rows.length} times (revisions ${rows.map((r) => r.job.revision).join(', ')})`);
    }
    assert.deepEqual(anomalies, []);
  });
});
