import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { HookEvent } from '../../src/shared/hook-event.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { waitFor } from '../helpers/wait-for.js';
import { deleteSchedules } from '../helpers/schedules.js';
import type { JobStats } from '../../src/shared/job-model.js';

const nowSec = () => Math.floor(Date.now() / 1000);

/**
 * Harbor's tracker fires a hook on every status change of every run: Run() → Running before the
 * job's code, Fail() → Error when a run fails (before gocraft's retry resets it to Pending under a
 * new revision). docs/architecture.md: "on every status change (`Running`, then one of `Success`,
 * `Error`, `Stopped`, `Cancelled`)".
 */
describe('a hook for every status change Harbor would send', () => {
  let h: Harness;
  let receiver: HookReceiver;
  before(async () => {
    receiver = await startHookReceiver();
    h = await createHarness({
      config: testConfig({
        job: {
          stop_grace_seconds: 2,
          heartbeat_timeout_seconds: 5,
          checkin_min_interval_ms: 100,
          hook_retry_initial_ms: 100,
          hook_retry_max_seconds: 1,
          hook_drain_ms: 1000,
        },
      }),
    });
  });
  /** Periodic jobs a test made: their schedules go with the suite. */
  const schedules: string[] = [];
  after(async () => {
    await deleteSchedules(h.client, schedules);
    await h.close();
    await receiver.close();
  });
  const path = () => randomBytes(6).toString('hex');
  const shown = (events: HookEvent[]) => events.map((e) => `${e.status}@${e.metadata.revision}${e.check_in ? '(ci)' : ''}`).join(', ');
  const finalHook = (hookPath: string) =>
    waitFor(
      async () => receiver.accepted(hookPath),
      (e) => e.some((x) => ['Success', 'Error', 'Stopped'].includes(x.status)),
      { what: 'the final hook', timeoutMs: 30_000 },
    );

  /** A NOOP with `parameters` and a status hook: the statuses its receiver got once the job has closed. */
  const noopHookStatuses = async (parameters: Record<string, unknown>) => {
    const hookPath = path();
    const job = await h.submit({ name: 'NOOP', parameters, status_hook: receiver.url(hookPath), metadata: { kind: 'Generic' } });
    assert.equal((await h.waitForStatus(job.id, ['Success', 'Error'])).status, 'Success');
    await finalHook(hookPath);
    // Nothing else is on its way: the job's workflow has closed with its outbox drained.
    await waitFor(
      () => h.client.workflow.getHandle(job.id).describe(),
      (d) => d.status.name !== 'RUNNING',
      { what: 'the job to close' },
    );
    return { statuses: receiver.accepted(hookPath).map((e) => e.status), got: shown(receiver.accepted(hookPath)) };
  };

  it('a job that ends within running_report_delay_ms (a NOOP of 50 ms) posts Running before Success', async () => {
    const { statuses, got } = await noopHookStatuses({ duration_ms: 50 });
    assert.deepEqual(statuses, ['Running', 'Success'], `got: ${got}`);
  });

  it('a short job (a NOOP that does not wait) posts Running before Success', async () => {
    const { statuses, got } = await noopHookStatuses({});
    assert.deepEqual(statuses, ['Running', 'Success'], `got: ${got}`);
  });

  it('a job retried after failed runs posts Running and Error for each of its runs (revisions), as Harbor does', async () => {
    const hookPath = path();
    // DEMO: maxFails 3; each run checks in (so it reports Running) and then fails.
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-retry-hooks', step_ms: 300, hold_ms: 0, fail: true },
      status_hook: receiver.url(hookPath),
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Error', 'Success'], 60_000);
    assert.equal(done.status, 'Error');
    assert.equal(done.fails, 3);
    const events = await waitFor(
      async () => receiver.accepted(hookPath),
      (e) => e.some((x) => x.status === 'Error' && x.metadata.revision === done.revision),
      { what: 'the last Error hook', timeoutMs: 30_000 },
    );
    const statusEvents = events.filter((e) => e.check_in === undefined);
    const revisions = [...new Set(events.map((e) => e.metadata.revision))];
    assert.equal(revisions.length, 3, `three runs, three revisions: ${shown(events)}`);
    for (const revision of revisions) {
      const ofRun = statusEvents.filter((e) => e.metadata.revision === revision).map((e) => e.status);
      assert.deepEqual(ofRun, ['Running', 'Error'], `revision ${revision}: ${shown(events)}`);
    }
  });

  // run_at and update_time in GET and the hooks' metadata, as Harbor writes them: a Scheduled
  // stats always has run_at (job/models.go Stats.Validate; a periodic execution's is its fire,
  // period/enqueuer.go); a retry's reset keeps it (common/rds/scripts.go statusResetScriptText);
  // every status write stamps update_time now, and the hook's metadata is the stats as written.
  it('a Scheduled job that fails and is retried keeps its run_at (GET and every hook), as Harbor’s reset keeps it', async () => {
    const hookPath = path();
    const job = await h.submit({
      name: 'TEST_FAIL',
      parameters: {},
      status_hook: receiver.url(hookPath),
      metadata: { kind: 'Scheduled', schedule_delay: 1 },
    });
    assert.equal(job.run_at, job.enqueue_time + 1);
    const done = await h.waitForStatus(job.id, ['Error']);
    assert.equal(done.fails, 2, 'it ran twice (maxFails 2)');
    const events = await waitFor(
      async () => receiver.accepted(hookPath),
      (e) => e.filter((x) => x.status === 'Error').length >= 2,
      { what: 'both runs’ hooks' },
    );
    for (const e of events) {
      assert.equal(e.metadata.run_at, job.run_at, `hook ${e.status} of revision ${e.metadata.revision} lost run_at`);
    }
    assert.equal(done.kind, 'Scheduled');
    assert.equal(done.run_at, job.run_at, 'GET of the finished Scheduled job lost run_at after its retry');
  });

  it('a delayed job’s Running and Error hooks carry the update_time of the change (not the submit’s, before run_at)', async () => {
    const hookPath = path();
    const job = await h.submit({
      name: 'TEST_FAIL',
      parameters: {},
      status_hook: receiver.url(hookPath),
      metadata: { kind: 'Scheduled', schedule_delay: 2 },
    });
    const runAt = job.run_at!;
    await h.waitForStatus(job.id, ['Error']);
    const events = await waitFor(
      async () => receiver.accepted(hookPath),
      (e) => e.filter((x) => x.status === 'Error').length >= 2,
      { what: 'both runs’ hooks' },
    );
    // Each of these changes happened once the job was due: Harbor's setStatus writes update_time=now.
    for (const e of events) {
      assert.ok(
        e.metadata.update_time >= runAt,
        `hook ${e.status} (revision ${e.metadata.revision}) says update_time ${e.metadata.update_time}, before run_at ${runAt} (enqueue_time ${job.enqueue_time})`,
      );
    }
  });

  it('an execution of a periodic job carries run_at, its fire time, as Harbor’s executions (kind Scheduled) do', async () => {
    const hookPath = path();
    const periodic = await h.submit({
      name: 'NOOP',
      parameters: { duration_ms: 0 },
      status_hook: receiver.url(hookPath),
      metadata: { kind: 'Periodic', cron_spec: '@yearly' },
    });
    schedules.push(periodic.id);
    assert.equal((await h.request('POST', `/api/v1/jobs/${periodic.id}`, { action: 'trigger' })).status, 204);
    const listed = await waitFor(
      async () => (await (await h.request('GET', `/api/v1/jobs/${periodic.id}/executions`)).json()) as { job: JobStats }[],
      (l) => l.length > 0,
      { what: 'the triggered execution' },
    );
    const execution = await h.waitForStatus(listed[0]!.job.id, ['Success']);
    assert.equal(execution.kind, 'Scheduled');
    assert.equal(execution.upstream_job_id, periodic.id);
    assert.equal(typeof execution.run_at, 'number', `execution stats without run_at: ${JSON.stringify(execution)}`);
    const events = await waitFor(
      async () => receiver.accepted(hookPath),
      (e) => e.some((x) => x.status === 'Success'),
      { what: 'the execution’s hooks' },
    );
    const epoch = Number(events[0]!.job_id.split('@')[1]);
    for (const e of events) assert.equal(e.metadata.run_at, epoch, `hook ${e.status} of ${e.job_id} without its run_at`);
  });

  it('a retried Scheduled job is still a valid Scheduled stats: it keeps its run_at', async () => {
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-review', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Scheduled', schedule_delay: 3600 },
    });
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(job.id, ['Stopped']);
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'retry' })).status, 204);
    const retried = await waitFor(
      () => h.stats(job.id),
      (s) => s.revision > job.revision,
      { what: 'the retried run' },
    );
    try {
      assert.equal(retried.kind, 'Scheduled');
      assert.ok(
        retried.run_at !== undefined && retried.run_at > 0,
        `kind Scheduled without run_at after retry: ${JSON.stringify(retried)}`,
      );
    } finally {
      await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' });
    }
  });

  it('a run that checks in before its Running report posts Harbor’s Running first, without the check-in in its metadata', async () => {
    const hookPath = path();
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-checkin-first', step_ms: 0, hold_ms: 0 },
      status_hook: receiver.url(hookPath),
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(job.id, ['Success']);
    const events = await waitFor(
      async () => receiver.accepted(hookPath),
      (e) => e.some((x) => x.status === 'Success'),
      { what: 'the job’s hooks' },
    );
    const first = events[0]!;
    assert.equal(first.status, 'Running', events.map((e) => e.status).join(', '));
    assert.equal(first.check_in, undefined);
    assert.equal(first.metadata.check_in, undefined, `Harbor's Running carries no check-in: ${JSON.stringify(first.metadata)}`);
    assert.ok(
      events.slice(1).some((e) => e.check_in !== undefined && e.metadata.check_in === e.check_in),
      'the check-ins follow it',
    );
  });

  it('update_time after an API retry is when it was retried: never in the future, never going back in the hooks', async () => {
    // Revisions are kept increasing by +1 when two fall in the same second, and a retry's new run
    // starts with update_time = its revision: with fast runs, the two part. Each attempt is one
    // submit, its two fast failures, a retry at once and the retried run's two failures; the
    // invariant must hold in every attempt (Harbor's reset writes revision = update_time = now).
    for (let attempt = 1; attempt <= 4; attempt++) {
      const hookPath = path();
      const job = await h.submit({ name: 'TEST_FAIL', parameters: {}, status_hook: receiver.url(hookPath), metadata: { kind: 'Generic' } });
      const failed = await h.waitForStatus(job.id, ['Error']);
      assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'retry' })).status, 204);
      const retried = await h.stats(job.id);
      const readAt = nowSec();
      assert.ok(retried.revision > failed.revision, 'the retry answered 204 after starting its run');
      assert.ok(
        retried.update_time <= readAt,
        `attempt ${attempt}: GET right after the retry says update_time ${retried.update_time}, ${retried.update_time - readAt} s in the future (read at ${readAt}; revision ${retried.revision}, status ${retried.status})`,
      );
      const final = await waitFor(
        () => h.stats(job.id),
        (s) => s.revision > retried.revision && s.status === 'Error',
        { what: 'the retried run to fail twice' },
      );
      // The first run's last Error, handed over and still being retried once the retry's run has
      // begun, may be dropped as outdated (Harbor's hook agent drops it once a newer revision is acked).
      const events = await waitFor(
        async () => receiver.accepted(hookPath),
        (e) => e.some((x) => x.status === 'Error' && x.metadata.revision === final.revision),
        { what: 'the retried run’s final hook' },
      );
      const times = events.map((e) => `${e.status}@${e.metadata.revision}:upd=${e.metadata.update_time}`);
      for (let i = 1; i < events.length; i++) {
        assert.ok(
          events[i]!.metadata.update_time >= events[i - 1]!.metadata.update_time,
          `attempt ${attempt}: update_time went back between hook ${i - 1} and ${i}: ${times.join(' ')}`,
        );
      }
    }
  });
});

