import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { waitFor } from '../helpers/wait-for.js';

describe('short jobs: runs as local activities under a hard cap', () => {
  let h: Harness;
  let receiver: HookReceiver;
  before(async () => {
    receiver = await startHookReceiver();
    h = await createHarness();
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  const eventTypes = async (id: string) => {
    const history = await h.client.workflow.getHandle(id).fetchHistory();
    return (history.events ?? []).map((e) => Object.keys(e).find((k) => k.endsWith('EventAttributes')) ?? '');
  };
  /** The job's status as the Web UI's search attribute and the status-filtered list show it. */
  const shownAs = async (id: string, status: string) => {
    const described = await h.client.workflow.getHandle(id).describe();
    assert.equal(described.searchAttributes.JobStatus?.[0], status, 'the Web UI search attribute follows');
    // Lists read visibility, which takes the same change a little later than describe.
    const listed = await waitFor(
      async () =>
        (await (await h.request('GET', `/api/v1/jobs?name=TEST_SHORT&status=${status}&page_size=100`)).json()) as { job: JobStats }[],
      (rows) => rows.some((r) => r.job.id === id),
      { what: `${id} listed under ${status}` },
    );
    assert.ok(
      listed.every((r) => r.job.status === status),
      'the list is filtered by status',
    );
  };
  /** Until the job's log shows its short run started. */
  const shortRunStarted = (id: string) =>
    waitFor(
      async () => readFileSync(join(h.logDir, `${id}.log`), 'utf8'),
      (log) => log.includes('short run'),
      { what: 'the short run to start' },
    );
  /** Activity tasks scheduled for the job's run (hook deliveries are activities of their own). */
  const runTasks = async (id: string) => {
    const history = await h.client.workflow.getHandle(id).fetchHistory();
    return (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'executeJob').length;
  };

  it('a NOOP that waits little runs as a local activity, with its log, hooks, status and list as any job', async () => {
    const job = await h.submit({ name: 'NOOP', parameters: {}, status_hook: receiver.url('short'), metadata: { kind: 'Generic' } });
    assert.equal((await h.waitForStatus(job.id, ['Success', 'Error'])).status, 'Success');
    const types = await eventTypes(job.id);
    assert.ok(types.includes('markerRecordedEventAttributes'), 'the run is a local activity marker');
    assert.equal(await runTasks(job.id), 0, 'no activity task of its own');
    assert.match(readFileSync(join(h.logDir, `${job.id}.log`), 'utf8'), /run of NOOP started/);
    await waitFor(
      async () => receiver.accepted('short'),
      (events) => events.some((e) => e.status === 'Success'),
      { what: 'the Success hook' },
    );
    await waitFor(
      async () => (await (await h.request('GET', '/api/v1/jobs?name=NOOP&status=Success&page_size=100')).json()) as { job: JobStats }[],
      (rows) => rows.some((r) => r.job.id === job.id),
      { what: 'the job listed under its status' },
    );
    const described = await h.client.workflow.getHandle(job.id).describe();
    assert.equal(described.searchAttributes.JobStatus?.[0], 'Success', 'the Web UI search attribute follows');

    const long = await h.submit({ name: 'NOOP', parameters: { duration_ms: 100 }, metadata: { kind: 'Generic' } });
    await h.waitForStatus(long.id, ['Success', 'Error'], 30_000);
    assert.equal(await runTasks(long.id), 1, 'a NOOP that waits is an ordinary run');
  });

  it('a run that overruns its cap fails with why, and the job’s retry policy applies', async () => {
    const job = await h.submit({ name: 'TEST_SHORT', parameters: { sleep_ms: 3000 }, metadata: { kind: 'Generic' } });
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Error');
    assert.equal(done.fails, 2, 'both runs the job allows');
    assert.match(done.last_error ?? '', /overran its 1000 ms cap as a short job/);
    // The cap bounds the run's result, not its code: each overrunning attempt still returns, late, and is ignored.
    const log = await waitFor(
      async () => readFileSync(join(h.logDir, `${job.id}.log`), 'utf8'),
      (text) => text.split('run of TEST_SHORT started').length === text.split('run ended after it overran its cap').length,
      { what: 'every overrunning attempt to have returned', timeoutMs: 30_000 },
    );
    assert.equal(log.split('run of TEST_SHORT started').length - 1, 2, 'one try for each of the two runs');
    assert.doesNotMatch(log, /could not report Running/, 'a short run sends no Running report');
  });

  it('a failing short job is retried as any job', async () => {
    const job = await h.submit({ name: 'TEST_SHORT', parameters: { fail: true }, metadata: { kind: 'Generic' } });
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 30_000);
    assert.equal(done.status, 'Error');
    assert.equal(done.fails, 2);
    assert.equal(done.last_error, 'short job failed as asked');
    await shownAs(job.id, 'Error');
  });

  it('a stop reaches a running short job by the end of its run at the latest; a pending one never runs', async () => {
    const job = await h.submit({ name: 'TEST_SHORT', parameters: { sleep_ms: 900 }, metadata: { kind: 'Generic' } });
    await shortRunStarted(job.id);
    const asked = Date.now();
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    // Stopped if the stop got to the run, Success if the run ended first: either way within the cap.
    const ended = await h.waitForStatus(job.id, ['Success', 'Stopped', 'Error']);
    assert.ok(['Stopped', 'Success'].includes(ended.status), ended.status);
    await shownAs(job.id, ended.status);
    assert.ok(Date.now() - asked < 1000 + 2000, `the stop took ${Date.now() - asked} ms`);

    await h.stopWorker();
    const pending = await h.submit({ name: 'TEST_SHORT', parameters: {}, metadata: { kind: 'Generic' } });
    assert.equal((await h.request('POST', `/api/v1/jobs/${pending.id}`, { action: 'stop' })).status, 204);
    await h.startWorker();
    assert.equal((await h.waitForStatus(pending.id, ['Success', 'Stopped', 'Error'])).status, 'Stopped');
    await shownAs(pending.id, 'Stopped');
    assert.ok(!(await eventTypes(pending.id)).includes('markerRecordedEventAttributes'), 'it never ran');
  });

  it('a short job whose workflow is cancelled from Temporal (Web UI, CLI) ends Cancelled, shown so in lists and the Web UI', async () => {
    const job = await h.submit({ name: 'TEST_SHORT', parameters: { sleep_ms: 600 }, metadata: { kind: 'Generic' } });
    await shortRunStarted(job.id);
    await h.client.workflow.getHandle(job.id).cancel();
    assert.equal((await h.waitForStatus(job.id, ['Success', 'Cancelled', 'Stopped', 'Error'])).status, 'Cancelled');
    assert.equal((await h.client.workflow.getHandle(job.id).describe()).status.name, 'CANCELLED');
    await shownAs(job.id, 'Cancelled');
  });
});

describe('a short job waiting for a job slot', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ config: testConfig({ worker_pool: { workers: 1 } }) });
  });
  after(async () => {
    await h.close();
  });
  const log = (id: string) => {
    try {
      return readFileSync(join(h.logDir, `${id}.log`), 'utf8');
    } catch {
      return '';
    }
  };

  it('never starts its code once stopped, when it waited past its workflow task’s heartbeat', async () => {
    const generic = { kind: 'Generic' };
    // The only job slot, held for longer than the 8 s after which the waiting run's workflow task is heartbeated.
    const holder = await h.submit({ name: 'TEST_SHORT_HOLD', parameters: { hold_ms: 10_000 }, metadata: generic });
    await waitFor(
      async () => log(holder.id),
      (text) => text.includes('holding'),
      { what: 'the holder to take the slot' },
    );
    const waiting = await h.submit({ name: 'TEST_SHORT_HOLD', parameters: { hold_ms: 0 }, metadata: generic });
    // Stopped once its first workflow task (the one that schedules the run) has started: a stop
    // before that would meet the workflow before its run was scheduled.
    await waitFor(
      async () => (await h.client.workflow.getHandle(waiting.id).fetchHistory()).events ?? [],
      (events) => events.some((e) => e.workflowTaskStartedEventAttributes),
      { what: 'the waiting job’s first workflow task to start' },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${waiting.id}`, { action: 'stop' })).status, 204);
    assert.equal((await h.waitForStatus(waiting.id, ['Success', 'Stopped', 'Error'], 40_000)).status, 'Stopped');
    const text = log(waiting.id);
    assert.ok(!text.includes('holding'), `its code never ran; its log:\n${text}`);
    assert.match(text, /not started: stop was given while the run waited for a job slot/);
    assert.equal((await h.waitForStatus(holder.id, ['Success', 'Stopped', 'Error'], 20_000)).status, 'Success');
  });
  // With a status hook, the workflow task that holds a short run sends the hooks as the job ends and
  // does not end the workflow, so the server took it with a stop waiting: the job ended Success and
  // the stop, answered 204, found it final (a WEBHOOK core stopped was reported Success).
  for (const [label, holdMs] of [
    ['while its run is under way', 0],
    ['while it waits for the job slot', 3000],
  ] as const) {
    it(`with a status hook, stopped ${label}: it ends Stopped, and Stopped is the last hook`, async () => {
      const receiver = await startHookReceiver();
      try {
        const generic = { kind: 'Generic' };
        const holder =
          holdMs > 0 ? await h.submit({ name: 'TEST_SHORT_HOLD', parameters: { hold_ms: holdMs }, metadata: generic }) : undefined;
        if (holder)
          await waitFor(
            async () => log(holder.id),
            (text) => text.includes('holding'),
            { what: 'the holder to take the slot' },
          );
        const job = await h.submit({
          name: 'TEST_SHORT_HOLD',
          parameters: { hold_ms: 2000 },
          status_hook: receiver.url('hooked'),
          metadata: generic,
        });
        if (holder) {
          await waitFor(
            async () => (await h.client.workflow.getHandle(job.id).fetchHistory()).events ?? [],
            (events) => events.some((e) => e.workflowTaskStartedEventAttributes),
            { what: 'its first workflow task to start' },
          );
          assert.equal((await h.stats(job.id)).status, 'Pending');
        } else {
          await waitFor(
            async () => log(job.id),
            (text) => text.includes('holding'),
            { what: 'its run to start' },
          );
        }
        assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
        assert.equal((await h.waitForStatus(job.id, ['Success', 'Stopped', 'Error'], 30_000)).status, 'Stopped');
        const hooks = await waitFor(
          async () => receiver.accepted('hooked').map((e) => e.status),
          (statuses) => statuses.includes('Stopped') || statuses.includes('Success'),
          { what: 'its final hook' },
        );
        assert.equal(hooks.at(-1), 'Stopped', JSON.stringify(hooks));
        assert.ok(!hooks.includes('Success'), JSON.stringify(hooks));
        if (holder) assert.equal((await h.waitForStatus(holder.id, ['Success', 'Stopped', 'Error'], 20_000)).status, 'Success');
      } finally {
        await receiver.close();
      }
    });
  }
});
