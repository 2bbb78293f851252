import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JobStats } from '../../src/shared/job-model.js';
import { statsQuery } from '../../src/workflows/job-messages.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { startRawReceiver } from '../helpers/raw-receiver.js';

const demo = (params: Record<string, unknown> = {}, metadata: Record<string, unknown> = { kind: 'Generic' }) => ({
  name: 'DEMO',
  parameters: { image: 'demo-app', step_ms: 50, hold_ms: 50, ...params },
  metadata,
});

describe('job lifecycle', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(async () => {
    await h.close();
  });

  /** The job's log once it contains `text` (a run writes its last lines as it winds up). */
  const logWith = (id: string, text: string, what: string) =>
    waitFor(
      async () => (await h.request('GET', `/api/v1/jobs/${id}/log`)).text(),
      (log) => log.includes(text),
      { what },
    );

  it('runs a Generic DEMO job to Success with Harbor stats fields and its check-ins', async () => {
    const submitted = await h.submit({ ...demo(), status_hook: 'http://127.0.0.1:9/hook' });
    assert.match(submitted.id, /^[0-9a-f]{24}$/);
    assert.equal(submitted.status, 'Pending');
    assert.equal(submitted.kind, 'Generic');
    assert.equal(submitted.name, 'DEMO');
    assert.equal(submitted.ref_link, `/api/v1/jobs/${submitted.id}`);
    assert.equal(submitted.web_hook_url, 'http://127.0.0.1:9/hook');
    assert.equal(submitted.unique, false);
    assert.ok(submitted.enqueue_time > 0 && submitted.revision > 0);

    const done = await h.waitForStatus(submitted.id, ['Success']);
    assert.equal(done.check_in, '100%');
    assert.ok(done.check_in_at && done.check_in_at >= submitted.enqueue_time);
    assert.ok(done.update_time >= submitted.enqueue_time);
    assert.deepEqual(done.parameters, demo().parameters);
    assert.equal(done.revision, submitted.revision);
    assert.equal(done.enqueue_time, submitted.enqueue_time);
    assert.equal(submitted.die_at, undefined, 'an open job does not die');
    // A finished job's record lives until the namespace's retention has passed since it closed.
    const namespace = await h.client.workflowService.describeNamespace({ namespace: h.client.options.namespace });
    const retention = Number(namespace.config!.workflowExecutionRetentionTtl!.seconds);
    // Success shows as the workflow wraps up; the die_at comes once it has closed.
    const closedStats = await waitFor(
      () => h.stats(submitted.id),
      (s) => s.die_at !== undefined,
      { what: 'die_at once the workflow has closed' },
    );
    const closed = (await h.client.workflow.getHandle(submitted.id).describe()).closeTime!;
    assert.equal(closedStats.die_at, Math.floor(closed.getTime() / 1000) + retention);
    // The list reads visibility, which learns of the close a little after describe does.
    const [listed] = await waitFor(
      async () =>
        ((await (await h.request('GET', '/api/v1/jobs?name=DEMO&page_size=100')).json()) as { job: JobStats }[]).filter(
          (r) => r.job.id === submitted.id,
        ),
      (rows) => rows[0]?.job.die_at !== undefined,
      { what: 'the listed job’s die_at' },
    );
    assert.equal(listed?.job.die_at, closedStats.die_at);
  });

  it('shows Running with live check-ins while the job runs, and the query returns the same state', async () => {
    const { id } = await h.submit(demo({ step_ms: 1500, hold_ms: 1500 }));
    const running = await waitFor(
      () => h.stats(id),
      (s) => s.status === 'Running' && s.check_in !== undefined,
      {
        what: 'a running check-in',
      },
    );
    assert.match(running.check_in ?? '', /^(30|60|100)%$/);
    const live = await h.client.workflow.getHandle(id).query(statsQuery);
    assert.equal(live.status, 'Running');
    assert.equal(live.revision, running.revision);
    await h.waitForStatus(id, ['Success']);
  });

  /** The reports a job's runs sent its workflow: signals and updates, by name. */
  const reports = async (id: string) => {
    const history = await h.client.workflow.getHandle(id).fetchHistory();
    return (history.events ?? [])
      .map(
        (e) =>
          e.workflowExecutionSignaledEventAttributes?.signalName ??
          e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name,
      )
      .filter((name): name is string => Boolean(name));
  };

  it('reports Running only for runs that last: a quick job saves the signal, a silent long one still shows Running', async () => {
    const quick = await h.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } });
    await h.waitForStatus(quick.id, ['Success']);
    assert.deepEqual(await reports(quick.id), [], 'a job done within running_report_delay_ms sends no Running report');

    const slow = await h.submit({ name: 'NOOP', parameters: { duration_ms: 3000 }, metadata: { kind: 'Generic' } });
    const running = await h.waitForStatus(slow.id, ['Running']);
    assert.equal(running.check_in, undefined, 'Running without any check-in');
    // The report reaches the workflow, so lists and the Web UI say Running too.
    await waitFor(
      async () => (await h.client.workflow.getHandle(slow.id).describe()).searchAttributes.JobStatus?.[0],
      (status) => status === 'Running' || status === 'Success',
      { what: 'the Running report in the search attribute' },
    );
    await h.waitForStatus(slow.id, ['Success']);
    assert.deepEqual(await reports(slow.id), ['reportStarted']);
  });

  it('a job that checks in is Running through its check-ins alone, without a separate Running report', async () => {
    const chatty = await h.submit({ name: 'TEST_CHATTY', parameters: { count: 3, interval_ms: 400 }, metadata: { kind: 'Generic' } });
    const running = await h.waitForStatus(chatty.id, ['Running', 'Success']);
    assert.equal(running.status, 'Running', 'shown Running while it runs');
    await h.waitForStatus(chatty.id, ['Success']);
    const sent = await reports(chatty.id);
    assert.ok(sent.includes('reportCheckIn'));
    assert.equal(sent.includes('reportStarted'), false, `reports: ${sent.join(', ')}`);
  });

  it('keeps a job Pending while no worker has started it (a backlog is not Running)', async () => {
    await h.stopWorker();
    let id: string;
    try {
      ({ id } = await h.submit(demo()));
      // Describe is answered by the server alone: the job is readable with no worker at all.
      assert.equal((await h.stats(id)).status, 'Pending');
    } finally {
      await h.startWorker();
    }
    await h.waitForStatus(id, ['Success']);
  });

  it('runs a Scheduled job after its delay, showing Scheduled and run_at meanwhile', async () => {
    const job = await h.submit(demo({}, { kind: 'Scheduled', schedule_delay: 2 }));
    assert.equal(job.status, 'Scheduled');
    assert.equal(job.kind, 'Scheduled');
    assert.equal(job.run_at, job.enqueue_time + 2);
    const still = await h.stats(job.id);
    assert.equal(still.status, 'Scheduled');
    const done = await h.waitForStatus(job.id, ['Success']);
    assert.equal(done.run_at, job.run_at);
    const description = await h.client.workflow.getHandle(job.id).describe();
    assert.equal(description.type, 'ScheduledJob');
  });

  it("ignores the Harbor fields a kind does not take, as Harbor does: the seed README's Generic example runs at once", async () => {
    // The seed's example submits a Generic job with a delay, a cron spec and unique; Harbor reads
    // the delay for Scheduled jobs only, the cron spec for Periodic ones only, and ignores unique on those.
    const generic = await h.submit(demo({}, { kind: 'Generic', schedule_delay: 90, cron_spec: '* 5 * * * *', unique: false }));
    assert.equal(generic.kind, 'Generic');
    assert.equal(generic.run_at, undefined);
    assert.equal(generic.cron_spec, undefined);
    assert.equal((await h.waitForStatus(generic.id, ['Success', 'Error'], 30_000)).status, 'Success');
    assert.equal((await h.client.workflow.getHandle(generic.id).describe()).type, 'GenericJob');

    const scheduled = await h.submit(demo({}, { kind: 'Scheduled', schedule_delay: 3600, cron_spec: '* 5 * * * *' }));
    assert.equal(scheduled.status, 'Scheduled');
    assert.equal(scheduled.run_at, scheduled.enqueue_time + 3600);
    assert.equal(scheduled.cron_spec, undefined);

    const periodic = await h.submit(demo({}, { kind: 'Periodic', cron_spec: '0 0 0 1 1 *', schedule_delay: 90, unique: true }));
    assert.equal(periodic.kind, 'Periodic');
    assert.equal(periodic.unique, false);
    assert.equal(periodic.run_at, undefined);
    assert.match(periodic.next_run_times?.[0] ?? '', /-01-01T00:00:00/, 'on its cron spec');
    for (const id of [scheduled.id, periodic.id])
      assert.equal((await h.request('POST', `/api/v1/jobs/${id}`, { action: 'stop' })).status, 204);
  });

  it('stops a running job through activity cancellation; the job sees opCommand() = stop', async () => {
    const { id } = await h.submit(demo({ step_ms: 30_000 }));
    await h.waitForStatus(id, ['Running']);
    const started = Date.now();
    const response = await h.request('POST', `/api/v1/jobs/${id}`, { action: 'stop' });
    assert.equal(response.status, 204);
    const stopped = await h.waitForStatus(id, ['Stopped'], 10_000);
    assert.ok(Date.now() - started < 10_000);
    assert.equal(stopped.status, 'Stopped');
    const log = await logWith(id, 'run ended after stop', 'the log to record the stop');
    assert.match(log, /received stop after 30%/);
  });

  it('a job that first looks at its signal after a stop finds it aborted, with the stop as its reason', async () => {
    const { id } = await h.submit({ name: 'TEST_LATE_SIGNAL', parameters: {}, metadata: { kind: 'Generic' } });
    await h.waitForStatus(id, ['Running']);
    assert.equal((await h.request('POST', `/api/v1/jobs/${id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(id, ['Stopped'], 10_000);
    const log = await logWith(id, 'late signal:', 'the job to report its late signal');
    const [, aborted, reason, sleptMs] = /late signal: aborted=(\w+) reason=(\w+) sleep_ms=(\d+)/.exec(log) ?? [];
    assert.equal(aborted, 'true');
    assert.equal(reason, 'stop');
    // Its 10 s sleep on an aborted signal returns at once.
    assert.ok(Number(sleptMs) < 1_000, `slept ${sleptMs} ms on an aborted signal`);
  });

  it('cancels a running job: status Cancelled and the job sees opCommand() = cancel', async () => {
    const { id } = await h.submit(demo({ step_ms: 30_000 }));
    await h.waitForStatus(id, ['Running']);
    assert.equal((await h.request('POST', `/api/v1/jobs/${id}`, { action: 'cancel' })).status, 204);
    await h.waitForStatus(id, ['Cancelled'], 10_000);
    const log = await logWith(id, 'run ended after cancel', 'the log to record the cancel');
    assert.match(log, /received cancel after 30%/);
  });

  it('marks a job that ignores the stop as Stopped after the grace period; /stats counts the slot it still holds until it returns', async () => {
    const { id } = await h.submit(demo({ step_ms: 4_000, hold_ms: 0, ignore_stop: true }));
    await h.waitForStatus(id, ['Running']);
    const asked = Date.now();
    await h.request('POST', `/api/v1/jobs/${id}`, { action: 'stop' });
    await h.waitForStatus(id, ['Stopped'], 10_000);
    const waited = Date.now() - asked;
    // stop_grace_seconds is 2 in tests: not before the grace period, and not long after it.
    assert.ok(waited >= 1_500, `stopped after ${waited} ms, before the grace period`);
    const abandonedRuns = async () =>
      ((await (await h.request('GET', '/api/v1/stats')).json()) as { worker_pools: { abandoned_runs: number }[] }).worker_pools.reduce(
        (sum, pool) => sum + pool.abandoned_runs,
        0,
      );
    // The job is final, but its code still runs on a worker: Temporal shows the activity there, /stats counts it.
    const running = await h.client.workflow.getHandle(id).describe();
    assert.equal(running.status.name, 'RUNNING');
    assert.equal(running.raw.pendingActivities?.length, 1);
    // /stats finds it through visibility, which follows the Stopped status a moment later.
    assert.equal(await waitFor(abandonedRuns, (n) => n === 1, { what: 'the abandoned run counted in /stats' }), 1);
    assert.equal((await h.stats(id)).status, 'Stopped');
    await waitFor(
      async () => (await h.client.workflow.getHandle(id).describe()).status.name,
      (status) => status === 'COMPLETED',
      { what: 'the workflow to close once the abandoned run returned', timeoutMs: 20_000 },
    );
    assert.equal(await abandonedRuns(), 0);
    assert.equal((await h.stats(id)).status, 'Stopped', 'the late end of the run changes nothing');
  });

  it('counts only the run itself as an abandoned slot, not a hook delivery still in flight', async () => {
    const receiver = await startRawReceiver();
    receiver.setDelayMs(60_000);
    try {
      const { id } = await h.submit({ ...demo({ step_ms: 6_000, hold_ms: 0, ignore_stop: true }), status_hook: receiver.url('slow') });
      await h.waitForStatus(id, ['Running']);
      await h.request('POST', `/api/v1/jobs/${id}`, { action: 'stop' });
      await h.waitForStatus(id, ['Stopped'], 10_000);
      const pendingTypes = async () =>
        ((await h.client.workflow.getHandle(id).describe()).raw.pendingActivities ?? []).map((a) => a.activityType?.name).sort();
      // The Running hook hangs at the receiver (10 s timeout) while the run ignores its stop.
      assert.deepEqual(await pendingTypes(), ['deliverHook', 'executeJob']);
      const abandonedRuns = async () =>
        ((await (await h.request('GET', '/api/v1/stats')).json()) as { worker_pools: { abandoned_runs: number }[] }).worker_pools.reduce(
          (sum, pool) => sum + pool.abandoned_runs,
          0,
        );
      const counted = await waitFor(abandonedRuns, (n) => n > 0, { what: 'the abandoned run counted in /stats' });
      assert.deepEqual(await pendingTypes(), ['deliverHook', 'executeJob'], 'both still pending when /stats counted');
      assert.equal(counted, 1);
    } finally {
      await receiver.close();
    }
  });

  it('never runs a Scheduled job stopped before it is due', async () => {
    const { id } = await h.submit(demo({}, { kind: 'Scheduled', schedule_delay: 60 }));
    assert.equal((await h.request('POST', `/api/v1/jobs/${id}`, { action: 'stop' })).status, 204);
    const stopped = await h.waitForStatus(id, ['Stopped']);
    assert.equal(stopped.check_in, undefined);
    assert.equal((await h.request('GET', `/api/v1/jobs/${id}/log`)).status, 404);
  });

  it('never runs a Pending job cancelled before a worker picked it up', async () => {
    await h.stopWorker();
    let id: string;
    try {
      ({ id } = await h.submit(demo()));
      assert.equal((await h.request('POST', `/api/v1/jobs/${id}`, { action: 'cancel' })).status, 204);
    } finally {
      await h.startWorker();
    }
    const cancelled = await h.waitForStatus(id, ['Cancelled']);
    assert.equal(cancelled.check_in, undefined);
    assert.equal((await h.request('GET', `/api/v1/jobs/${id}/log`)).status, 404);
  });

  it('answers 204 and changes nothing when stopping or cancelling a finished job', async () => {
    const { id } = await h.submit(demo());
    const done = await h.waitForStatus(id, ['Success']);
    for (const action of ['stop', 'cancel']) {
      assert.equal((await h.request('POST', `/api/v1/jobs/${id}`, { action })).status, 204);
    }
    assert.deepEqual(await h.stats(id), done);
  });

  it('retries a failing job per maxFails, ends in Error, and fails the workflow in Temporal', async () => {
    const { id, revision } = await h.submit({ name: 'TEST_FAIL', parameters: { message: 'disk on fire' }, metadata: { kind: 'Generic' } });
    const failed = await h.waitForStatus(id, ['Error']);
    assert.equal(failed.fails, 2);
    assert.equal(failed.last_error, 'disk on fire');
    assert.ok(failed.revision > revision, 'the automatic retry ran under a new revision');
    const description = await h.client.workflow.getHandle(id).describe();
    assert.equal(description.status.name, 'FAILED');
    const found = await waitFor(
      () => h.client.workflow.count(`JobName = "TEST_FAIL" AND JobStatus = "Error" AND WorkflowId = "${id}"`),
      (r) => r.count === 1,
      { what: 'the Error job to be found by search attributes' },
    );
    assert.equal(found.count, 1);
  });

  it('does not retry a job whose shouldRetry is false, whatever maxFails allows', async () => {
    const { id, revision } = await h.submit({ name: 'TEST_NO_RETRY', parameters: {}, metadata: { kind: 'Generic' } });
    const failed = await h.waitForStatus(id, ['Error']);
    assert.equal(failed.fails, 1);
    assert.equal(failed.revision, revision);
    assert.equal(failed.last_error, 'not worth retrying');
  });

  it('retry starts a new revision of the same job id; retry of a job not in Error is 409', async () => {
    const { id } = await h.submit({ name: 'TEST_FAIL', parameters: {}, metadata: { kind: 'Generic' } });
    const first = await h.waitForStatus(id, ['Error']);
    assert.equal((await h.request('POST', `/api/v1/jobs/${id}`, { action: 'retry' })).status, 204);
    const second = await waitFor(
      () => h.stats(id),
      (s) => s.revision > first.revision && s.status === 'Error',
      {
        what: 'the retried revision to fail again',
      },
    );
    assert.equal(second.id, id);
    assert.equal(second.enqueue_time, first.enqueue_time);
    // The new run counts its own failures under the type's retry policy: as many as the first, not added to them.
    assert.equal(second.fails, first.fails);

    const ok = await h.submit(demo());
    await h.waitForStatus(ok.id, ['Success']);
    const conflict = await h.request('POST', `/api/v1/jobs/${ok.id}`, { action: 'retry' });
    assert.equal(conflict.status, 409);
    assert.equal(((await conflict.json()) as { code: number }).code, 10012);
  });

  it('retries a Stopped job: the new revision runs to Success', async () => {
    const { id } = await h.submit(demo({}, { kind: 'Scheduled', schedule_delay: 600 }));
    await h.request('POST', `/api/v1/jobs/${id}`, { action: 'stop' });
    const stopped = await h.waitForStatus(id, ['Stopped']);
    assert.equal((await h.request('POST', `/api/v1/jobs/${id}`, { action: 'retry' })).status, 204);
    const done = await waitFor(
      () => h.stats(id),
      (s) => s.revision > stopped.revision && s.status === 'Success',
      {
        what: 'the retried job to succeed',
      },
    );
    assert.equal(done.check_in, '100%');
  });

  it('gives a job the configured job properties through ctx.get', async () => {
    await h.close();
    const { testConfig } = await import('../helpers/harness.js');
    h = await createHarness({ config: testConfig({ job_properties: { email_from: 'ops@example.test' } }) });
    const { id } = await h.submit({ name: 'TEST_PROPERTY', parameters: { key: 'email_from' }, metadata: { kind: 'Generic' } });
    const done = await h.waitForStatus(id, ['Success']);
    assert.equal(done.check_in, 'property email_from=ops@example.test');
  });

  it('coalesces a chatty job’s check-ins so its history stays small, and keeps the last one', async () => {
    const { id } = await h.submit({ name: 'TEST_CHATTY', parameters: { count: 300, interval_ms: 5 }, metadata: { kind: 'Generic' } });
    const done = await h.waitForStatus(id, ['Success']);
    assert.equal(done.check_in, '300/300');
    const description = await h.client.workflow.getHandle(id).describe();
    // 300 check-ins over ~1.5 s at one per 200 ms: a few dozen events, not hundreds of signals.
    assert.ok(description.historyLength < 120, `history has ${description.historyLength} events`);
  });

  it('a retry whose deletion of the retried run fails (the API killed after the start) still leaves one row: the new run deletes it', async () => {
    const { id } = await h.submit({ name: 'TEST_FAIL', parameters: {}, metadata: { kind: 'Generic' } });
    const first = await h.waitForStatus(id, ['Error']);
    const service = h.client.workflowService;
    const original = service.deleteWorkflowExecution.bind(service);
    let injected = 0;
    (service as { deleteWorkflowExecution: unknown }).deleteWorkflowExecution = async (request: never) => {
      if (injected === 0) {
        injected += 1;
        throw new Error('14 UNAVAILABLE: injected where the API would be killed');
      }
      return original(request);
    };
    try {
      assert.equal((await h.request('POST', `/api/v1/jobs/${id}`, { action: 'retry' })).status, 204);
    } finally {
      (service as { deleteWorkflowExecution: unknown }).deleteWorkflowExecution = original;
    }
    assert.equal(injected, 1);
    await waitFor(
      () => h.stats(id),
      (s) => s.revision > first.revision && s.status === 'Error',
      { what: 'the retried revision to end' },
    );
    const rows = await waitFor(
      async () =>
        ((await (await h.request('GET', '/api/v1/jobs?name=TEST_FAIL&page_size=100')).json()) as { job: JobStats }[]).filter(
          (r) => r.job.id === id,
        ),
      (found) => found.length === 1,
      { what: 'the job listed once' },
    );
    assert.ok(rows[0]!.job.revision > first.revision);
  });
});