/**
 * A run stopped before its Running report (within job.running_report_delay_ms, without a check-in)
 * ends through the `op` outcome: its code ran, so Running goes out before Stopped.
 */
describe('a run stopped before it reported Running', () => {
  let h: Harness;
  let receiver: HookReceiver;
  before(async () => {
    receiver = await startHookReceiver();
    h = await createHarness({
      config: testConfig({
        job: { running_report_delay_ms: 60_000, hook_retry_initial_ms: 100, hook_retry_max_seconds: 1, hook_drain_ms: 1000 },
      }),
    });
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  it('posts Running before Stopped: its code ran', async () => {
    const hookPath = 'stopped-early';
    const job = await h.submit({
      name: 'NOOP',
      parameters: { duration_ms: 30_000 },
      status_hook: receiver.url(hookPath),
      metadata: { kind: 'Generic' },
    });
    // The job's code has started: its log says so.
    const logPath = join(h.logDir, `${job.id}.log`);
    await waitFor(
      async () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''),
      (text) => /run of NOOP started/.test(text),
      { what: 'the run to start (its log)' },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    assert.equal((await h.waitForStatus(job.id, ['Stopped', 'Success', 'Error'], 30_000)).status, 'Stopped');
    await waitFor(
      () => h.client.workflow.getHandle(job.id).describe(),
      (d) => d.status.name !== 'RUNNING',
      { timeoutMs: 30_000, what: 'the job to close (its hooks drained)' },
    );
    const events = await waitFor(
      async () => receiver.accepted(hookPath),
      (e) => e.some((x) => x.status === 'Stopped'),
      { what: 'the Stopped hook' },
    );
    assert.deepEqual(
      events.map((e) => `${e.status}${e.check_in !== undefined ? '(ci)' : ''}`),
      ['Running', 'Stopped'],
    );
  });
});
