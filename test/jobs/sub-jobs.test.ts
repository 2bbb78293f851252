import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { startHookReceiver } from '../helpers/hook-receiver.js';
import { waitFor } from '../helpers/wait-for.js';
import { MEMO_STATE, type JobState } from '../../src/shared/job-model.js';
import { SUB_JOBS_IN_MEMO } from '../../src/workflows/state-memo.js';

describe('sub jobs (ctx.launchJob)', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({
      config: testConfig({
        job: { stop_grace_seconds: 2, heartbeat_timeout_seconds: 5, checkin_min_interval_ms: 200, hook_allowed_hosts: ['127.0.0.1'] },
      }),
    });
  });
  after(async () => {
    await h.close();
  });

  it('starts child jobs with upstream_job_id, lists them on the parent, and they outlive a finished parent', async () => {
    const parent = await h.submit({
      name: 'TEST_PARENT',
      parameters: { count: 2, child_step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Generic' },
    });
    assert.equal(parent.multiple_executions, false, 'the 202 says it has no executions yet, as the seed README shows');
    const done = await h.waitForStatus(parent.id, ['Success']);
    assert.equal(done.sub_jobs?.length, 2);
    // The seed README's Job Execution: the same ids as executions, and the flag.
    assert.deepEqual(done.executions, done.sub_jobs);
    assert.equal(done.multiple_executions, true);
    for (const childId of done.sub_jobs!) {
      assert.match(childId, /^[0-9a-f]{24}$/);
      const child = await h.waitForStatus(childId, ['Success']);
      assert.equal(child.upstream_job_id, parent.id);
      assert.equal(child.kind, 'Generic');
      const description = await h.client.workflow.getHandle(childId).describe();
      assert.equal(description.parentExecution?.workflowId, parent.id);
      assert.equal(await description.staticSummary(), `DEMO job (Generic) of upstream job ${parent.id}`);
    }
    const found = await waitFor(
      () => h.client.workflow.count(`UpstreamJobId = "${parent.id}"`),
      (r) => r.count === 2,
      { what: 'the sub jobs by UpstreamJobId' },
    );
    assert.equal(found.count, 2);
  });

  it("a sub job's own status_hook gets its status changes with upstream_job_id; hooks the API would refuse are refused", async () => {
    const receiver = await startHookReceiver();
    try {
      const parent = await h.submit({
        name: 'TEST_HOOKED_PARENT',
        parameters: {
          hook: receiver.url('/sub'),
          refused: ['ftp://core/hook', 'http://admin:pw@core/hook', 'http://core.example/hook'],
        },
        metadata: { kind: 'Generic' },
      });
      const done = await h.waitForStatus(parent.id, ['Success', 'Error'], 30_000);
      assert.equal(done.status, 'Success', done.last_error);
      const { id, reasons } = JSON.parse(done.check_in!) as { id: string; reasons: string[] };
      assert.equal(reasons.length, 3);
      assert.match(reasons[0]!, /launchJob: status_hook ftp:\/\/core\/hook: /);
      assert.match(reasons[1]!, /no credentials/);
      assert.doesNotMatch(reasons[1]!, /pw/, 'the refusal shows no password');
      assert.match(reasons[2]!, /launchJob: status_hook: .*core\.example/);
      assert.deepEqual(done.sub_jobs, [id], 'the refused launches started nothing');
      const events = await waitFor(
        async () => receiver.accepted('/sub'),
        (e) => e.some((event) => event.status === 'Success'),
        { what: "the sub job's Success hook" },
      );
      for (const event of events) {
        assert.equal(event.job_id, id);
        assert.equal(event.metadata.upstream_job_id, parent.id);
      }
      assert.equal((await h.stats(id)).web_hook_url, receiver.url('/sub'));
    } finally {
      await receiver.close();
    }
  });

  it('a sub job of a fan-out type (a batch job, RETENTION) runs as that type does when submitted', async () => {
    const parent = await h.submit({ name: 'TEST_BATCH_PARENT', parameters: { count: 2 }, metadata: { kind: 'Generic' } });
    const done = await h.waitForStatus(parent.id, ['Success', 'Error'], 30_000);
    assert.equal(done.status, 'Success', done.last_error);
    const child = await h.waitForStatus(done.sub_jobs![0]!, ['Success', 'Error', 'Stopped'], 60_000);
    assert.equal(child.status, 'Success', child.last_error);
    assert.equal(child.upstream_job_id, parent.id);
    assert.equal(child.sub_jobs?.length, 2, 'the batch fanned out to its two targets');
  });

  it('a short job that launches a sub job fails at once, saying why, and launches nothing', async () => {
    const parent = await h.submit({ name: 'TEST_SHORT_PARENT', parameters: {}, metadata: { kind: 'Generic' } });
    const done = await h.waitForStatus(parent.id, ['Success', 'Error', 'Stopped'], 30_000);
    assert.equal(done.status, 'Error');
    assert.match(done.last_error ?? '', /a job that launches sub jobs cannot be short/);
    assert.deepEqual(done.sub_jobs ?? [], []);
  });

  it("lists every sub job of a running parent past the memo's share, and its history records no growing list", async () => {
    const count = SUB_JOBS_IN_MEMO + 15;
    const parent = await h.submit({
      name: 'TEST_PARENT',
      parameters: { count, child_step_ms: 0, hold_ms: 60_000, noop: true },
      metadata: { kind: 'Generic' },
    });
    const running = await waitFor(
      () => h.stats(parent.id),
      (s) => s.check_in === `launched ${count}`,
      { what: 'the sub jobs to launch', timeoutMs: 60_000 },
    );
    assert.equal(running.status, 'Running');
    assert.equal(new Set(running.sub_jobs).size, count, 'GET lists every sub job while the parent runs');
    assert.deepEqual(running.executions, running.sub_jobs);
    // Each launch recorded the whole list before: n launches, O(n²) bytes of history.
    const converter = h.client.options.loadedDataConverter.payloadConverter;
    const recorded: number[] = [];
    for (const event of (await h.client.workflow.getHandle(parent.id).fetchHistory()).events ?? []) {
      const payload = event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.[MEMO_STATE];
      if (payload) recorded.push(converter.fromPayload<JobState>(payload).sub_jobs?.length ?? 0);
    }
    assert.ok(recorded.length >= SUB_JOBS_IN_MEMO, `a memo write per launch up to the memo's share: ${recorded.length}`);
    assert.ok(Math.max(...recorded) <= SUB_JOBS_IN_MEMO, `no memo write of a running job lists more: ${Math.max(...recorded)}`);
    assert.ok(recorded.length < count, `launches past the share write no memo: ${recorded.length} writes for ${count} launches`);
    assert.equal((await h.request('POST', `/api/v1/jobs/${parent.id}`, { action: 'stop' })).status, 204);
    const stopped = await h.waitForStatus(parent.id, ['Stopped']);
    assert.deepEqual(stopped.sub_jobs, running.sub_jobs, "the ended job's memo lists them all, in launch order");
  });

  /** A TEST_PARENT holding on for a minute, its two DEMO sub jobs running (30 s steps). */
  const parentWithRunningSubJobs = async () => {
    const parent = await h.submit({
      name: 'TEST_PARENT',
      parameters: { count: 2, child_step_ms: 30_000, hold_ms: 60_000 },
      metadata: { kind: 'Generic' },
    });
    const running = await waitFor(
      () => h.stats(parent.id),
      (s) => s.check_in === 'launched 2',
      { what: 'the sub jobs to launch' },
    );
    for (const childId of running.sub_jobs!) await h.waitForStatus(childId, ['Running']);
    return { parent, children: running.sub_jobs! };
  };

  it('passes a stop of the parent on to its running sub jobs', async () => {
    const { parent, children } = await parentWithRunningSubJobs();
    assert.equal((await h.request('POST', `/api/v1/jobs/${parent.id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(parent.id, ['Stopped']);
    for (const childId of children) await h.waitForStatus(childId, ['Stopped']);
  });

  // Terminated from the Web UI or CLI, its own code never ran to pass the stop on: the 204 stopped none.
  it('a stop of a parent terminated while its sub jobs run (answered 204) reaches the sub jobs it left running', async () => {
    const { parent, children } = await parentWithRunningSubJobs();
    await h.client.workflow.getHandle(parent.id).terminate('operator');
    const stopped = await h.waitForStatus(parent.id, ['Stopped']);
    assert.deepEqual(stopped.sub_jobs, children, 'GET of the parent still lists its sub jobs');
    const stop = await h.request('POST', `/api/v1/jobs/${parent.id}`, { action: 'stop' });
    assert.equal(stop.status, 204);
    // The sub jobs check their signal every step; a stop that reached them ends them within seconds.
    const after = await waitFor(
      () => Promise.all(children.map((id) => h.stats(id))),
      (all) => all.every((s) => s.status !== 'Running'),
      { timeoutMs: 15_000, what: 'the sub jobs to stop' },
    ).catch(async (err: Error) => {
      const now = await Promise.all(children.map((id) => h.stats(id)));
      throw new Error(`${err.message}; parent ${stopped.status}, sub jobs: ${now.map((s) => `${s.id} ${s.status}`).join(', ')}`);
    });
    for (const s of after) assert.equal(s.status, 'Stopped');
  });

  const upstreamCount = async (id: string) => (await h.client.workflow.count(`UpstreamJobId = "${id}"`)).count;

  // writing-a-job.md: "the ended job's memo has them all"; seed README: "The list executions will
  // contain all the ids of the executions (/sub jobs)". A parent terminated from the Web UI/CLI
  // reads as Stopped (architecture.md): an ended job.
  it('a parent terminated from outside with more sub jobs than the memo holds still lists them all', async () => {
    const count = SUB_JOBS_IN_MEMO + 10;
    const parent = await h.submit({
      name: 'TEST_PARENT',
      parameters: { count, child_step_ms: 0, hold_ms: 120_000, noop: true },
      metadata: { kind: 'Generic' },
    });
    const running = await waitFor(
      () => h.stats(parent.id),
      (s) => s.check_in === `launched ${count}`,
      { what: 'the sub jobs to launch', timeoutMs: 90_000 },
    );
    assert.equal(running.sub_jobs?.length, count, 'GET lists them all while it runs');
    await h.client.workflow.getHandle(parent.id).terminate('operator');
    const stopped = await h.waitForStatus(parent.id, ['Stopped']);
    assert.equal(
      stopped.sub_jobs?.length,
      count,
      `GET of the ended (terminated) parent lists ${stopped.sub_jobs?.length} of its ${count} sub jobs`,
    );
    assert.equal(stopped.executions?.length, count);
  });

  // The same for a fan-out job (a batch, RETENTION): its running memo keeps no ids at all.
  it('a fan-out job terminated from outside still lists its sub jobs (targets) as executions', async () => {
    const job = await h.submit({ name: 'TEST_BATCH', parameters: { count: 3, hold_ms: 120_000 }, metadata: { kind: 'Generic' } });
    await waitFor(
      () => upstreamCount(job.id),
      (n) => n === 3,
      { what: 'the three targets to start', timeoutMs: 30_000 },
    );
    // Visibility may list a target before its parent has recorded starting it.
    await waitFor(
      () => h.stats(job.id),
      (s) => s.sub_jobs?.length === 3,
      { what: 'GET of the running fan-out to list its targets' },
    );
    await h.client.workflow.getHandle(job.id).terminate('operator');
    const stopped = await h.waitForStatus(job.id, ['Stopped']);
    assert.equal(stopped.multiple_executions, true, `multiple_executions of the terminated fan-out: ${stopped.multiple_executions}`);
    assert.equal(stopped.sub_jobs?.length, 3, `sub_jobs of the terminated fan-out: ${JSON.stringify(stopped.sub_jobs)}`);
    // clean up: its targets
    await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' });
  });
});
